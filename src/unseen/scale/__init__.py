"""Running the same job beyond one process: on a Ray cluster (ray_run.py)."""
