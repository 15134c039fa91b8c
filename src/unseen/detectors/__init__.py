"""Face detectors: each is a callable from an RGB image to Faces, so they compose."""
