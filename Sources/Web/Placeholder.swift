// Web module: see DESIGN.md
