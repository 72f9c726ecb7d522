"""Pickle analyzer entry point: interpret every pickle in a stream symbolically, then judge.

A stream may hold several pickles (``pickle.dump`` called repeatedly, dill sessions, legacy torch
files: magic number, protocol, sys_info, model, storage keys, then raw storage bytes), and joblib
streams interleave raw array blocks. A stream that breaks part-way is judged up to the fault, then
the fault is reported (MH901); a limit hit is judged up to the limit, then re-raised (MH902).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.pickle.fold import Folder
from malhug.analyzers.pickle.judge import Judge
from malhug.analyzers.pickle.machine import Machine
from malhug.analyzers.source import ByteSource, read_all
from malhug.core.model import Location
from malhug.core.rules import finding

LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_TORCH_PICKLES = 5  # magic, protocol, sys_info, model, storage keys; raw storages follow
# First opcodes of a protocol 0/1 pickle (a protocol 2+ pickle starts with PROTO).
_PROTO0_STARTS = frozenset(b"(cSVIJKLNF}])XTUGdl")


def starts_pickle(data: bytes, pos: int) -> bool:
    if pos >= len(data):
        return False
    if data[pos] == 0x80:
        return pos + 1 < len(data) and data[pos + 1] <= 5
    return data[pos] in _PROTO0_STARTS


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The machine allocates hundreds of thousands of small acyclic objects; the cyclic collector
    would rescan them over and over (half the run time on a large checkpoint). Memory stays bounded
    by the limits; collection resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    with _no_cyclic_gc():
        _analyze(ctx, src)


def _analyze(ctx: ScanContext, src: ByteSource) -> None:
    data = read_all(src, ctx.limits.max_stream_bytes)
    folder = Folder(ctx.limits)
    machine = Machine(data, ctx.limits, ctx.check_time, folder.fold_name)
    roots: list[Any] = []
    fault: MalformedInput | None = None
    limit: LimitExceeded | None = None
    pos = count = 0
    trailing = None
    legacy = False
    try:
        while pos < len(data):
            value, pos = machine.run(pos)
            roots.append(value)
            count += 1
            if count == 1:
                legacy = isinstance(value, int) and value == LEGACY_TORCH_MAGIC
            if legacy and count == LEGACY_TORCH_PICKLES:
                break
            if pos < len(data) and not starts_pickle(data, pos):
                trailing = pos
                break
            machine.stack.clear()
            machine.marks.clear()
    except MalformedInput as exc:
        fault = exc
        roots.extend(machine.stack)
    except LimitExceeded as exc:
        limit = exc
        roots.extend(machine.stack)
    if not data:
        fault = MalformedInput("empty pickle stream", 0)
    Judge(ctx, machine.trace, roots, folder).run()
    if fault is not None:
        where = f" after {count} complete pickle(s)" if count else ""
        ctx.add(
            finding(
                "MH901",
                f"pickle stream breaks{where}: {fault}",
                location=Location(offset=fault.offset),
                evidence=str(fault),
            )
        )
    if trailing is not None:
        ctx.add(
            finding(
                "MH111",
                f"{len(data) - trailing} bytes follow the last pickle",
                location=Location(offset=trailing),
                evidence=data[trailing : trailing + 16].hex(),
            )
        )
    if limit is not None:
        raise limit
