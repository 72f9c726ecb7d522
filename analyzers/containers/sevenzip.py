"""7z archives (a known miss of other scanners): sizes are checked from the header before anything
is extracted, extraction goes to memory under a byte budget, then each member is analyzed."""

from __future__ import annotations

import lzma
import struct
from typing import IO, cast

import py7zr
import py7zr.exceptions
from py7zr.io import Py7zIO, WriterFactory

from malhug.analyzers.containers.common import check_member_name, scan_member
from malhug.analyzers.containers.inflate import check_dictionary
from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import LimitExceeded, Limits, MalformedInput
from malhug.analyzers.shared.slices import BoundedSourceIO
from malhug.analyzers.shared.source import ByteSource
from malhug.core.rules import finding

RATIO_FLOOR = 1024 * 1024
# What py7zr raises on corrupt headers or data (it does not wrap its parsers' errors).
_CORRUPT = (
    py7zr.exceptions.ArchiveError,
    lzma.LZMAError,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AssertionError,
    OverflowError,
)


class _Budget:
    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0


class _MemberIO(Py7zIO):
    def __init__(self, budget: _Budget):
        self._budget = budget
        self.chunks: list[bytes] = []
        self._size = 0

    def write(self, s: bytes | bytearray) -> int:
        self._budget.used += len(s)
        if self._budget.used > self._budget.limit:
            raise LimitExceeded("7z decompressed bytes", self._budget.limit, self._budget.used)
        self.chunks.append(bytes(s))
        self._size += len(s)
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b"".join(self.chunks)

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self._size


class _Factory(WriterFactory):
    def __init__(self, limits: Limits):
        self.budget = _Budget(limits.max_decompressed_bytes)
        self.products: dict[str, _MemberIO] = {}

    def create(self, filename: str) -> Py7zIO:
        product = _MemberIO(self.budget)
        self.products[filename] = product
        return product


def _check_sizes(ctx: ScanContext, archive: py7zr.SevenZipFile, packed: int) -> None:
    entries = archive.list()
    if len(entries) > ctx.limits.max_members:
        raise LimitExceeded("7z members", ctx.limits.max_members, len(entries))
    total = sum(e.uncompressed or 0 for e in entries)
    if total > ctx.limits.max_decompressed_bytes:
        raise LimitExceeded("7z declared decompressed bytes", ctx.limits.max_decompressed_bytes, total)
    if total > RATIO_FLOOR and total > ctx.limits.max_compression_ratio * max(packed, 1):
        raise LimitExceeded("7z compression ratio", ctx.limits.max_compression_ratio, total // max(packed, 1))


_LZMA1 = b"\x03\x01\x01"
_LZMA2 = b"\x21"
_PPMD = b"\x03\x04\x01"


def coder_memory(method: bytes, props: bytes | None) -> int:
    """The memory a 7z coder's properties ask for (an LZMA/LZMA2 dictionary, a PPMd model), 0 if
    the coder's memory is fixed."""
    props = props or b""
    if method == _LZMA1 and len(props) >= 5:
        return int.from_bytes(props[1:5], "little")
    if method == _LZMA2 and props:
        bits = props[0] & 0x3F
        return 0xFFFFFFFF if bits >= 40 else (2 | (bits & 1)) << (bits // 2 + 11)
    if method == _PPMD and len(props) >= 5:
        return int.from_bytes(props[1:5], "little")
    return 0


def _check_coders(archive: py7zr.SevenZipFile, memlimit: int) -> None:
    """Refuse a folder whose coders ask for more decoder memory than ``memlimit`` before py7zr
    allocates it (liblzma's raw decoder takes no memory limit; a 7z header may ask for 4 GiB)."""
    streams = getattr(archive.header, "main_streams", None)
    unpack = getattr(streams, "unpackinfo", None)
    for folder in getattr(unpack, "folders", None) or ():
        for coder in folder.coders:
            check_dictionary(coder_memory(coder.get("method", b""), coder.get("properties")), memlimit, "7z")


_ENCODED_HEADER = 0x17
MAX_ENCODED_HEADER = 1 << 20  # an encoded (compressed) header's own description is tens of bytes
# Coder records in a header: flags (id size, 0x20 = has properties), id, properties size, properties.
_HEADER_CODERS = ((b"\x23\x03\x01\x01\x05", _LZMA1, 5), (b"\x21\x21\x01", _LZMA2, 1))


def check_header_coders(src: ByteSource, memlimit: int) -> None:
    """An encoded header is decompressed by py7zr as soon as the archive is opened, with the
    coder its description names: refuse a dictionary over ``memlimit`` before that (a 7z whose
    header asks liblzma for 4 GiB)."""
    start = src.read_at(0, 32)
    if len(start) < 32:
        return
    offset, size = struct.unpack_from("<QQ", start, 12)
    if size == 0 or size > MAX_ENCODED_HEADER or 32 + offset + size > src.size:
        return  # py7zr reports an impossible header itself
    header = src.read_at(32 + offset, size)
    if not header or header[0] != _ENCODED_HEADER:
        return
    for pattern, method, width in _HEADER_CODERS:
        at = header.find(pattern)
        while at >= 0:
            props = header[at + len(pattern) : at + len(pattern) + width]
            check_dictionary(coder_memory(method, props), memlimit, "7z header")
            at = header.find(pattern, at + 1)


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    check_header_coders(src, ctx.limits.max_decoder_memory)
    try:
        extracted = _extract(ctx, src)
    except py7zr.exceptions.PasswordRequired as exc:
        ctx.add(finding("MH203", "7z archive has encrypted headers: its content cannot be analyzed", evidence=str(exc)))
        return
    except py7zr.exceptions.DecompressionBombError as exc:
        raise LimitExceeded("7z decompressed bytes", ctx.limits.max_decompressed_bytes) from exc
    except py7zr.exceptions.UnsupportedCompressionMethodError as exc:
        ctx.add(finding("MH204", f"7z archive uses an unsupported method: {exc}", evidence=str(exc)[:300]))
        return
    except _CORRUPT as exc:
        raise MalformedInput(f"7z: {type(exc).__name__}: {exc}", offset=0) from exc
    for name, data in extracted.items():
        ctx.check_time()
        if data:
            scan_member(ctx, data, name)


def _extract(ctx: ScanContext, src: ByteSource) -> dict[str, bytes]:
    """Every member's content, within the byte budget (encrypted members: MH203, nothing extracted)."""
    fileobj = cast(IO[bytes], BoundedSourceIO(src))
    with py7zr.SevenZipFile(fileobj, mode="r", max_extract_size=ctx.limits.max_decompressed_bytes) as archive:
        names = archive.getnames()
        for name in names:
            check_member_name(ctx, name)
        if archive.needs_password():
            ctx.add(
                finding(
                    "MH203",
                    "7z archive members are encrypted: their content cannot be analyzed",
                    evidence=", ".join(names)[:300],
                )
            )
            return {}
        _check_sizes(ctx, archive, src.size)
        _check_coders(archive, ctx.limits.max_decoder_memory)
        factory = _Factory(ctx.limits)
        archive.extractall(factory=factory)
    return {name: product.read() for name, product in factory.products.items()}
