"""Byte-level zip surgery for fixtures: set flag bits, break CRCs, change methods, build sparse zip64."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

LOCAL, CENTRAL = b"PK\x03\x04", b"PK\x01\x02"


def _headers(data: bytes, name: str) -> list[tuple[int, int]]:
    """(offset, kind) of the local (0) and central (1) headers that carry ``name``."""
    found = []
    raw = name.encode()
    for sig, kind, name_at, fixed in ((LOCAL, 0, 26, 30), (CENTRAL, 1, 28, 46)):
        pos = data.find(sig)
        while pos >= 0:
            (name_len,) = struct.unpack_from("<H", data, pos + name_at)
            if data[pos + fixed : pos + fixed + name_len] == raw:
                found.append((pos, kind))
            pos = data.find(sig, pos + 1)
    assert len(found) == 2, f"expected one local and one central header for {name}, got {found}"
    return found


def patch_field(
    data: bytes, name: str, *, local_at: int, central_at: int, fmt: str, change: Callable[[int], int]
) -> bytes:
    out = bytearray(data)
    for pos, kind in _headers(data, name):
        at = pos + (local_at if kind == 0 else central_at)
        (value,) = struct.unpack_from(fmt, out, at)
        struct.pack_into(fmt, out, at, change(value))
    return bytes(out)


def set_flags(data: bytes, name: str, mask: int) -> bytes:
    return patch_field(data, name, local_at=6, central_at=8, fmt="<H", change=lambda v: v | mask)


def break_crc(data: bytes, name: str) -> bytes:
    return patch_field(data, name, local_at=14, central_at=16, fmt="<I", change=lambda v: v ^ 0xDEADBEEF)


def set_method(data: bytes, name: str, method: int) -> bytes:
    return patch_field(data, name, local_at=8, central_at=10, fmt="<H", change=lambda v: method)


def set_declared_size(data: bytes, name: str, size: int) -> bytes:
    return patch_field(data, name, local_at=22, central_at=24, fmt="<I", change=lambda v: size)


def sparse_zip64(path: Path, entries: list[tuple[str, bytes | int]]) -> None:
    """A stored zip64 archive; an ``int`` entry is that many bytes of zeros left as a hole (never
    written, so a 4 GiB member costs nothing on disk). CRCs of holes are left 0: nobody reads them."""
    central = bytearray()
    with path.open("wb") as f:
        for name, content in entries:
            offset = f.tell()
            raw = name.encode()
            size = content if isinstance(content, int) else len(content)
            crc = 0 if isinstance(content, int) else zlib.crc32(content)
            extra = struct.pack("<HHQQ", 1, 16, size, size)
            f.write(
                struct.pack(
                    "<4sHHHHHIIIHH", LOCAL, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(raw), len(extra)
                )
            )
            f.write(raw + extra)
            if isinstance(content, int):
                f.seek(size, 1)
            else:
                f.write(content)
            cextra = struct.pack("<HHQQQ", 1, 24, size, size, offset)
            central += struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                CENTRAL,
                45,
                45,
                0,
                0,
                0,
                0x21,
                crc,
                0xFFFFFFFF,
                0xFFFFFFFF,
                len(raw),
                len(cextra),
                0,
                0,
                0,
                0,
                0xFFFFFFFF,
            )
            central += raw + cextra
        cd_start = f.tell()
        f.write(central)
        z64_at = f.tell()
        n = len(entries)
        f.write(struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, len(central), cd_start))
        f.write(struct.pack("<4sIQI", b"PK\x06\x07", 0, z64_at, 1))
        f.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
