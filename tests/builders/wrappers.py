"""Containers that hide a payload one level down: joblib's zlib compression, 7z, gzip, zip-in-zip."""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib


def joblib_zlib(stream: bytes, level: int = 3) -> bytes:
    """What ``joblib.dump(..., compress=level)`` writes: a zlib stream of the pickle."""
    return zlib.compress(stream, level)


def sevenzip(name: str, data: bytes) -> bytes:
    import py7zr

    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        archive.writestr(data, name)
    return buf.getvalue()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()
