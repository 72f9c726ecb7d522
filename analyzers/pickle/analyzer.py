"""Pickle analyzer entry point: interpret every pickle in a stream symbolically, then judge.

A stream may hold several pickles (``pickle.dump`` called repeatedly, dill sessions, legacy torch
files: magic number, protocol, sys_info, model, storage keys, then raw storage bytes), and joblib
streams interleave raw array blocks. A stream that breaks part-way is judged up to the fault, then
the fault is reported (MH901); a limit hit is judged up to the limit, then re-raised (MH902).

A stream reached from text-looking bytes (a file that decodes as text, analyzed as a pickle because
the unpickler can walk it to an import or call, see ``pickle/reach.py``) is judged the same way,
but a break where the C unpickler also stops is not reported: every loader stops there with an
error, so nothing after it runs and nothing is left unanalyzed. What it reaches before is judged as
in any pickle (a dangerous or unknown callable is reported). A break *before* the unpickler's stop
(our machine gave up earlier) is still MH901.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from malhug.analyzers.context import ScanContext
from malhug.analyzers.gcpause import no_cyclic_gc
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.pickle.fold import Folder
from malhug.analyzers.pickle.frames import disagrees, remap_offsets, report_frame_breaks
from malhug.analyzers.pickle.judge import Judge
from malhug.analyzers.pickle.machine import Machine, Truncated
from malhug.analyzers.pickle.reach import walk
from malhug.analyzers.pickle.readings import MAX_READINGS, Reading, loader_readings, starts_pickle
from malhug.analyzers.shared.sidefiles import follow
from malhug.analyzers.shared.source import ByteSource
from malhug.analyzers.shared.text import decode_text
from malhug.core import failures
from malhug.core.model import Location
from malhug.core.rules import finding

LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_TORCH_PICKLES = 5
FIRST_WINDOW = (
    4 * 1024 * 1024
)  # bytes read first; grown x4 while the pickles go on  # magic, protocol, sys_info, model, storage keys; raw storages follow


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    with no_cyclic_gc():
        _analyze(ctx, src)


@dataclass(eq=False, repr=False, slots=True)
class _Run:
    """One interpretation of a prefix of the stream."""

    machine: Machine
    folder: Folder
    roots: list[Any] = field(default_factory=list)
    fault: MalformedInput | None = None
    limit: LimitExceeded | None = None
    count: int = 0
    trailing: int | None = None
    needs_more: bool = False  # the prefix ended where the stream goes on


def _interpret(ctx: ScanContext, data: bytes, partial: bool, track_frames: bool = True) -> _Run:
    folder = Folder(ctx.limits)
    run = _Run(Machine(data, ctx.limits, ctx.check_time, folder.fold_name, track_frames=track_frames), folder)
    machine, pos, legacy = run.machine, 0, False
    try:
        while pos < len(data):
            value, pos = machine.run(pos)
            run.roots.append(value)
            run.count += 1
            if run.count == 1:
                legacy = isinstance(value, int) and value == LEGACY_TORCH_MAGIC
            if legacy and run.count == LEGACY_TORCH_PICKLES:
                return run  # raw storage bytes follow, not pickles
            if pos < len(data) and not starts_pickle(data, pos):
                run.trailing = pos
                return run
            machine.stack.clear()
            machine.marks.clear()
        run.needs_more = partial
    except Truncated as exc:
        run.fault, run.needs_more = exc, partial
        run.roots.extend(machine.stack)
    except MalformedInput as exc:
        run.fault = exc
        run.roots.extend(machine.stack)
    except LimitExceeded as exc:
        run.limit = exc
        run.roots.extend(machine.stack)
    return run


def _unpickler_stops_there(ctx: ScanContext, src: ByteSource, data: bytes, fault: MalformedInput) -> bool:
    """Whether ``fault`` is in a text-looking stream at or after where the C unpickler stops."""
    if fault.offset is None or decode_text(data[:4096], complete=len(data) <= 4096) is None:
        return False
    reach = walk(src, ctx.limits, data[:65536], first_only=False)
    if reach.limited:
        return False
    # Both ran out of data (the machine names the last opcode's offset, the walk the end).
    return reach.stop <= fault.offset or (isinstance(fault, Truncated) and reach.stop >= src.size)


def _judge_frames(ctx: ScanContext, data: bytes, run: _Run) -> None:
    """Report frames that disagree with their opcodes, and judge every stream a file unpickler runs."""
    breaks = run.machine.trace.frame_breaks
    report_frame_breaks(ctx, breaks, data)
    if not any(disagrees(data, b) for b in breaks):
        return  # every reader reads the same bytes (a frame ending between a length and its data)
    readings = loader_readings(data, ctx.check_time, ctx.limits.max_pickle_ops)
    for reading in readings:
        _judge_reading(ctx, reading, run)
    if not readings.complete:
        ctx.add(
            failures.over_limit(
                f"pickle frames: the stream has more than {MAX_READINGS} readings by a file unpickler"
                f" (frames read as blocks or not); {readings.count} were analyzed",
                location=Location(offset=breaks[0].frame),
                evidence=f"{len(breaks)} frame break(s)",
            )
        )


def _judge_reading(ctx: ScanContext, reading: Reading, run: _Run) -> None:
    """Judge one loader reading; its findings that the linear reading did not have are added, at
    the file's offsets, saying which reading runs them."""
    again = _interpret(ctx, reading.data, partial=False, track_frames=False)
    seen = {(f.rule, f.message, f.location, f.evidence) for f in ctx.findings}
    remap_offsets(again.machine.trace, reading.original)
    mark = len(ctx.findings)
    Judge(ctx, again.machine.trace, again.roots, again.folder).run()
    fresh = [f for f in ctx.findings[mark:] if (f.rule, f.message, f.location, f.evidence) not in seen]
    del ctx.findings[mark:]
    how = reading.describe()
    ctx.findings.extend(dataclasses.replace(f, message=f"{f.message} ({how})") for f in fresh)
    if again.limit is not None and run.limit is None:
        run.limit = again.limit


def _analyze(ctx: ScanContext, src: ByteSource) -> None:
    # Read a prefix and grow it only while the pickles go on: a legacy checkpoint's pickles are its
    # first kilobytes, whatever gigabytes of raw storages follow them.
    size, cap = src.size, ctx.limits.max_stream_bytes
    window = min(size, cap, FIRST_WINDOW)
    while True:
        data = src.read_at(0, window)
        run = _interpret(ctx, data, partial=len(data) < size)
        if not run.needs_more:
            break
        if window >= cap:
            run.fault, run.limit = None, LimitExceeded("pickle stream bytes", cap, size)
            break
        window = min(size, cap, window * 4)
    if not data:
        run.fault = MalformedInput("empty pickle stream", 0)
    Judge(ctx, run.machine.trace, run.roots, run.folder).run()
    if run.machine.trace.frame_breaks and not run.needs_more:
        _judge_frames(ctx, data, run)
    for name, offset in run.machine.trace.side_files:
        follow(
            ctx, name, why=f"joblib NDArrayWrapper at offset {offset} (np.load with allow_pickle=True)", offset=offset
        )
    if run.fault is not None and _unpickler_stops_there(ctx, src, data, run.fault):
        run.fault = None
    if run.fault is not None:
        where = f" after {run.count} complete pickle(s)" if run.count else ""
        ctx.add(
            failures.malformed(
                f"pickle stream breaks{where}: {run.fault}",
                location=Location(offset=run.fault.offset),
                evidence=str(run.fault),
            )
        )
    if run.trailing is not None:
        ctx.add(
            finding(
                "MH111",
                f"{size - run.trailing} bytes follow the last pickle",
                location=Location(offset=run.trailing),
                evidence=data[run.trailing : run.trailing + 16].hex(),
            )
        )
    ctx.pickle_rest = run.trailing
    if run.fault is not None and not isinstance(run.fault, Truncated):
        ctx.pickle_rest = run.fault.offset
    if run.limit is not None:
        raise run.limit
