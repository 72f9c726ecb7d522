"""Compressed streams (gzip, bz2, xz/lzma, lz4 frame, zlib incl. joblib's z-files): bounded
streaming decompression, then the content is detected and analyzed like any file.

Whatever decompresses before a corrupt or truncated point, or before a decompression limit (a bomb
behind a payload), is analyzed first (a payload placed before a deliberate fault still runs), then
the fault or the limit is reported.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from malhug.analyzers import formats
from malhug.analyzers.containers.common import scan_member
from malhug.analyzers.containers.inflate import (
    Inflater,
    bz2_inflater,
    inflate,
    lz4_inflater,
    lzma_inflater,
    source_chunks,
    zlib_inflater,
)
from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import MalformedInput
from malhug.analyzers.shared.source import ByteSource
from malhug.core.model import Location
from malhug.core.rules import finding

GZIP_MAGIC = b"\x1f\x8b"
JOBLIB_ZFILE = b"ZF"
JOBLIB_ZFILE_HEADER = 2 + 19  # b"ZF" + hex length padded to 19 characters


def _gzip_name(head: bytes) -> str | None:
    """The original file name stored in a gzip header (FNAME), if any."""
    if len(head) < 10 or not head[3] & 0x08:
        return None
    pos = 10
    if head[3] & 0x04:  # FEXTRA
        if len(head) < 12:
            return None
        pos += 2 + struct.unpack_from("<H", head, 10)[0]
    end = head.find(b"\x00", pos)
    if end < 0:
        return None
    return head[pos:end].decode("latin-1")[:200] or None


def _stream(head: bytes, memlimit: int) -> tuple[str, int, Callable[[], Inflater], Callable[[bytes], bool] | None]:
    """(kind, offset of the stream, inflater factory, "starts another stream?")"""

    def xz() -> Inflater:
        return lzma_inflater(memlimit)

    if head.startswith(GZIP_MAGIC):
        return formats.GZIP, 0, zlib_inflater(31), lambda rest: rest.startswith(GZIP_MAGIC)
    if head.startswith(b"BZh"):
        return formats.BZ2, 0, bz2_inflater, lambda rest: rest.startswith(b"BZh")
    if head.startswith(b"\x04\x22\x4d\x18"):
        return formats.LZ4, 0, lz4_inflater, lambda rest: rest.startswith(b"\x04\x22\x4d\x18")
    if head.startswith(b"ZF0x"):
        offset = JOBLIB_ZFILE_HEADER
        while offset < len(head) and head[offset : offset + 1] == b" ":
            offset += 1
        return formats.ZLIB, offset, zlib_inflater(15), None
    if head[:1] == b"\x78":
        return formats.ZLIB, 0, zlib_inflater(15), None
    if head.startswith(b"\xfd7zXZ\x00"):
        return formats.XZ, 0, xz, lambda rest: rest.startswith(b"\xfd7zXZ\x00")
    return formats.XZ, 0, xz, None  # legacy .lzma ("alone") stream


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    head = src.read_at(0, 1024)
    kind, offset, factory, next_stream = _stream(head, ctx.limits.max_decoder_memory)
    result = inflate(
        source_chunks(src, offset, src.size - offset),
        factory,
        limit=ctx.limits.max_decompressed_bytes,
        ratio=ctx.limits.max_compression_ratio,
        what=f"{kind} decompressed",
        next_stream=next_stream,
        on_step=ctx.check_time,
        keep_partial=True,
    )
    member = (_gzip_name(head) if kind == formats.GZIP else None) or f"<{kind}>"
    if result.data:
        # A bomb's prefix too: ``pickle.load`` of the stream runs a payload that comes out first.
        scan_member(ctx, result.data, member)
    if result.limit is not None:
        raise result.limit
    if result.error is not None:
        raise MalformedInput(f"{kind} stream: {result.error}", offset=offset)
    if not result.complete:
        raise MalformedInput(f"{kind} stream is truncated after {len(result.data)} decompressed bytes", offset=src.size)
    if result.trailing and result.trailing.strip(b"\x00"):
        ctx.add(
            finding(
                "MH207",
                f"data follows the end of the {kind} stream",
                location=Location(offset=result.consumed),
                evidence=result.trailing.hex(),
            )
        )
