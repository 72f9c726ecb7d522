"""CLI start-up benchmark (``make bench-startup``)."""
