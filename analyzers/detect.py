"""Format detection from bytes, never from file names (a ``.txt`` that is a PyTorch zip is one).

First version: magic numbers only. The containers work refines this (zip layouts, legacy torch,
joblib, SavedModel protobufs, Python source heuristics).
"""

from __future__ import annotations

from malhug.analyzers import formats
from malhug.analyzers.source import ByteSource


def detect_format(src: ByteSource, name: str = "") -> str:
    head = src.read_at(0, 64)
    if not head:
        return formats.TEXT
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return formats.ZIP
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return formats.SEVEN_ZIP
    if head.startswith(b"\x1f\x8b"):
        return formats.GZIP
    if head.startswith(b"BZh"):
        return formats.BZ2
    if head.startswith(b"\xfd7zXZ\x00"):
        return formats.XZ
    if head.startswith(b"\x04\x22\x4d\x18"):
        return formats.LZ4
    if head.startswith(b"\x93NUMPY"):
        return formats.NUMPY
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return formats.HDF5
    if head.startswith(b"GGUF"):
        return formats.GGUF
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return formats.PICKLE
    return formats.UNKNOWN
