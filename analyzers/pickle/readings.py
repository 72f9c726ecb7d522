"""What a file unpickler runs when frames disagree with their opcodes: every reading, enumerated.

The linear reading (``pickletools.genops``, ``pickle.loads`` on bytes, the pure-Python unpickler
when it does not refuse) is what the machine interprets first. The C unpickler reading a *file*
(``pickle.load``, ``torch.load``'s ``BytesIO`` of ``data.pkl``) only honours frames through its
input buffer (CPython ``Modules/_pickle.c``, before the gh-154848 fix):

- ``load_frame`` reads the 8-byte length, then asks for that many bytes and rewinds. When they are
  already buffered (a nested frame that fits in the current block, or a file object whose ``peek``
  prefetched them) nothing happens. Otherwise the buffer becomes a *block*: exactly those bytes,
  read with ``read(n)`` (always for a file object without ``peek``, such as ``BytesIO``; for a
  buffered file when the frame crosses the ``peek`` window or is 128 KiB or longer). A nested
  FRAME longer than what is left of the current block drops that rest and reads its block from
  the file, which is already past the current one.
- A read that runs past the block's end (``_Unpickler_Read``: an opcode's fixed-size argument, a
  length field, the data of a string or an integer, ``readline`` for the text opcodes) drops the
  rest of the block and is served from the file after it.
- The data of BINBYTES, SHORT_BINBYTES, BINBYTES8 and BYTEARRAY8 is read with
  ``_Unpickler_ReadInto`` since CPython 3.8 (PEP 574): the rest of the block, then the file, with
  nothing dropped. CPython 3.7 and older read it like any other argument (``legacy`` below).
- A STOP inside a block ends that load; the next ``pickle.load`` on the same file starts after the
  block (the rest was read from the file with it).

Whether a frame is read as a block depends on the file object and on where the frame falls in its
buffer, so a stream with several disagreeing frames has one reading per choice at each such frame.
``loader_readings`` enumerates them: it simulates the reader with every frame read as a block,
and at each frame whose block dropped bytes it branches on reading that frame through the buffer
instead. Each distinct reading is a byte stream (the bytes the opcodes consume, in order) with a
map back to the file's offsets; the analysis interprets and judges every one. More readings than
``MAX_READINGS`` are not enumerated (MH902: the file is not fully analyzed).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from malhug.analyzers.limits import LimitExceeded

MAX_READINGS = 16  # distinct loader readings interpreted per stream
MAX_SIMULATIONS = 64  # simulated reader runs per stream (both byte-reading modes)
_CHECK_EVERY = 4096

FRAME = 0x95
STOP = 0x2E
# Opcodes with no argument.
NO_ARG = frozenset(b"().012NQRabdelostu}]\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98")
# Opcodes whose argument has a fixed size (one read).
FIXED = {0x4A: 4, 0x4B: 1, 0x4D: 2, 0x71: 1, 0x72: 4, 0x68: 1, 0x6A: 4, 0x47: 8, 0x80: 1, 0x82: 1, 0x83: 2, 0x84: 4}
# Opcodes whose argument is a length field of this width, then that many bytes (two reads).
SIZED = {0x58: 4, 0x8C: 1, 0x8D: 8, 0x54: 4, 0x55: 1, 0x8A: 1, 0x8B: 4}
# ... whose data is read with ``_Unpickler_ReadInto`` (CPython 3.8+).
READ_INTO = {0x42: 4, 0x43: 1, 0x8E: 8, 0x96: 8}
_SIGNED = frozenset({0x8B})  # LONG4's length is signed (a negative one fails)
# Opcodes whose argument is newline-terminated lines (one ``readline`` each).
LINES = {0x63: 2, 0x69: 2, 0x49: 1, 0x4C: 1, 0x46: 1, 0x53: 1, 0x56: 1, 0x70: 1, 0x67: 1, 0x50: 1}
# First opcodes of a protocol 0/1 pickle (a protocol 2+ pickle starts with PROTO).
_PROTO0_STARTS = frozenset(b"(cSVIJKLNF}])XTUGdl")


def starts_pickle(data: bytes, pos: int) -> bool:
    if pos >= len(data):
        return False
    if data[pos] == 0x80:
        return pos + 1 < len(data) and data[pos + 1] <= 5
    return data[pos] in _PROTO0_STARTS


@dataclass(slots=True)
class Reading:
    """The bytes one loader reading consumes, in order, and where each run of them is in the file."""

    data: bytes
    starts: list[int]  # offsets in ``data`` where a run of consecutive file bytes begins
    origins: list[int]  # the file offset of each run's first byte
    blocks: tuple[int, ...]  # offsets of the FRAMEs read as blocks that dropped bytes
    legacy: bool  # bytes data read like other arguments (CPython <= 3.7)

    def original(self, offset: int) -> int:
        i = max(bisect_right(self.starts, offset) - 1, 0)
        return self.origins[i] + offset - self.starts[i] if self.starts else offset

    def describe(self) -> str:
        frames = ", ".join(str(f) for f in self.blocks)
        who = "CPython 3.7 or older" if self.legacy else "the C unpickler"
        return f"as {who} loads the file with the frame(s) at offset {frames} read as blocks"


class _End(Exception):
    """The simulated loader stops here (the stream is cut, or an opcode it does not know)."""


@dataclass(slots=True)
class _Reader:
    """One run of the C unpickler's buffer over ``data`` (no ``peek``: every frame a block unless
    ``decisions`` says it was prefetched)."""

    data: bytes
    decisions: dict[int, bool]
    legacy: bool
    check_time: Callable[[], None]
    max_ops: int
    pos: int = 0
    block_end: int | None = None
    block_frame: int = -1
    run_start: int = 0  # file offset where the current run of consumed bytes began
    starts: list[int] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)
    length: int = 0  # bytes emitted before the current run
    dropped_at: list[int] = field(default_factory=list)  # FRAMEs (read as blocks) that dropped bytes
    undecided: list[int] = field(default_factory=list)  # of those, the ones ``decisions`` did not name
    bytes_crossed: bool = False  # a READ_INTO data read ran over a block's end

    def _drop(self) -> None:
        """Leave the current block: its unread rest is skipped."""
        end = self.block_end
        assert end is not None
        if self.pos < end:
            self._close_run()
            self.pos = self.run_start = end
            if self.block_frame not in self.dropped_at:
                self.dropped_at.append(self.block_frame)
                if self.block_frame not in self.decisions:
                    self.undecided.append(self.block_frame)
        self.block_end = None

    def _close_run(self) -> None:
        if self.pos > self.run_start:
            self.starts.append(self.length)
            self.origins.append(self.run_start)
            self.length += self.pos - self.run_start

    def _take(self, n: int) -> int:
        start = self.pos
        if start + n > len(self.data):
            raise _End
        self.pos = start + n
        return start

    def read(self, n: int) -> int:
        if self.block_end is not None and self.pos + n > self.block_end:
            self._drop()
        return self._take(n)

    def read_into(self, n: int) -> int:
        if self.legacy:
            return self.read(n)
        if self.block_end is not None and self.pos + n > self.block_end:
            self.bytes_crossed = self.bytes_crossed or self.pos < self.block_end
            self.block_end = None  # the rest of the block, then the file: nothing dropped
        return self._take(n)

    def readline(self) -> None:
        data = self.data
        if self.block_end is not None:
            newline = data.find(b"\n", self.pos, self.block_end)
            if newline >= 0:
                self.pos = newline + 1
                return
            self._drop()
        newline = data.find(b"\n", self.pos)
        if newline < 0:
            raise _End
        self.pos = newline + 1

    def frame(self, at: int) -> None:
        start = self.read(8)
        size = int.from_bytes(self.data[start : start + 8], "little")
        if self.block_end is not None and self.pos + size <= self.block_end:
            return  # already in the buffer: the nested frame changes nothing
        if self.block_end is not None:
            self._drop()
        if self.pos + size > len(self.data):
            raise _End  # every loader fails here (MH901 from the linear reading)
        if self.decisions.get(at, True):
            self.block_end, self.block_frame = self.pos + size, at

    def sized(self, width: int, into: bool, signed: bool) -> None:
        start = self.read(width)
        size = int.from_bytes(self.data[start : start + width], "little", signed=signed)
        if size < 0:
            raise _End
        if size:
            if into:
                self.read_into(size)
            else:
                self.read(size)

    def run(self) -> bytes:
        data, ops = self.data, 0
        try:
            while self.pos < len(data):
                at = self.read(1)
                op = data[at]
                ops += 1
                if ops % _CHECK_EVERY == 0:
                    self.check_time()
                    if ops > self.max_ops:
                        raise LimitExceeded("pickle opcodes (frame readings)", self.max_ops, ops)
                if op in NO_ARG:
                    if op == STOP:
                        if self.block_end is not None:
                            self._drop()  # the next load starts after the block
                        if not starts_pickle(data, self.pos):
                            break
                elif op in FIXED:
                    self.read(FIXED[op])
                elif op in SIZED:
                    self.sized(SIZED[op], False, op in _SIGNED)
                elif op in READ_INTO:
                    self.sized(READ_INTO[op], True, False)
                elif op in LINES:
                    for _ in range(LINES[op]):
                        self.readline()
                elif op == FRAME:
                    self.frame(at)
                else:
                    break  # an opcode no unpickler knows: it fails here
        except _End:
            self.pos = min(self.pos, len(data))
        self._close_run()
        return b"".join(data[o : o + n] for o, n in zip(self.origins, self._lengths(), strict=True))

    def _lengths(self) -> list[int]:
        ends = [*self.starts[1:], self.length]
        return [e - s for s, e in zip(self.starts, ends, strict=True)]


@dataclass(slots=True)
class Readings:
    """The distinct loader readings of a stream that differ from the linear one, made one at a time
    (each is as large as the stream: only the one being judged is kept)."""

    data: bytes
    check_time: Callable[[], None]
    max_ops: int
    count: int = 0  # readings produced so far
    complete: bool = True  # False: more readings than MAX_READINGS (or simulations) exist

    def __iter__(self) -> Iterator[Reading]:
        data = self.data
        seen = {_digest(data)}
        simulations = 0
        for legacy in (False, True):
            todo: list[dict[int, bool]] = [{}]
            crossed = False
            while todo:
                if simulations >= MAX_SIMULATIONS or self.count >= MAX_READINGS:
                    self.complete = False
                    return
                decisions = todo.pop()
                reader = _Reader(data, decisions, legacy, self.check_time, self.max_ops)
                stream = reader.run()
                simulations += 1
                crossed = crossed or reader.bytes_crossed
                # Each frame that dropped bytes and was not decided yet: also read it through the buffer.
                for i, at in enumerate(reader.undecided):
                    child = dict(decisions)
                    child.update(dict.fromkeys(reader.undecided[:i], True))
                    child[at] = False
                    todo.append(child)
                digest = _digest(stream)
                if digest not in seen:
                    seen.add(digest)
                    self.count += 1
                    yield Reading(stream, reader.starts, reader.origins, tuple(reader.dropped_at), legacy)
            if not crossed:
                return  # no bytes data ran over a block: the 3.7 readings are the same


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def loader_readings(data: bytes, check_time: Callable[[], None], max_ops: int) -> Readings:
    """Every reading of ``data`` by a C file unpickler, each frame read as a block or not (iterate it)."""
    return Readings(data, check_time, max_ops)
