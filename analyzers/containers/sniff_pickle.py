"""Does a window of bytes start a pickle stream? Protocol 0/1 pickles have no PROTO opcode.

A tiny opcode walker checks arguments and stack shape (marks, pops, memo keys) so that ordinary text
starting with ``(``, ``]``, ``c`` or ``V`` is not mistaken for a pickle. Nothing is ever built.
"""

from __future__ import annotations

import re
import struct

# Opcodes without arguments: (items popped, items pushed); "m" pops to the last mark.
_SIMPLE: dict[int, tuple[int | str, int]] = {
    ord("("): (0, 0),  # MARK (handled specially)
    ord("."): (1, 0),  # STOP (handled specially)
    ord("0"): (1, 0),  # POP
    ord("1"): ("m", 0),  # POP_MARK
    ord("2"): (1, 2),  # DUP
    ord("N"): (0, 1),
    ord("R"): (2, 1),  # REDUCE
    ord("b"): (2, 1),  # BUILD
    ord("a"): (2, 1),  # APPEND
    ord("e"): ("m", 0),  # APPENDS (needs the list below the mark)
    ord("d"): ("m", 1),  # DICT
    ord("}"): (0, 1),
    ord("l"): ("m", 1),  # LIST
    ord("]"): (0, 1),
    ord("o"): ("m", 1),  # OBJ
    ord("s"): (3, 1),  # SETITEM
    ord("u"): ("m", 0),  # SETITEMS
    ord("t"): ("m", 1),  # TUPLE
    ord(")"): (0, 1),
    ord("Q"): (1, 1),  # BINPERSID
    0x81: (2, 1),  # NEWOBJ
    0x85: (1, 1),
    0x86: (2, 1),
    0x87: (3, 1),
    0x88: (0, 1),
    0x89: (0, 1),
    0x8F: (0, 1),  # EMPTY_SET
    0x90: ("m", 0),  # ADDITEMS
    0x91: ("m", 1),  # FROZENSET
    0x92: (3, 1),  # NEWOBJ_EX
    0x93: (2, 1),  # STACK_GLOBAL
    0x97: (0, 1),  # NEXT_BUFFER
    0x98: (1, 1),  # READONLY_BUFFER
}
# Fixed-size arguments: opcode -> (argument bytes, pushes)
_FIXED: dict[int, tuple[int, int]] = {
    ord("K"): (1, 1),
    ord("M"): (2, 1),
    ord("J"): (4, 1),
    ord("G"): (8, 1),
    0x82: (1, 1),
    0x83: (2, 1),
    0x84: (4, 1),
    0x95: (8, 0),  # FRAME
}
# Length-prefixed arguments: opcode -> (length bytes, length format)
_SIZED: dict[int, tuple[int, str]] = {
    ord("U"): (1, "<B"),
    ord("C"): (1, "<B"),
    0x8C: (1, "<B"),
    0x8A: (1, "<B"),
    ord("T"): (4, "<i"),
    ord("X"): (4, "<I"),
    ord("B"): (4, "<I"),
    0x8B: (4, "<i"),
    0x8D: (8, "<Q"),
    0x8E: (8, "<Q"),
    0x96: (8, "<Q"),
}
_MEMO_GET = {ord("h"): 1, ord("j"): 4}
_MEMO_PUT = {ord("q"): 1, ord("r"): 4}
# Every opcode byte of protocols 0-5.
PICKLE_OPCODES = frozenset(
    set(_SIMPLE) | set(_FIXED) | set(_SIZED) | set(_MEMO_GET) | set(_MEMO_PUT) | {0x80, 0x94} | set(b"cigpIVLFSP")
)
_DOTTED = re.compile(rb"[A-Za-z_][\w.]*\Z")
_INT = re.compile(rb"-?\d+\Z")
_LONG = re.compile(rb"-?\d+L?\Z")
_FLOAT = re.compile(rb"-?(\d+\.?\d*([eE][-+]?\d+)?|inf|nan)\Z")
_QUOTED = re.compile(rb"""('.*'|".*")\Z""", re.S)


class _Bad(Exception):
    pass


class _Walker:
    def __init__(self, buf: bytes, total: int):
        self.buf = buf
        self.total = total
        self.pos = 0
        self.stack: list[bool] = []  # True = mark
        self.memo: set[int] = set()
        self.ops = 0
        self.structural = 0

    def _line(self) -> bytes | None:
        end = self.buf.find(b"\n", self.pos)
        if end < 0:
            if len(self.buf) - self.pos > 256 or len(self.buf) >= self.total:
                raise _Bad
            return None
        line = self.buf[self.pos : end]
        self.pos = end + 1
        return line

    def _pop(self, n: int) -> None:
        if len(self.stack) < n or any(self.stack[len(self.stack) - n :]):
            raise _Bad
        del self.stack[len(self.stack) - n :]

    def _pop_mark(self) -> None:
        if True not in self.stack:
            raise _Bad
        idx = len(self.stack) - 1 - self.stack[::-1].index(True)
        del self.stack[idx:]

    def step(self) -> str:
        """'stop' at STOP, 'end' when the window ends, 'ok' otherwise; raises _Bad."""
        if self.pos >= len(self.buf):
            return "end"
        op = self.buf[self.pos]
        self.pos += 1
        self.ops += 1
        if op == ord("("):
            self.stack.append(True)
            self.structural += 1
        elif op == ord("."):
            if self.stack != [False]:
                raise _Bad
            return "stop"
        elif op == 0x94:  # MEMOIZE: the next memo index
            self._memo(True, len(self.memo))
        elif op in _SIMPLE:
            pops, pushes = _SIMPLE[op]
            if pops == "m":
                if op in (ord("e"), ord("u"), 0x90, ord("o")):
                    self._pop_mark()
                    if op != ord("o") and not self.stack:
                        raise _Bad
                else:
                    self._pop_mark()
            else:
                assert isinstance(pops, int)
                self._pop(pops)
            self.stack.extend([False] * pushes)
            self.structural += op in (ord("R"), ord("d"), ord("l"), ord("t"), ord("}"), ord("]"), ord("s"), ord("a"))
        elif op == 0x80:  # PROTO
            if self.pos >= len(self.buf):
                return "end"
            if self.buf[self.pos] > 5 or self.ops != 1:
                raise _Bad
            self.pos += 1
        elif op in _FIXED:
            size, pushes = _FIXED[op]
            self.pos += size
            self.stack.extend([False] * pushes)
        elif op in _SIZED:
            nbytes, fmt = _SIZED[op]
            if self.pos + nbytes > len(self.buf):
                return "end"
            (length,) = struct.unpack_from(fmt, self.buf, self.pos)
            if length < 0 or self.pos + nbytes + length > self.total:
                raise _Bad
            self.pos += nbytes + length
            self.stack.append(False)
        elif op in _MEMO_GET or op in _MEMO_PUT:
            size = _MEMO_GET.get(op) or _MEMO_PUT[op]
            if self.pos + size > len(self.buf):
                return "end"
            key = int.from_bytes(self.buf[self.pos : self.pos + size], "little")
            self.pos += size
            self._memo(op in _MEMO_PUT, key)
        else:
            return self._line_op(op)
        return "ok"

    def _memo(self, put: bool, key: int) -> None:
        if put:
            self._pop(1)
            self.stack.append(False)
            self.memo.add(key)
            self.structural += 1
        else:
            if key not in self.memo:
                raise _Bad
            self.stack.append(False)

    def _line_op(self, op: int) -> str:
        if op in (ord("c"), ord("i")):  # GLOBAL, INST
            module = self._line()
            name = self._line() if module is not None else None
            if module is None or name is None:
                return "end"
            if not _DOTTED.match(module) or not _DOTTED.match(name):
                raise _Bad
            if op == ord("i"):
                self._pop_mark()
            self.stack.append(False)
            self.structural += 1
            return "ok"
        checks = {
            ord("I"): _INT,
            ord("L"): _LONG,
            ord("F"): _FLOAT,
            ord("S"): _QUOTED,
            ord("p"): _INT,
            ord("g"): _INT,
        }
        if op not in checks and op not in (ord("V"), ord("P")):
            raise _Bad
        line = self._line()
        if line is None:
            return "end"
        pattern = checks.get(op)
        if pattern is not None and not pattern.match(line):
            raise _Bad
        if op in (ord("p"), ord("g")):
            self._memo(op == ord("p"), int(line))
        else:
            self.stack.append(False)
        return "ok"


def looks_like_pickle(window: bytes, total: int) -> bool:
    """Whether ``window`` (the first bytes of a ``total``-byte stream) starts a plausible pickle."""
    if not window:
        return False
    walker = _Walker(window, total)
    try:
        while True:
            state = walker.step()
            if state == "stop":
                return True
            if state == "end":
                # A window cut inside a long pickle: accept a convincing prefix only.
                return len(window) < total and walker.ops >= 8 and walker.structural >= 2
    except (_Bad, ValueError):
        return False
