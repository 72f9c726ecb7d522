"""Frozen resource limits for every parser: hostile input is the normal case.

Exceeding a limit raises ``LimitExceeded``; the dispatcher turns it into an MH902 finding
(``resource-abuse``) and the file is never reported clean.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds every parser applies; ``DEFAULT_LIMITS`` unless a caller passes its own."""

    # Whole-stream reads (a pickle, a script, a JSON header) larger than this are refused.
    max_stream_bytes: int = 256 * 1024 * 1024
    # Total bytes produced by decompressing one member or stream (zip/zlib/gzip bombs).
    max_decompressed_bytes: int = 512 * 1024 * 1024
    # Compression ratio above which a member is treated as a bomb (checked with the size above).
    max_compression_ratio: int = 2000
    # Pickle machine: set from benign files measured with tools/measure_pickle_limits.py
    # (analyzers/LIMITS.md): a 53 MB tokenizer-like pickle needs 7.6M opcodes and 2.8M memo entries.
    max_pickle_ops: int = 20_000_000
    max_memo_entries: int = 4_000_000
    max_stack_depth: int = 100_000
    max_expression_depth: int = 200
    # Containers inside containers, pickles inside pickles, code strings inside code strings.
    max_nesting_depth: int = 8
    # Side files (files a scanned file names and its loader opens) followed from one top-level file.
    max_side_files: int = 64
    # Members of one archive, entries of one zip directory.
    max_members: int = 100_000
    # Python and template sources.
    max_source_bytes: int = 8 * 1024 * 1024
    # Wall-clock time for one top-level file, all nesting included.
    max_seconds: float = 60.0
    # Memory one decompressor may allocate for its own state (an LZMA/xz dictionary, a 7z coder),
    # given to the C library as its memory limit or checked against the stream's header (#15).
    max_decoder_memory: int = 256 * 1024 * 1024
    # Statements of one Python source (CPython's tree, counted before libcst parses it): the largest
    # real loading scripts and modeling files hold a few thousand (#15).
    max_source_statements: int = 20_000
    # Readers that run a C library in a killable worker process (HDF5): wall-clock time for one
    # file's reading (within ``max_seconds``) and the worker's address space (RLIMIT_AS).
    max_worker_seconds: float = 30.0
    max_worker_memory: int = 1024 * 1024 * 1024


DEFAULT_LIMITS = Limits()


class LimitExceeded(Exception):
    """A resource bound was hit; analysis of the current stream stops here."""

    def __init__(self, what: str, limit: float, actual: float | None = None):
        self.what = what
        self.limit = limit
        self.actual = actual
        detail = f"{what} exceeds the limit of {limit:g}"
        if actual is not None:
            detail += f" (found {actual:g})"
        super().__init__(detail)


class MalformedInput(Exception):
    """The input breaks its format; ``offset`` says where, when known."""

    def __init__(self, message: str, offset: int | None = None):
        self.offset = offset
        super().__init__(message)
