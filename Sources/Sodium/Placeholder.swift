// Sodium module: see DESIGN.md
