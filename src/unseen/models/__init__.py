"""Model files shipped inside the package (see MODELS.md beside this file)."""
