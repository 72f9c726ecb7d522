"""The standing fuzz campaign: one hypothesis target per parser (see README.md in this folder)."""
