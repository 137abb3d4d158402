// MariaDB module: see DESIGN.md
