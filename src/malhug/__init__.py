"""MalHug: find malicious code in pre-trained models and datasets before it runs."""

__version__ = "0.1.0"
