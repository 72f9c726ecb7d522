"""NumPy ``.npy`` files: the header dict is read with a literal parser; object arrays hold a pickle.

``ast.literal_eval`` only builds literals (it is how NumPy itself reads the header), never runs code.
A plain array is clean once its header is sane and its data size matches the file; an object array
(``|O``) is followed by a pickle stream that the pickle analyzer examines.
"""

from __future__ import annotations

import ast
import math
import re
import struct
from dataclasses import dataclass

from malhug.analyzers import formats
from malhug.analyzers.containers.common import DATA_OUTSIDE, scan_member
from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import MalformedInput
from malhug.analyzers.shared.slices import SliceSource
from malhug.analyzers.shared.source import ByteSource
from malhug.core import failures
from malhug.core.model import Location
from malhug.core.rules import finding

MAGIC = b"\x93NUMPY"
MAX_HEADER = 1 << 20
_TYPESTR = re.compile(r"^[<>|=]?([a-zA-Z])(\d*)(\[\w+\])?$")
_KINDS = set("biufcmMOSUVa?")
_KIND_SIZE = {"b": 1, "?": 1, "O": 8}
OBJECT_DATA = "<object data>"


@dataclass(frozen=True, slots=True)
class NpyHeader:
    """The parsed header of a ``.npy`` array."""

    descr: object
    shape: tuple[int, ...]
    fortran_order: bool
    data_offset: int
    has_object: bool
    itemsize: int | None  # None when the dtype is too exotic to size


def _itemsize(descr: object, depth: int = 0) -> int | None:
    if depth > 16:
        raise MalformedInput("npy dtype description nests too deeply")
    if isinstance(descr, str):
        m = _TYPESTR.match(descr)
        if not m:
            raise MalformedInput(f"npy dtype {descr!r} is not a NumPy type string")
        kind, digits = m.group(1), m.group(2)
        if kind not in _KINDS:
            raise MalformedInput(f"npy dtype {descr!r} is not a NumPy type")
        if kind in _KIND_SIZE:
            return _KIND_SIZE[kind]
        if not digits:
            return None
        size = int(digits)
        return size * 4 if kind == "U" else size
    if isinstance(descr, list):
        total = 0
        for field in descr:
            if not isinstance(field, tuple) or len(field) not in (2, 3):
                return None
            sub = _itemsize(field[1], depth + 1)
            if sub is None:
                return None
            count = _subarray_count(field[2]) if len(field) == 3 else 1
            if count is None:
                return None
            total += sub * count
        return total
    return None


def _subarray_count(shape: object) -> int | None:
    """Items in a field's subarray shape (NumPy takes an int or a tuple of ints); None when it is
    anything else (``math.prod`` of strings would repeat them: ``('x', 10**9)`` is a gigabyte)."""
    if isinstance(shape, int) and not isinstance(shape, bool) and shape >= 0:
        return shape
    if isinstance(shape, tuple) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        return math.prod(shape)
    return None


def _has_object(descr: object, depth: int = 0) -> bool:
    if depth > 16:
        return True
    if isinstance(descr, str):
        # Every spelling NumPy reads as the object type: "O", "|O8", "b1,O", "object", "object_".
        return "O" in descr or "object" in descr
    if isinstance(descr, (list, tuple)):
        return any(_has_object(item, depth + 1) for item in descr)
    return False


_PY2_LONG = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|(?<![\w.])(\d+)L\b""")


def _filter_py2_longs(text: str) -> str:
    """``text`` with the ``L`` that ends an integer outside strings removed (what numpy.lib.format's
    ``_filter_header`` does with the tokenizer, without depending on how a Python version tokenizes ``3L``)."""
    return _PY2_LONG.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(0), text)


def parse_header(head: bytes) -> NpyHeader:
    """Parse the magic, version and header dict from the first bytes of an ``.npy`` stream."""
    if not head.startswith(MAGIC) or len(head) < 10:
        raise MalformedInput("not a NumPy .npy header", offset=0)
    major = head[6]
    if major == 1:
        (hlen,), start = struct.unpack_from("<H", head, 8), 10
    elif major in (2, 3):
        if len(head) < 12:
            raise MalformedInput("truncated .npy header", offset=8)
        (hlen,), start = struct.unpack_from("<I", head, 8), 12
    else:
        raise MalformedInput(f"unknown .npy format version {major}", offset=6)
    if hlen > MAX_HEADER:
        raise MalformedInput(f".npy header of {hlen} bytes is implausibly large", offset=8)
    raw = head[start : start + hlen]
    if len(raw) < hlen:
        raise MalformedInput(".npy header is truncated", offset=start)
    try:
        text = raw.decode("utf-8" if major == 3 else "latin-1")
        try:
            value = ast.literal_eval(text.strip())
        except SyntaxError:
            if major == 3:
                raise
            # As numpy's ``read_array_header``: a version 1/2 header may come from Python 2, whose
            # repr of a long ends in L (``'shape': (3L, 4L)``): drop those and read again.
            value = ast.literal_eval(_filter_py2_longs(text).strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError) as exc:
        raise MalformedInput(f".npy header is not a literal dict: {exc}", offset=start) from exc
    if not isinstance(value, dict) or not {"descr", "shape", "fortran_order"} <= set(value):
        raise MalformedInput(".npy header lacks descr/shape/fortran_order", offset=start)
    shape = value["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise MalformedInput(f".npy header has a bad shape {shape!r}"[:200], offset=start)
    descr = value["descr"]
    has_object = _has_object(descr)
    return NpyHeader(
        descr=descr,
        shape=shape,
        fortran_order=bool(value["fortran_order"]),
        data_offset=start + hlen,
        has_object=has_object,
        # An object array's data is a pickle, whatever its size: never refuse it over its type string.
        itemsize=None if has_object else _itemsize(descr),
    )


def check_plain_size(ctx: ScanContext, header: NpyHeader, total_size: int) -> int | None:
    """Compare a plain array's data size with the stream; returns the offset of extra data, if any."""
    if header.itemsize is None:
        return None
    expected = header.itemsize * math.prod(header.shape)
    actual = total_size - header.data_offset
    if actual < expected:
        ctx.add(
            failures.malformed(
                f"NumPy array data is truncated: shape {header.shape} needs {expected} bytes, {actual} present",
                location=Location(offset=header.data_offset),
                evidence=f"descr={header.descr!r} shape={header.shape!r}"[:300],
            )
        )
        return None
    if actual > expected:
        extra_at = header.data_offset + expected
        ctx.add(
            finding(
                DATA_OUTSIDE,
                f"{actual - expected} bytes follow the NumPy array data",
                location=Location(offset=extra_at),
                evidence=f"descr={header.descr!r} shape={header.shape!r}"[:300],
            )
        )
        return extra_at
    return None


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    head = src.read_at(0, 4096)
    if len(head) >= 12 and head[6] in (2, 3):
        need = 12 + struct.unpack_from("<I", head, 8)[0]
        if need > len(head) and need <= MAX_HEADER + 12:
            head = src.read_at(0, need)
    header = parse_header(head)
    if header.has_object:
        ctx.add(
            finding(
                "MH206",
                "NumPy object array: loading it unpickles the data (allow_pickle=True)",
                location=Location(offset=header.data_offset),
                evidence=f"descr={header.descr!r}"[:300],
            )
        )
        data = SliceSource(src, header.data_offset, src.size - header.data_offset)
        ctx.scan_nested(data, OBJECT_DATA, format_hint=formats.PICKLE)
        return
    extra_at = check_plain_size(ctx, header, src.size)
    if extra_at is not None:
        scan_member(ctx, SliceSource(src, extra_at, src.size - extra_at), "<after array data>")
