"""A bounded reader for CPython ``marshal`` streams of code objects (Keras Lambda bytecode).

``marshal.loads`` is never used: it is not safe on hostile input and only reads its own Python
version's layout. This reader walks the stream as data and keeps what the analysis needs (names,
constants, variable names, file and function names, nested code objects) for the code-object
layouts of Python 2.7, 3.0-3.7, 3.8-3.10 and 3.11-3.14. The layout is not recorded in the stream,
so each one is tried and the first that parses the whole stream with well-typed fields wins.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from malhug.analyzers.limits import LimitExceeded, MalformedInput

FLAG_REF = 0x80

# Layout name -> number of 32-bit integers before the ``co_code`` object.
LAYOUTS: dict[str, int] = {"3.11+": 5, "3.8-3.10": 6, "3.0-3.7": 5, "2.x": 4}


@dataclass(frozen=True)
class MarshalLimits:
    max_objects: int = 200_000
    max_depth: int = 64
    max_bytes: int = 8 * 1024 * 1024


@dataclass(eq=False)
class CodeInfo:
    """What a code object tells without running it."""

    layout: str
    name: str = ""
    qualname: str = ""
    filename: str = ""
    firstlineno: int = 0
    names: tuple[str, ...] = ()
    varnames: tuple[str, ...] = ()
    freevars: tuple[str, ...] = ()
    cellvars: tuple[str, ...] = ()
    consts: tuple[Any, ...] = ()
    bytecode_size: int = 0
    children: list[CodeInfo] = field(default_factory=list)

    def walk(self) -> Iterator[CodeInfo]:
        """This code object and every nested one (functions, comprehensions, lambdas)."""
        stack, seen = [self], {id(self)}
        while stack:
            code = stack.pop()
            yield code
            for child in reversed(code.children):  # a shared code object (a reference) once
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)

    def all_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for code in self.walk():
            for n in code.names:
                seen.setdefault(n, None)
        return list(seen)

    def all_strings(self) -> list[str]:
        """String (and printable bytes) constants of every nested code object, in order."""
        out: dict[str, None] = {}
        for code in self.walk():
            for value in _flatten(code.consts):
                if isinstance(value, str):
                    out.setdefault(value, None)
                elif isinstance(value, bytes) and value and _PRINTABLE.fullmatch(value):
                    out.setdefault(value.decode("ascii"), None)
        return list(out)


_PRINTABLE = re.compile(rb"[\t\n\r\x20-\x7e]+")


def _flatten(values: tuple[Any, ...]) -> Iterator[Any]:
    """The leaves of nested tuples, each tuple expanded once: marshal references (``r``) let a stream
    of a few hundred bytes nest one tuple in the next twice over, 2**N leaves for N levels."""
    expanded = {id(values)}
    stack: list[Any] = list(reversed(values))
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):
            if id(v) not in expanded:
                expanded.add(id(v))
                stack.extend(reversed(v))
        else:
            yield v


def _from_digits(digits: list[int]) -> int:
    """The integer of little-endian 15-bit digits, merged pairwise (n log n; shifting the digits in
    one by one is quadratic in a long constant's length)."""
    if not digits:
        return 0
    values, width = digits, 15
    while len(values) > 1:
        merged = [values[i] | (values[i + 1] << width) for i in range(0, len(values) - 1, 2)]
        if len(values) % 2:
            merged.append(values[-1])
        values, width = merged, width * 2
    return values[0]


class _Null:
    """The marshal NULL marker (ends a dict)."""


_NULL = _Null()
_PENDING = object()


class _Reader:
    def __init__(self, data: bytes, layout: str, limits: MarshalLimits):
        self.data = data
        self.pos = 0
        self.layout = layout
        self.limits = limits
        self.refs: list[Any] = []
        self.interned: list[Any] = []  # Python 2 string references ('R')
        self.objects = 0

    # -- primitives -------------------------------------------------------------------------
    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise MalformedInput(f"marshal: read of {n} bytes past the end", self.pos)
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self._take(1)[0]

    def i32(self) -> int:
        return int(struct.unpack("<i", self._take(4))[0])

    def _length(self, n: int, unit: int = 1) -> int:
        if n < 0 or n * unit > len(self.data) - self.pos:
            raise MalformedInput(f"marshal: bad length {n}", self.pos)
        return n

    # -- objects ----------------------------------------------------------------------------
    def obj(self, depth: int) -> Any:
        if depth > self.limits.max_depth:
            raise LimitExceeded("marshal nesting depth", self.limits.max_depth, depth)
        self.objects += 1
        if self.objects > self.limits.max_objects:
            raise LimitExceeded("marshal objects", self.limits.max_objects, self.objects)
        start = self.pos
        code = self.u8()
        flag = bool(code & FLAG_REF) and self.layout != "2.x"
        t = chr(code & ~FLAG_REF if self.layout != "2.x" else code)
        slot = -1
        if flag:
            slot = len(self.refs)
            self.refs.append(_PENDING)
        value = self._value(t, depth, start)
        if flag:
            self.refs[slot] = value
        return value

    def _value(self, t: str, depth: int, start: int) -> Any:
        if t == "0":
            return _NULL
        if t == "N":
            return None
        if t == "F":
            return False
        if t == "T":
            return True
        if t == "S":
            return "StopIteration"
        if t == ".":
            return ...
        if t == "i":
            return self.i32()
        if t == "I":
            return int(struct.unpack("<q", self._take(8))[0])
        if t == "l":
            n = self.i32()
            digits = self._length(abs(n), 2)
            parts = list(struct.unpack(f"<{digits}H", self._take(2 * digits)))
            if any(d > 0x7FFF for d in parts):
                raise MalformedInput("marshal: bad long digit", self.pos)
            value = _from_digits(parts)
            return -value if n < 0 else value
        if t == "g":
            return float(struct.unpack("<d", self._take(8))[0])
        if t == "y":
            re_, im = struct.unpack("<dd", self._take(16))
            return complex(re_, im)
        if t in "fx":
            parts = []
            for _ in range(2 if t == "x" else 1):
                text = self._take(self.u8()).decode("ascii", "replace")
                try:
                    parts.append(float(text))
                except ValueError as exc:
                    raise MalformedInput(f"marshal: bad float {text!r}", self.pos) from exc
            return complex(parts[0], parts[1]) if t == "x" else parts[0]
        if t == "s":
            return self._take(self._length(self.i32()))
        if t in "tu":
            raw = self._take(self._length(self.i32()))
            if self.layout == "2.x":
                if t == "t":
                    self.interned.append(raw)
                return raw.decode("utf-8", "replace") if t == "u" else raw
            return raw.decode("utf-8", "replace")
        if t in "aA":
            return self._take(self._length(self.i32())).decode("latin-1")
        if t in "zZ":
            return self._take(self.u8()).decode("latin-1")
        if t == "R" and self.layout == "2.x":
            idx = self.i32()
            if not 0 <= idx < len(self.interned):
                raise MalformedInput(f"marshal: bad string reference {idx}", start)
            return self.interned[idx]
        if t == "r" and self.layout != "2.x":
            idx = self.i32()
            if not 0 <= idx < len(self.refs) or self.refs[idx] is _PENDING:
                raise MalformedInput(f"marshal: bad reference {idx}", start)
            return self.refs[idx]
        if t in "([<>":
            n = self._length(self.i32())
            return tuple(self._item(depth) for _ in range(n))
        if t == ")":
            n = self._length(self.u8())
            return tuple(self._item(depth) for _ in range(n))
        if t == "{":
            items: list[tuple[Any, Any]] = []
            while True:
                key = self.obj(depth + 1)
                if key is _NULL:
                    return tuple(items)
                items.append((key, self._item(depth)))
        if t == ":":
            return tuple(self._item(depth) for _ in range(3))
        if t == "c":
            return self._code(depth)
        raise MalformedInput(f"marshal: unknown type code {t!r}", start)

    def _item(self, depth: int) -> Any:
        value = self.obj(depth + 1)
        if value is _NULL:
            raise MalformedInput("marshal: NULL inside a container", self.pos)
        return value

    def _text(self, value: Any, what: str) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bytes) and self.layout == "2.x":
            return value.decode("latin-1")
        raise MalformedInput(f"marshal: code {what} is {type(value).__name__}, not a string", self.pos)

    def _texts(self, value: Any, what: str) -> tuple[str, ...]:
        if not isinstance(value, tuple):
            raise MalformedInput(f"marshal: code {what} is {type(value).__name__}, not a tuple", self.pos)
        return tuple(self._text(v, what) for v in value)

    def _bytes(self, value: Any, what: str) -> bytes:
        if not isinstance(value, bytes):
            raise MalformedInput(f"marshal: code {what} is {type(value).__name__}, not bytes", self.pos)
        return value

    def _code(self, depth: int) -> CodeInfo:
        for _ in range(LAYOUTS[self.layout]):
            self.i32()
        info = CodeInfo(layout=self.layout)
        info.bytecode_size = len(self._bytes(self._item(depth), "bytecode"))
        consts = self._item(depth)
        if not isinstance(consts, tuple):
            raise MalformedInput("marshal: code constants are not a tuple", self.pos)
        info.consts = consts
        info.names = self._texts(self._item(depth), "names")
        if self.layout == "3.11+":
            info.varnames = self._texts(self._item(depth), "localsplusnames")
            self._bytes(self._item(depth), "localspluskinds")
            info.filename = self._text(self._item(depth), "filename")
            info.name = self._text(self._item(depth), "name")
            info.qualname = self._text(self._item(depth), "qualname")
            info.firstlineno = self.i32()
            self._bytes(self._item(depth), "linetable")
            self._bytes(self._item(depth), "exceptiontable")
        else:
            info.varnames = self._texts(self._item(depth), "varnames")
            info.freevars = self._texts(self._item(depth), "freevars")
            info.cellvars = self._texts(self._item(depth), "cellvars")
            info.filename = self._text(self._item(depth), "filename")
            info.name = self._text(self._item(depth), "name")
            info.qualname = info.name
            info.firstlineno = self.i32()
            self._bytes(self._item(depth), "lnotab")
        info.children = [c for c in _flatten(consts) if isinstance(c, CodeInfo)]
        return info


def _is_code_start(data: bytes) -> bool:
    return bool(data) and data[0] in (ord("c"), ord("c") | FLAG_REF)


def read_code(data: bytes, limits: MarshalLimits | None = None) -> CodeInfo:
    """Decode a marshalled code object; raises ``MalformedInput`` or ``LimitExceeded`` only."""
    limits = limits or MarshalLimits()
    if len(data) > limits.max_bytes:
        raise LimitExceeded("marshal stream size", limits.max_bytes, len(data))
    if not _is_code_start(data):
        raise MalformedInput("marshal: stream does not start with a code object", 0)
    best: MalformedInput | None = None
    best_pos = -1
    limit_error: LimitExceeded | None = None
    for layout in LAYOUTS:
        if layout == "2.x" and data[0] != ord("c"):
            continue  # Python 2 had no reference flag
        reader = _Reader(data, layout, limits)
        try:
            value = reader.obj(0)
            if reader.pos != len(data):
                raise MalformedInput(f"marshal: {len(data) - reader.pos} trailing bytes", reader.pos)
        except MalformedInput as exc:
            if reader.pos > best_pos:
                best, best_pos = exc, reader.pos
            continue
        except LimitExceeded as exc:
            limit_error = exc
            continue
        except RecursionError as exc:
            limit_error = LimitExceeded("marshal recursion", limits.max_depth)
            limit_error.__cause__ = exc
            continue
        if isinstance(value, CodeInfo):
            return value
    if limit_error is not None:
        raise limit_error
    assert best is not None
    raise MalformedInput(f"undecodable code object ({best})", best.offset)


def printable_strings(data: bytes, min_len: int = 4, limit: int = 200) -> list[str]:
    """Printable ASCII runs of a byte string (what ``strings`` shows): a fallback for garbage."""
    out = []
    for m in re.finditer(rb"[\x20-\x7e]{%d,}" % min_len, data):
        out.append(m.group().decode("ascii"))
        if len(out) >= limit:
            break
    return out
