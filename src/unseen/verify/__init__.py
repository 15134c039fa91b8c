"""Checks run on each written output: is any face still visible, is any obscured face still recognisable."""
