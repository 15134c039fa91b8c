"""Reading and writing media files, and what of their metadata may survive."""
