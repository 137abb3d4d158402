// App module: see DESIGN.md
