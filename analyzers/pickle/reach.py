"""Can the unpickler reach an opcode that imports or calls? Walked the way CPython's C unpickler does.

``pickle.load`` (and ``torch.load``'s legacy path, ``joblib.load``) reads opcodes from offset 0 and
stops at the first error; nothing it has not reached runs. So a file is "not a pickle" exactly when
that walk stops before any opcode that imports or calls. The walk:

- starts at offset 0 wherever PROTO is (PROTO may come anywhere, any number of times; > 5 stops);
- keeps a typed stack with marks as the C unpickler does (an item below the last MARK cannot be
  popped; POP removes a MARK on top); underflow, a missing MARK, an unknown opcode, a memo key never
  stored, a malformed line argument: stop;
- skips length-prefixed arguments by their length (never reads them: a 1 GiB string before the
  payload costs one length check); line arguments are read in bounded chunks; FRAME checks that its
  frame is there (the C unpickler reads the whole frame before running it);
- after STOP goes on with the next pickle (loaders that read several pickles from one file).

Call-capable ("reached"): GLOBAL of a module an import could accept (a dotted identifier whose top
package is in the standard library, a Python 2 name that ``_compat_pickle`` maps, or a package of
the ML stack; any other import fails unless that package is installed, so the walk goes on with
the result as a callable), INST with valid names, STACK_GLOBAL on two strings, EXT1/2/4,
BINPERSID, REDUCE/NEWOBJ/NEWOBJ_EX/OBJ on a callable, BUILD or APPEND(S)/SETITEM(S)/ADDITEMS on a
callable (they call ``__setstate__``/``append``/``__setitem__``/``add`` of the object). PERSID stops
the walk: its id is a string, and no loader's ``persistent_load`` takes one (``pickle.load`` and
``joblib.load`` have none, torch's asserts a tuple).

Bounded by ``limits.max_pickle_ops`` opcodes and ``limits.max_stream_bytes`` bytes; hitting a bound,
or a source that serves fewer bytes than its size (a container member's sniffing head), counts as
reached: we cannot show the unpickler stops, so the pickle analysis runs and reports what it meets.
"""

from __future__ import annotations

import re
import struct
import sys
from dataclasses import dataclass

from malhug.analyzers.limits import Limits
from malhug.analyzers.shared.source import ByteSource

CHUNK = 64 * 1024
# Longest module line an import can accept: a path component is at most 255 bytes, a path 4096.
MAX_MODULE_LINE = 4096
# Numbers in line arguments: int() refuses more than 4300 digits by default.
MAX_NUMBER_LINE = 8192
MAX_NAME_LINE = 64 * 1024

# Stack item kinds: a callable (or anything: a call's result, a persistent object, a memo copy of
# one), a str, a tuple, anything else (None, numbers, bytes, containers).
CALLABLE, STR, TUPLE, OTHER = "c", "s", "t", "o"

# Packages a model's environment has besides the standard library (an import of these succeeds).
ML_PACKAGES = frozenset(
    {
        "torch",
        "numpy",
        "joblib",
        "sklearn",
        "scipy",
        "pandas",
        "dill",
        "cloudpickle",
        "transformers",
        "tensorflow",
        "keras",
        "jax",
        "datasets",
        "huggingface_hub",
        "tokenizers",
        "safetensors",
        "requests",
        "urllib3",
        "yaml",
        "setuptools",
        "pip",
        "IPython",
        "_codecs",
    }
)
# int(s, 0) and float(s) syntax (base prefixes, underscores, a Python 2 ``L``), loosely: accepting
# more than the unpickler only makes the walk go on.
_NUMBER = re.compile(
    rb"\s*[-+]?(0[xob][\da-f_]+|[\d_]+L?|([\d_]+\.?[\d_]*|\.[\d_]+)(e[-+]?[\d_]+)?|inf(inity)?|nan)\s*\Z", re.I
)

_FIXED = {ord("K"): 1, ord("M"): 2, ord("J"): 4, ord("G"): 8}
# Length-prefixed arguments: opcode -> (length bytes, struct format, kind pushed)
_SIZED: dict[int, tuple[int, str, str]] = {
    ord("U"): (1, "<B", STR),  # SHORT_BINSTRING (decoded as str by default)
    ord("T"): (4, "<i", STR),  # BINSTRING
    ord("C"): (1, "<B", OTHER),  # SHORT_BINBYTES
    ord("B"): (4, "<I", OTHER),  # BINBYTES
    ord("X"): (4, "<I", STR),  # BINUNICODE
    0x8C: (1, "<B", STR),  # SHORT_BINUNICODE
    0x8D: (8, "<Q", STR),  # BINUNICODE8
    0x8E: (8, "<Q", OTHER),  # BINBYTES8
    0x96: (8, "<Q", OTHER),  # BYTEARRAY8
    0x8A: (1, "<B", OTHER),  # LONG1
    0x8B: (4, "<i", OTHER),  # LONG4
}
_PUSH_OTHER = frozenset(b"N}]") | {0x88, 0x89, 0x8F}
_TO_MARK = {ord("t"): TUPLE, ord("l"): OTHER, ord("d"): OTHER, 0x91: OTHER}


def importable_module(module: str) -> bool:
    """Whether an import of ``module`` (a GLOBAL's first line) succeeds in a model's environment."""
    top = module.split(".", 1)[0]
    if top in sys.stdlib_module_names or top in ML_PACKAGES:
        return True
    from _compat_pickle import IMPORT_MAPPING  # Python 2 names protocols 0-2 are read with

    return module in IMPORT_MAPPING or top in IMPORT_MAPPING


def _dotted(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


@dataclass(eq=False, slots=True)
class Reach:
    """The walk's outcome: ``reached`` (offset of the first call-capable opcode, or None) and ``stop``
    (offset of the opcode the unpickler stops at; the size when it ran to the end)."""

    reached: int | None = None
    what: str = ""
    stop: int = 0
    ops: int = 0
    limited: bool = False


class _Stop(Exception):
    """The unpickler raises here."""


class _Limit(Exception):
    pass


class _Walk:
    def __init__(self, src: ByteSource, limits: Limits, head: bytes):
        self.src = src
        self.size = src.size
        self.limits = limits
        self.chunk = head
        self.chunk_at = 0
        self.scanned = 0
        self.stack: list[str] = []
        self.marks: list[int] = []
        self.memo: dict[int, str] = {}

    # -- reading ---------------------------------------------------------------------------------

    def _load(self, pos: int, want: int = CHUNK) -> None:
        self.scanned += want
        if self.scanned > self.limits.max_stream_bytes:
            raise _Limit
        self.chunk = self.src.read_at(pos, want)
        self.chunk_at = pos
        if not self.chunk:
            # The source serves less than its size says (a sniffing head of a larger member): what
            # follows is unknown, so the walk cannot show the unpickler stops.
            raise _Limit

    def byte(self, pos: int) -> int:
        off = pos - self.chunk_at
        if not 0 <= off < len(self.chunk):
            if pos >= self.size:
                raise _Stop
            self._load(pos)
            off = 0
        return self.chunk[off]

    def read(self, pos: int, n: int) -> bytes:
        if pos + n > self.size:
            raise _Stop  # "pickle data was truncated"
        off = pos - self.chunk_at
        if not (0 <= off and off + n <= len(self.chunk)):
            self._load(pos)
            off = 0
            if len(self.chunk) < n:
                raise _Limit
        return self.chunk[off : off + n]

    def line(self, pos: int, max_len: int | None) -> tuple[bytes, int]:
        """The line at ``pos`` (without its newline) and the offset after it. Lines longer than
        ``max_len`` stop the walk; ``None``: any length (string arguments), only the first bytes kept."""
        start, kept = pos, b""
        while True:
            off = pos - self.chunk_at
            if not 0 <= off < len(self.chunk):
                if pos >= self.size:
                    raise _Stop  # no newline before the end: "pickle data was truncated"
                # A bounded line reads no further than its bound (a tar header, over HTTP).
                self._load(pos, CHUNK if max_len is None else min(CHUNK, max_len + 1 - (pos - start)))
                off = 0
            end = self.chunk.find(b"\n", off)
            piece = self.chunk[off:] if end < 0 else self.chunk[off:end]
            if len(kept) < MAX_NAME_LINE:
                kept += piece[: MAX_NAME_LINE - len(kept)]
            if end >= 0:
                total = pos + len(piece) - start
                if max_len is not None and total > max_len:
                    raise _Stop
                return kept, pos + len(piece) + 1
            pos += len(piece)
            if max_len is not None and pos - start >= max_len:
                raise _Stop

    # -- the stack -------------------------------------------------------------------------------

    def fence(self) -> int:
        return self.marks[-1] if self.marks else 0

    def pop(self, n: int = 1) -> list[str]:
        if len(self.stack) - n < self.fence():
            raise _Stop  # unpickling stack underflow
        items = self.stack[len(self.stack) - n :]
        del self.stack[len(self.stack) - n :]
        return items

    def pop_mark(self) -> list[str]:
        if not self.marks:
            raise _Stop  # could not find MARK
        k = self.marks.pop()
        items = self.stack[k:]
        del self.stack[k:]
        return items

    def top(self) -> str:
        if len(self.stack) <= self.fence():
            raise _Stop
        return self.stack[-1]


def walk(src: ByteSource, limits: Limits, head: bytes = b"", *, first_only: bool = True) -> Reach:
    """Walk ``src`` as the unpickler would. With ``first_only`` return at the first call-capable
    opcode; otherwise go on to where the unpickler stops (``Reach.stop``)."""
    w = _Walk(src, limits, head)
    result = Reach()
    pos = 0
    try:
        while pos < w.size:
            if result.ops >= limits.max_pickle_ops or len(w.memo) > limits.max_memo_entries:
                raise _Limit
            if len(w.stack) > limits.max_stack_depth or len(w.marks) > limits.max_stack_depth:
                raise _Limit
            result.stop = pos
            call, pos = _step(w, pos)
            result.ops += 1
            if call and result.reached is None:
                result.reached, result.what = result.stop, call
                if first_only:
                    return result
        result.stop = w.size
    except _Stop:
        return result  # the unpickler raises at ``result.stop``: nothing after it runs
    except _Limit:
        result.limited = True
        if result.reached is None:
            result.reached, result.what = result.stop, "walk limit or unreadable bytes"
    return result


def _step(w: _Walk, pos: int) -> tuple[str, int]:
    """Run the opcode at ``pos``; returns (what it calls or imports, or "", offset after it)."""
    op = w.byte(pos)
    pos += 1
    stack = w.stack
    if op == 0x28:  # MARK
        w.marks.append(len(stack))
    elif op == 0x2E:  # STOP: pops the result; the next pickle starts afresh
        w.top()
        stack.clear()
        w.marks.clear()
        w.memo.clear()
    elif op == 0x80:  # PROTO
        if w.byte(pos) > 5:
            raise _Stop
        pos += 1
    elif op == 0x95:  # FRAME: the whole frame is read before it runs
        (length,) = struct.unpack("<Q", w.read(pos, 8))
        pos += 8
        if pos + length > w.size:
            raise _Stop
    elif op in _FIXED:
        w.read(pos, _FIXED[op])
        pos += _FIXED[op]
        stack.append(OTHER)
    elif op in _SIZED:
        nbytes, fmt, kind = _SIZED[op]
        (length,) = struct.unpack(fmt, w.read(pos, nbytes))
        pos += nbytes
        if length < 0 or pos + length > w.size:
            raise _Stop
        pos += length
        stack.append(kind)
    elif op in _PUSH_OTHER:
        stack.append(OTHER)
    elif op == 0x29:  # EMPTY_TUPLE
        stack.append(TUPLE)
    elif op == 0x30:  # POP: removes a MARK on top, else an item
        if w.marks and w.marks[-1] == len(stack):
            w.marks.pop()
        else:
            w.pop()
    elif op == 0x31:  # POP_MARK
        w.pop_mark()
    elif op == 0x32:  # DUP
        stack.append(w.top())
    elif op in _TO_MARK:
        w.pop_mark()
        stack.append(_TO_MARK[op])
    elif op in (0x85, 0x86, 0x87):  # TUPLE1-3
        w.pop(op - 0x84)
        stack.append(TUPLE)
    else:
        return _step_more(w, op, pos)
    return "", pos


def _memo_key(w: _Walk, op: int, pos: int) -> tuple[int, int]:
    if op in (0x67, 0x70):  # GET, PUT: a decimal line
        line, pos = w.line(pos, MAX_NUMBER_LINE)
        try:
            return int(line), pos
        except ValueError:
            raise _Stop from None
    size = 1 if op in (0x68, 0x71) else 4
    return int.from_bytes(w.read(pos, size), "little"), pos + size


def _step_more(w: _Walk, op: int, pos: int) -> tuple[str, int]:
    stack = w.stack
    if op in (0x67, 0x68, 0x6A):  # GET, BINGET, LONG_BINGET
        key, pos = _memo_key(w, op, pos)
        if key not in w.memo:
            raise _Stop
        stack.append(w.memo[key])
    elif op in (0x70, 0x71, 0x72):  # PUT, BINPUT, LONG_BINPUT
        key, pos = _memo_key(w, op, pos)
        w.memo[key] = w.top()
    elif op == 0x94:  # MEMOIZE
        w.memo[len(w.memo)] = w.top()
    elif op in (0x49, 0x4C, 0x46):  # INT, LONG, FLOAT
        line, pos = w.line(pos, MAX_NUMBER_LINE)
        if not _NUMBER.match(line):
            raise _Stop
        stack.append(OTHER)
    elif op == 0x53:  # STRING: a quoted line of any length
        if w.byte(pos) not in b"'\"":
            raise _Stop
        line, pos = w.line(pos, None)
        stack.append(STR)
    elif op == 0x56:  # UNICODE
        line, pos = w.line(pos, None)
        stack.append(STR)
    elif op in (0x63, 0x69):  # GLOBAL, INST
        return _global(w, op, pos)
    elif op == 0x50:  # PERSID: a string id no loader accepts
        raise _Stop
    elif op == 0x51:  # BINPERSID
        w.pop()
        stack.append(CALLABLE)
        return "BINPERSID", pos
    elif op == 0x93:  # STACK_GLOBAL
        module, name = w.pop(2)
        if module not in (STR, CALLABLE) or name not in (STR, CALLABLE):
            raise _Stop
        stack.append(CALLABLE)
        return "STACK_GLOBAL", pos
    elif op in (0x82, 0x83, 0x84):  # EXT1, EXT2, EXT4
        w.read(pos, 1 << (op - 0x82))
        stack.append(CALLABLE)
        return "EXT", pos + (1 << (op - 0x82))
    elif op in (0x52, 0x81):  # REDUCE, NEWOBJ
        func, args = w.pop(2)
        if func != CALLABLE or args not in (TUPLE, CALLABLE):
            raise _Stop
        stack.append(CALLABLE)
        return ("REDUCE" if op == 0x52 else "NEWOBJ"), pos
    elif op == 0x92:  # NEWOBJ_EX
        func, _args, _kwargs = w.pop(3)
        if func != CALLABLE:
            raise _Stop
        stack.append(CALLABLE)
        return "NEWOBJ_EX", pos
    elif op == 0x6F:  # OBJ
        items = w.pop_mark()
        if not items or items[0] != CALLABLE:
            raise _Stop
        stack.append(CALLABLE)
        return "OBJ", pos
    elif op in (0x62, 0x61, 0x73):  # BUILD, APPEND, SETITEM
        w.pop(2 if op == 0x73 else 1)  # the value (key and value), then the target stays on top
        if w.top() == CALLABLE:
            return "BUILD" if op == 0x62 else "APPEND/SETITEM", pos
    elif op in (0x65, 0x75, 0x90):  # APPENDS, SETITEMS, ADDITEMS
        w.pop_mark()
        if w.top() == CALLABLE:
            return "APPENDS/SETITEMS", pos
    elif op == 0x98:  # READONLY_BUFFER
        w.top()
    else:  # NEXT_BUFFER (no buffers given) and every unknown opcode
        raise _Stop
    return "", pos


def _global(w: _Walk, op: int, pos: int) -> tuple[str, int]:
    if op == 0x69:
        items = w.pop_mark()
    module_b, pos = w.line(pos, MAX_MODULE_LINE)
    name_b, pos = w.line(pos, MAX_NAME_LINE)
    try:
        module, name = module_b.decode("utf-8").strip(), name_b.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _Stop from None
    if not _dotted(module) or not _dotted(name):
        raise _Stop  # ModuleNotFoundError / AttributeError: no import accepts it
    w.stack.append(CALLABLE)
    if op == 0x69:
        del items
        return f"INST {module}.{name}", pos
    if importable_module(module):
        return f"GLOBAL {module}.{name}", pos
    return "", pos
