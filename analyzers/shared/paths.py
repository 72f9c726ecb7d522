"""Relative paths that a model file names (ONNX external data, SavedModel assets)."""

from __future__ import annotations

import posixpath
import re

_DRIVE = re.compile(r"^[A-Za-z]:")


def escapes_folder(location: str) -> bool:
    """True when a path that should be relative to the model's folder leaves it (absolute, drive
    letter, UNC, or more ``..`` than folders); ``sub/../x`` stays inside."""
    loc = location.replace("\\", "/")
    if loc.startswith("/") or _DRIVE.match(loc):
        return True
    return posixpath.normpath(loc).split("/")[0] == ".."
