"""Task configs (YAML), shipped inside the package as `lipeval.tasks`."""
