"""safetensors: validate the header only (length, JSON, tensor entries, offsets, ``__metadata__``).

The format cannot execute code; what can go wrong is a header that loaders parse differently or
that points outside the data. Only the first ``8 + header_len`` bytes are read, so a hub scan of a
multi-gigabyte file is one small range request. Words in ``__metadata__`` are never findings.
"""

from __future__ import annotations

import json
from typing import Any

from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import MalformedInput
from malhug.analyzers.shared.source import ByteSource
from malhug.core.model import Location
from malhug.core.rules import finding

MAX_HEADER = 100 * 1024 * 1024
MAX_REPORTED = 5
DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "I64": 64,
    "U64": 64,
    "F64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}


def _is_uint(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _short(value: Any) -> str:
    """At most 80 characters of ``value`` (a list of a million items is not printed whole first)."""
    if isinstance(value, list) and len(value) > 4:
        head = ", ".join(str(v)[:20] for v in value[:3])
        return f"[{head}, ... {len(value)} items]"
    return str(value)[:80]


def _bits(shape: list[int], width: int, limit: int) -> int | None:
    """``prod(shape) * width``, or None once it exceeds ``limit``: a shape of a million huge
    dimensions would otherwise cost a quadratic big-integer product (and overflow a float)."""
    if 0 in shape:
        return 0
    total = width
    for d in shape:
        total *= d
        if total > limit:
            return None
    return total


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


class _Checker:
    def __init__(self, ctx: ScanContext, data_size: int):
        self.ctx = ctx
        self.data_size = data_size
        self.problems: dict[str, list[str]] = {}

    def problem(self, rule: str, text: str) -> None:
        self.problems.setdefault(rule, []).append(text)

    def tensor(self, name: str, entry: Any) -> tuple[int, int, str] | None:
        if not isinstance(entry, dict):
            self.problem("MH421", f"{name!r} is not an object")
            return None
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if dtype not in DTYPE_BITS:
            self.problem("MH421", f"{name!r} has unknown dtype {dtype!r}")
            return None
        if not isinstance(shape, list) or not all(_is_uint(d) for d in shape):
            self.problem("MH421", f"{name!r} has a bad shape {_short(shape)}")
            return None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_uint(o) for o in offsets)):
            self.problem("MH421", f"{name!r} has bad data_offsets {_short(offsets)}")
            return None
        begin, end = offsets
        if begin > end or end > self.data_size:
            self.problem(
                "MH422", f"{name!r} data_offsets [{begin}, {end}] outside the {self.data_size}-byte data section"
            )
            return None
        bits = _bits(shape, DTYPE_BITS[dtype], 8 * (end - begin))
        if bits is None or bits % 8 or bits // 8 != end - begin:
            needs = "more" if bits is None else f"{bits / 8:g}"
            self.problem("MH421", f"{name!r} is {end - begin} bytes but {dtype}{_short(shape)} needs {needs}")
        return begin, end, name

    def coverage(self, ranges: list[tuple[int, int, str]]) -> None:
        if self.problems:
            return  # gaps are only meaningful once every entry is valid
        ranges.sort()
        cursor, last = 0, ""
        for begin, end, name in ranges:
            if begin < cursor:
                self.problem("MH422", f"{name!r} [{begin}, {end}] overlaps {last!r}")
            elif begin > cursor:
                self.problem("MH423", f"{begin - cursor} unreferenced bytes before {name!r}")
            if end >= cursor:
                cursor, last = end, name
        if cursor < self.data_size:
            self.problem("MH423", f"{self.data_size - cursor} unreferenced bytes after the last tensor")

    def report(self) -> None:
        for rule, texts in self.problems.items():
            more = f" and {len(texts) - MAX_REPORTED} more" if len(texts) > MAX_REPORTED else ""
            self.ctx.add(
                finding(
                    rule, "safetensors header: " + "; ".join(texts[:MAX_REPORTED]) + more, location=Location(offset=8)
                )
            )


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    head = src.read_at(0, 8)
    if len(head) < 8:
        raise MalformedInput("safetensors: file shorter than its 8-byte header length", 0)
    n = int.from_bytes(head, "little")
    if n > MAX_HEADER or n > src.size - 8:
        what = "exceeds 100 MB" if n > MAX_HEADER else f"exceeds the file size ({src.size} bytes)"
        ctx.add(
            finding("MH420", f"safetensors header length {n} {what}", location=Location(offset=0), evidence=head.hex())
        )
        return
    raw = src.read_at(8, n)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        ctx.add(
            finding(
                "MH421",
                f"safetensors header is not valid JSON: {exc}",
                location=Location(offset=8),
                evidence=raw[:120].decode("latin-1"),
            )
        )
        return
    if not isinstance(header, dict):
        ctx.add(
            finding(
                "MH421",
                "safetensors header is not a JSON object",
                location=Location(offset=8),
                evidence=raw[:120].decode("latin-1"),
            )
        )
        return
    checker = _Checker(ctx, src.size - 8 - n)
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        checker.problem("MH421", "__metadata__ is not a map of strings to strings")
    ranges = []
    for i, (name, entry) in enumerate(header.items()):
        if i % 4096 == 0:
            ctx.check_time()
        r = checker.tensor(name, entry)
        if r is not None:
            ranges.append(r)
    checker.coverage(ranges)
    checker.report()
