"""Pickle frames as the file unpickler reads them (PEP 3154 framing; CPython gh-154848).

A FRAME opcode declares how many bytes the opcodes that follow take. Readers disagree when the
declaration is wrong:

- ``pickletools.genops``, ``pickle.loads`` on bytes, and our machine read straight through and
  ignore the declared length;
- the pure-Python unpickler (and the C one from CPython 3.13.15/3.14.7) refuses an opcode that runs
  past its frame's end, and a FRAME that opens before the previous one closed;
- the older C unpickler reading a *file* loads a frame that is not already in its buffer as one
  block of exactly the declared length. A read that runs past the block's end is served afresh
  from the file, which is already past the frame: the rest of the block is skipped and the read
  takes the bytes after the frame's end. What runs is then the stream with the bytes from the
  start of that read up to the frame's end cut out, which ``genops`` shows as part of a string.

The machine records every disagreement as a ``FrameBreak``; ``cut`` says which bytes the block
reader skips, and ``as_loaded`` rewrites the stream the way that reader sees it, so the analysis
interprets both readings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from malhug.core import failures
from malhug.core.model import Location
from malhug.core.rules import finding

if TYPE_CHECKING:
    from malhug.analyzers.context import ScanContext
    from malhug.analyzers.pickle.machine import Trace

FRAME_MISMATCH = "MH120"
MAX_REWRITES = 16  # frames rewritten per stream (each costs one more interpretation)

# Opcodes whose argument has a fixed size.
_FIXED = {0x4A: 4, 0x4B: 1, 0x4D: 2, 0x71: 1, 0x72: 4, 0x68: 1, 0x6A: 4, 0x47: 8, 0x80: 1, 0x82: 1, 0x83: 2, 0x84: 4}
# Opcodes whose argument is a length field of this width, then that many bytes.
_SIZED = {0x58: 4, 0x8C: 1, 0x8D: 8, 0x42: 4, 0x43: 1, 0x8E: 8, 0x96: 8, 0x54: 4, 0x55: 1, 0x8A: 1, 0x8B: 4}
# Opcodes whose argument is newline-terminated lines.
_LINES = {0x63: 2, 0x69: 2, 0x49: 1, 0x4C: 1, 0x46: 1, 0x53: 1, 0x56: 1, 0x70: 1, 0x67: 1, 0x50: 1}
FRAME = 0x95
STRADDLE = "straddle"  # an opcode's argument runs past the end of its frame
NESTED = "nested"  # a FRAME opens before the previous frame's bytes are used up
OVERLONG = "overlong"  # a frame declares more bytes than the stream holds


@dataclass(frozen=True, slots=True)
class FrameBreak:
    """A frame whose declared length disagrees with the opcodes in it (offsets in the machine's data)."""

    kind: str
    frame: int  # offset of the FRAME opcode
    end: int  # where its declared bytes end
    op: int  # the opcode that breaks it (the straddling opcode, or the FRAME)


@dataclass(slots=True)
class Rewrite:
    """The stream as the block reader sees it, and how to map its offsets back to the file's."""

    data: bytes
    cuts: list[tuple[int, int]] = field(default_factory=list)  # (offset in the rewritten data, bytes cut)
    skip: set[int] = field(default_factory=set)  # FRAME offsets whose bounds the rewrite already applies

    def original(self, offset: int) -> int:
        for at, size in reversed(self.cuts):
            if offset >= at:
                offset += size
        return offset


def _line_cut(data: bytes, pos: int, lines: int, end: int) -> int | None:
    for _ in range(lines):
        newline = data.find(b"\n", pos, end)
        if newline < 0:
            return pos
        pos = newline + 1
    return None


def cut(data: bytes, brk: FrameBreak) -> int | None:
    """Where the read that crosses ``brk.end`` starts (the block reader skips from there to the end).

    None when the block reader reads the same bytes as a linear one (a nested frame that fits in the
    open one, an overlong frame: every reader stops there) or when the opcode is not read through
    the unpickler's buffer.
    """
    if brk.kind == OVERLONG:
        return None
    op, end = brk.op, brk.end
    code = data[op]
    if code == FRAME:
        if op + 9 > end:
            return op + 1
        size = int.from_bytes(data[op + 1 : op + 9], "little")
        return op + 9 if op + 9 + size > end else None
    if code in _FIXED:
        return op + 1
    if code in _SIZED:
        width = _SIZED[code]
        return op + 1 if op + 1 + width > end else op + 1 + width
    if code in _LINES:
        return _line_cut(data, op + 1, _LINES[code], end)
    return None


def as_loaded(rewrite: Rewrite, brk: FrameBreak) -> bool:
    """Apply the block reader's skip for ``brk`` to ``rewrite``; False when it reads nothing else."""
    start = cut(rewrite.data, brk)
    if brk.kind == OVERLONG or start is None or start >= brk.end:
        return False
    rewrite.data = rewrite.data[:start] + rewrite.data[brk.end :]
    rewrite.cuts.append((start, brk.end - start))
    rewrite.skip.add(brk.frame)
    return True


def disagrees(data: bytes, brk: FrameBreak) -> bool:
    """Whether loaders that honour frames read ``brk`` differently from a linear reader.

    A frame may end between an opcode and its argument, or between an argument's length and its
    bytes (the C pickler writes a large ``bytes`` that way: header in the frame, data after it):
    every reader agrees there. Only a single read that runs over the end, or a nested FRAME,
    is a disagreement.
    """
    if brk.kind == NESTED:
        return True
    if brk.kind == OVERLONG:
        return False
    start = cut(data, brk)
    return start is not None and start < brk.end


def report_frame_breaks(ctx: ScanContext, breaks: list[FrameBreak], data: bytes) -> None:
    """MH120 for the first frame readers disagree on, MH901 for a frame longer than the stream."""
    mismatch = next((b for b in breaks if disagrees(data, b)), None)
    count = sum(1 for b in breaks if disagrees(data, b))
    if mismatch is not None:
        what = (
            f"the opcode at offset {mismatch.op} runs past its end"
            if mismatch.kind == STRADDLE
            else f"a FRAME at offset {mismatch.op} opens before it ends"
        )
        ctx.add(
            finding(
                FRAME_MISMATCH,
                f"pickle frame at offset {mismatch.frame} ends at offset {mismatch.end} but {what}"
                f" ({count} frame disagreement(s)): the pure-Python unpickler refuses the stream, an"
                " older C unpickler loading the file skips the rest of the frame and runs what follows it",
                location=Location(offset=mismatch.op),
                evidence=f"{mismatch.kind}: frame {mismatch.frame}..{mismatch.end}, opcode 0x{data[mismatch.op]:02x}"
                f" at {mismatch.op}",
            )
        )
    for brk in breaks:
        if brk.kind == OVERLONG:
            ctx.add(
                failures.malformed(
                    f"pickle frame at offset {brk.frame} declares bytes up to offset {brk.end}, the stream"
                    f" ends at {len(data)}: every unpickler fails there",
                    location=Location(offset=brk.frame),
                    evidence=f"frame {brk.frame}..{brk.end}",
                )
            )
            break


def remap_offsets(trace: Trace, original: Callable[[int], int]) -> None:
    """Give the records of a rewritten stream's interpretation the file's offsets."""
    for glob in trace.globals:
        glob.offset = original(glob.offset)
    for call in trace.calls:
        call.offset = original(call.offset)
    for mutation in trace.mutations:
        mutation.offset = original(mutation.offset)
