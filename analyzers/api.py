"""The analyzers' public entry points."""

from malhug.analyzers.dispatch import scan_bytes, scan_file, scan_path, scan_source
from malhug.analyzers.limits import DEFAULT_LIMITS, Limits

__all__ = ["DEFAULT_LIMITS", "Limits", "scan_bytes", "scan_file", "scan_path", "scan_source"]
