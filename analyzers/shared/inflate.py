"""Bounded streaming decompression shared by zip members and compressed streams (bomb-proof).

Output is produced in steps of at most the remaining budget, so a bomb never allocates more than
``limit`` + one step; a stream whose output outgrows ``ratio`` times its consumed input is a bomb too.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import lz4.frame

from malhug.analyzers.limits import DEFAULT_LIMITS, LimitExceeded
from malhug.analyzers.shared.source import ByteSource

# Ratios are only meaningful once the output is large: a 1 KiB run of zeros compresses 100:1.
RATIO_FLOOR = 1024 * 1024
CHUNK = 256 * 1024


class Inflater(Protocol):
    """One decompression stream behind a common face."""

    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    @property
    def has_pending(self) -> bool:
        """Output or input is buffered inside: call ``feed(b"", n)`` again before new input."""
        ...

    def feed(self, data: bytes, max_length: int) -> bytes: ...


class _Zlib:
    def __init__(self, wbits: int):
        self._d = zlib.decompressobj(wbits)
        self._tail = b""

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    @property
    def has_pending(self) -> bool:
        return bool(self._tail)

    def feed(self, data: bytes, max_length: int) -> bytes:
        out = self._d.decompress(self._tail + data, max(1, max_length))
        self._tail = self._d.unconsumed_tail
        return out


class _Buffered:
    """bz2 / lzma / lz4 decompressors: they buffer internally and report ``needs_input``."""

    def __init__(
        self,
        d: bz2.BZ2Decompressor | lzma.LZMADecompressor | lz4.frame.LZ4FrameDecompressor,
        memlimit: int | None = None,
    ):
        self._d = d
        self.memlimit = memlimit  # the decoder memory limit given to liblzma, if any

    @property
    def eof(self) -> bool:
        return bool(self._d.eof)

    @property
    def unused_data(self) -> bytes:
        return bytes(self._d.unused_data or b"")

    @property
    def has_pending(self) -> bool:
        return not self._d.needs_input and not self._d.eof

    def feed(self, data: bytes, max_length: int) -> bytes:
        return bytes(self._d.decompress(data, max_length=max(1, max_length)))


def zlib_inflater(wbits: int) -> Callable[[], Inflater]:
    """-15 raw deflate (zip), 15 zlib, 31 gzip."""
    return lambda: _Zlib(wbits)


def bz2_inflater() -> Inflater:
    return _Buffered(bz2.BZ2Decompressor())


def lzma_inflater(memlimit: int = DEFAULT_LIMITS.max_decoder_memory) -> Inflater:
    """xz or legacy .lzma ("alone") streams; liblzma refuses a dictionary over ``memlimit`` (a
    32-byte header may announce 4 GiB) with ``MemoryLimit`` instead of allocating it."""
    return _Buffered(lzma.LZMADecompressor(lzma.FORMAT_AUTO, memlimit=memlimit), memlimit)


def lz4_inflater() -> Inflater:
    return _Buffered(lz4.frame.LZ4FrameDecompressor())


def raw_lzma1_inflater(props: bytes, memlimit: int = DEFAULT_LIMITS.max_decoder_memory) -> Inflater:
    """The LZMA flavour of zip members (method 14): raw LZMA1 with the properties from the member.
    liblzma takes no memory limit for raw streams: the dictionary size is checked here."""
    filt = lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)  # type: ignore[attr-defined]
    check_dictionary(filt.get("dict_size", 0), memlimit, "lzma")
    return _Buffered(lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[filt]))


def check_dictionary(size: int, memlimit: int, what: str) -> None:
    """``LimitExceeded`` when a stream header asks the decoder for a dictionary over ``memlimit``."""
    if size > memlimit:
        raise LimitExceeded(f"{what} decoder dictionary (bytes)", memlimit, size)


def source_chunks(src: ByteSource, offset: int, length: int, first: int = CHUNK) -> Iterator[bytes]:
    """``length`` bytes of ``src`` from ``offset`` in chunks; the first chunk may be smaller."""
    end = offset + length
    step = first
    while offset < end:
        data = src.read_at(offset, min(step, end - offset))
        if not data:
            return
        yield data
        offset += len(data)
        step = CHUNK


class _Corrupt(Exception):
    pass


@dataclass(eq=False, slots=True)
class Inflated:
    """What a bounded decompression produced."""

    data: bytes
    complete: bool  # the stream(s) reached their end marker
    consumed: int  # compressed bytes read
    trailing: bytes  # bytes after the last stream that do not start another one (first 64)
    truncated_output: bool  # stopped at ``want`` bytes
    error: str | None = None  # corrupt data: ``data`` holds what came out before it
    limit: LimitExceeded | None = None  # a bomb (``keep_partial``): ``data`` holds what came out before the limit


def inflate(
    chunks: Iterator[bytes],
    factory: Callable[[], Inflater],
    *,
    limit: int,
    ratio: int,
    want: int | None = None,
    what: str = "decompressed",
    next_stream: Callable[[bytes], bool] | None = None,
    on_step: Callable[[], None] | None = None,
    keep_partial: bool = False,
) -> Inflated:
    """Decompress at most ``limit`` bytes (``LimitExceeded`` beyond), or stop early at ``want``.

    With ``keep_partial``, a bomb does not raise: the result holds the output produced before the
    limit (at most ``limit`` bytes) and the ``LimitExceeded`` in ``limit``. A loader stops at the end of
    a pickle, so a payload at the start of a bomb runs: the caller analyzes that prefix, then reports.

    ``next_stream(unused)`` says whether data after one stream's end starts another stream of the
    same kind (gzip members, concatenated bz2/xz); otherwise that data is returned as ``trailing``.
    """
    cap = limit if want is None else min(want, limit)
    out = bytearray()
    consumed = 0
    inf = factory()
    trailing = b""

    def check() -> None:
        if len(out) > limit:
            raise LimitExceeded(f"{what} bytes", limit, len(out))
        if len(out) > RATIO_FLOOR and len(out) > ratio * max(consumed, 1):
            raise LimitExceeded(f"{what} compression ratio", ratio, len(out) // max(consumed, 1))
        if on_step is not None:
            on_step()

    def drain(data: bytes) -> bytes:
        """Feed ``data`` and pull output; returns data left after the end of the stream."""
        nonlocal inf
        try:
            out.extend(inf.feed(data, cap - len(out) + 1))
            check()
            while inf.has_pending and len(out) <= cap:
                piece = inf.feed(b"", cap - len(out) + 1)
                if not piece and inf.has_pending:
                    break
                out.extend(piece)
                check()
        except lzma.LZMAError as exc:
            if "memory usage limit" in str(exc).lower():
                memlimit = getattr(inf, "memlimit", None) or DEFAULT_LIMITS.max_decoder_memory
                raise LimitExceeded(f"{what}: decoder memory (dictionary, bytes)", memlimit) from exc
            raise _Corrupt(f"corrupt compressed data after {len(out)} output bytes: {exc}") from exc
        except (zlib.error, OSError, EOFError, RuntimeError, ValueError) as exc:
            raise _Corrupt(f"corrupt compressed data after {len(out)} output bytes: {exc}") from exc
        if inf.eof and inf.unused_data:
            return inf.unused_data
        return b""

    error: str | None = None
    exceeded: LimitExceeded | None = None
    try:
        for chunk in chunks:
            consumed += len(chunk)
            rest = drain(chunk)
            while rest:
                if next_stream is not None and next_stream(rest):
                    inf = factory()
                    rest = drain(rest)
                else:
                    trailing = rest[:64]
                    break
            if trailing or len(out) >= cap or (inf.eof and next_stream is None):
                break
    except _Corrupt as exc:
        error = str(exc)
    except LimitExceeded as exc:
        if not keep_partial:
            raise
        exceeded = exc
    truncated = want is not None and len(out) >= cap
    if len(out) > cap:
        del out[cap:]  # in place: a slice would copy up to ``limit`` bytes once more
    return Inflated(
        bytes(out),
        complete=inf.eof,
        consumed=consumed,
        trailing=trailing,
        truncated_output=truncated,
        error=error,
        limit=exceeded,
    )
