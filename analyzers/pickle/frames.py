"""Pickle frames whose declared length disagrees with their opcodes (PEP 3154 framing; CPython gh-154848).

A FRAME opcode declares how many bytes the opcodes that follow take. Readers disagree when the
declaration is wrong:

- ``pickletools.genops``, ``pickle.loads`` on bytes, and our machine read straight through and
  ignore the declared length;
- the pure-Python unpickler (and the C one from CPython 3.13.15/3.14.7) refuses an opcode that runs
  past its frame's end, and a FRAME that opens before the previous one closed;
- the older C unpickler reading a *file* takes a frame that is not already in its buffer as one
  block of exactly the declared length, and a read that runs past the block's end is served afresh
  from the file after it: the rest of the block is skipped (``readings.py`` enumerates what it runs).

The machine records every place the frames and the opcodes disagree as a ``FrameBreak``; this
module decides which are disagreements between readers (MH120) and which fail every loader
(a frame longer than the stream: MH901).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from malhug.analyzers.pickle.readings import FIXED, LINES, READ_INTO, SIZED, starts_pickle
from malhug.core import failures
from malhug.core.model import Location
from malhug.core.rules import finding

if TYPE_CHECKING:
    from malhug.analyzers.context import ScanContext
    from malhug.analyzers.pickle.machine import Trace

FRAME_MISMATCH = "MH120"

FRAME = 0x95
STRADDLE = "straddle"  # an opcode's argument runs past the end of its frame
NESTED = "nested"  # a FRAME opens before the previous frame's bytes are used up
OVERLONG = "overlong"  # a frame declares more bytes than the stream holds
EARLY_STOP = "early-stop"  # a pickle's STOP comes before its frame's end (the next load starts after the frame)


@dataclass(frozen=True, slots=True)
class FrameBreak:
    """A frame whose declared length disagrees with the opcodes in it (offsets in the machine's data)."""

    kind: str
    frame: int  # offset of the FRAME opcode
    end: int  # where its declared bytes end
    op: int  # the opcode that breaks it (the straddling opcode, or the FRAME)


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
    if code in FIXED:
        return op + 1
    width = SIZED.get(code, READ_INTO.get(code))
    if width is not None:
        return op + 1 if op + 1 + width > end else op + 1 + width
    if code in LINES:
        return _line_cut(data, op + 1, LINES[code], end)
    return None


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
    if brk.kind == EARLY_STOP:  # a second pickle.load on the file starts somewhere else
        return starts_pickle(data, brk.op + 1) or starts_pickle(data, brk.end)
    start = cut(data, brk)
    return start is not None and start < brk.end


def report_frame_breaks(ctx: ScanContext, breaks: list[FrameBreak], data: bytes) -> None:
    """MH120 for the first frame readers disagree on, MH901 for a frame longer than the stream."""
    mismatch = next((b for b in breaks if disagrees(data, b)), None)
    count = sum(1 for b in breaks if disagrees(data, b))
    if mismatch is not None:
        what = {
            STRADDLE: f"the opcode at offset {mismatch.op} runs past its end",
            EARLY_STOP: f"the pickle stops at offset {mismatch.op}, inside it",
        }.get(mismatch.kind, f"a FRAME at offset {mismatch.op} opens before it ends")
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
