"""Keras H5 models (``model.h5``, ``tf_model.h5``, ``model.weights.h5``): read attributes, never load.

libhdf5 (through h5py) parses the HDF5 metadata, in a separate reader process
(``keras.h5worker``): a corrupted file can make libhdf5 loop forever or allocate whatever the file
declares, in C, where ``ctx.check_time()`` never runs. The worker has a memory limit
(``Limits.max_worker_memory``) and a deadline (``Limits.max_worker_seconds``, within the file's own);
on time-out it is killed and the file gets MH902, on death MH903, and the next file gets a fresh
worker. The worker reads the file only through this process's ByteSource, so ``bytes_read`` is exact
and ranges over HTTP or a zip member work; the bytes it may read are bounded by
``Limits.max_stream_bytes``.

The analysis reads attributes only (no dataset data, so no filter plugins are involved). The root
``model_config`` and ``training_config`` attributes hold the Keras config JSON, walked here by
``KerasConfigScanner``; every other string attribute is checked for Keras configs and hidden bytecode
as well.

Other files the HDF5 library opens when Keras (h5py) reads the model are side files
(``shared/sidefiles.py``), scanned with this one: the file an external link names (MH308, then
scanned as HDF5), the source files of virtual datasets (scanned), and the raw data files of
datasets with external storage (raw numbers: only checked to be there). A name outside the
folder is MH210, a missing file MH211; each file is scanned once per scan, within the nesting
depth, so links between files (and back) end.
"""

from __future__ import annotations

import json
import logging
import posixpath
import threading
import time
from dataclasses import dataclass
from typing import Any

from malhug.analyzers.context import ScanContext
from malhug.analyzers.keras import h5worker as proto
from malhug.analyzers.keras.config import KerasConfigScanner, looks_like_keras_config
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.shared.sidefiles import PREFIX, follow
from malhug.analyzers.shared.source import ByteSource
from malhug.analyzers.worker import WorkerDied, WorkerProcess, WorkerTimeout
from malhug.core import failures
from malhug.core.model import Location
from malhug.core.rules import finding

log = logging.getLogger(__name__)

CONFIG_ATTRS = ("model_config", "training_config")
WORKER_MODULE = "malhug.analyzers.keras.h5worker"
# When the reader fails on a resource (time, memory, a crash), the raw bytes are searched for Keras
# configs this far into the file: libhdf5 stores a variable-length string whole inside its global
# heap collection, and Keras writes model_config before any weight. Keras itself, with no limits,
# may well read what our reader could not.
RAW_WINDOW = 16 * 1024 * 1024
RAW_MARKER = b'"class_name"'
MAX_RAW_CONFIGS = 64


class ReaderPool:
    """The one HDF5 reader process of this scanning process: started on the first H5 file, reused
    while healthy, killed and replaced after a time-out or a death. One job at a time (a lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.worker: WorkerProcess | None = None
        self.started = 0  # workers started so far (tests check a killed one is replaced)

    def get(self) -> WorkerProcess:
        if self.worker is None or not self.worker.alive():
            if self.worker is not None:
                self.worker.kill()
            if self.started == 0:
                import atexit

                atexit.register(self.close)
            self.worker = WorkerProcess(WORKER_MODULE, proto.MAX_FRAME)
            self.started += 1
        return self.worker

    def discard(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def close(self) -> None:
        """Kill the worker (at exit, or after it sent something it should not have)."""
        held = self.lock.acquire(timeout=5.0)
        try:
            self.discard()
        finally:
            if held:
                self.lock.release()


# A process resource (like an open file), not analysis state: no finding or verdict depends on it.
POOL = ReaderPool()


def _serve(ctx: ScanContext, src: ByteSource, worker: WorkerProcess, deadline: float, events: list[Any]) -> None:
    """Run one job on ``worker``, appending the events it sends to ``events``. Raises on time-out,
    death or the byte bound (the events so far stay: what was read before is still analyzed)."""
    limits = ctx.limits
    job = {"size": src.size, "memory": limits.max_worker_memory, "max_members": limits.max_members}
    worker.send(proto.JOB, json.dumps(job).encode(), deadline)
    served = received = 0
    while True:
        kind, payload = worker.recv(deadline)
        # What the worker sends back is bounded too: one heap string can be named by every attribute.
        received += len(payload)
        if received > limits.max_decompressed_bytes:
            raise LimitExceeded("HDF5 attribute text", limits.max_decompressed_bytes, received)
        if kind == proto.READ and len(payload) == proto.READ_REQUEST.size:
            offset, length = proto.READ_REQUEST.unpack(payload)
            if length > proto.CHUNK:
                raise WorkerDied(f"worker asked for {length} bytes at once")
            data = src.read_at(offset, length) if offset < src.size else b""
            served += len(data)
            if served > limits.max_stream_bytes:
                raise LimitExceeded("HDF5 metadata bytes read", limits.max_stream_bytes, served)
            worker.send(proto.DATA, data, deadline)
        elif kind == proto.EVENT:
            try:
                event = json.loads(payload)
            except ValueError as exc:
                raise WorkerDied(f"worker sent an unreadable event: {exc}") from exc
            if not isinstance(event, list) or not event or not isinstance(event[0], str):
                raise WorkerDied("worker sent an event of the wrong shape")
            events.append(event)
        elif kind == proto.DONE:
            return
        else:
            raise WorkerDied(f"worker sent an unexpected frame (kind {kind}, {len(payload)} bytes)")


@dataclass(slots=True)
class _Outcome:
    events: list[Any]
    failure: BaseException | None


def _read(ctx: ScanContext, src: ByteSource) -> _Outcome:
    limits = ctx.limits
    deadline = min(ctx.deadline, time.monotonic() + limits.max_worker_seconds)
    if not POOL.lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise LimitExceeded("time waiting for the HDF5 reader (seconds)", limits.max_worker_seconds)
    try:
        worker = POOL.get()
        events: list[Any] = []
        try:
            _serve(ctx, src, worker, deadline, events)
            return _Outcome(events, None)
        except WorkerTimeout:
            POOL.discard()
            seconds = min(limits.max_worker_seconds, limits.max_seconds)
            return _Outcome(events, LimitExceeded("HDF5 reading time (seconds)", seconds))
        except (WorkerDied, LimitExceeded) as exc:
            POOL.discard()
            return _Outcome(events, exc)
        except BaseException:
            POOL.discard()  # the source failed mid-job: the worker waits for a reply it never gets
            raise
    finally:
        POOL.lock.release()


def _text_event(event: list[Any], fields: int) -> list[str]:
    if len(event) != fields or not all(isinstance(item, str) for item in event):
        raise WorkerDied(f"worker sent a malformed {event[0]!r} event")
    return event


class _Findings:
    """Turns the worker's events into findings (the analysis itself runs here, not in the worker)."""

    def __init__(self, ctx: ScanContext):
        self.ctx = ctx
        self.config_read = False  # the root model_config attribute was analyzed
        self.starved = False  # libhdf5 ran out of the reader's memory somewhere
        self.side: list[tuple[str, str, bool]] = []  # (file name, why, analyze): followed at the end

    def event(self, event: list[Any]) -> None:
        tag = event[0]
        if tag == "attr":
            self.attr(event)
        elif tag == "attrerr":
            _, member, message = _text_event(event, 3)
            self.malformed(member, f"HDF5 attribute {member} cannot be read: {message}")
        elif tag == "broken":
            _, member, what, message = _text_event(event, 4)
            self.malformed(member, f"HDF5 {what} {member} cannot be read: {message}")
        elif tag == "memory":
            _, member, message = _text_event(event, 3)
            self.starved = True
            self.ctx.add(
                failures.over_limit(
                    f"hdf5: HDF5 metadata of {member} needs more memory than the reader's limit of "
                    f"{self.ctx.limits.max_worker_memory:g} bytes: {message}",
                    location=Location(member=member),
                    evidence=message[:500],
                )
            )
        elif tag == "extlink":
            _, path, filename, target = _text_event(event, 4)
            self.ctx.add(
                finding(
                    "MH308",
                    f"HDF5 link {path} points into another file: {filename}:{target}",
                    location=Location(member=path),
                    evidence=f"{filename}:{target}",
                )
            )
            self.side.append((filename, f"HDF5 external link {path}", True))
        elif tag == "external":
            _, path, filename = _text_event(event, 3)
            self.side.append((filename, f"HDF5 dataset {path} (external raw data)", False))
        elif tag == "vds":
            _, path, filename, dataset = _text_event(event, 4)
            if filename != ".":  # "." is this file
                self.side.append((filename, f"HDF5 virtual dataset {path} (source {dataset})", True))
        elif tag == "limit" and len(event) == 4 and isinstance(event[1], str):
            what, limit, actual = event[1], event[2], event[3]
            if not isinstance(limit, (int, float)) or not isinstance(actual, (int, float, type(None))):
                raise WorkerDied("worker sent a malformed limit event")
            raise LimitExceeded(what, limit, actual)
        elif tag == "crash":
            _, message = _text_event(event, 2)
            raise WorkerDied(f"it raised {message}")
        elif tag == "malformed":
            _, message = _text_event(event, 2)
            raise MalformedInput(message)
        else:
            raise WorkerDied(f"worker sent an unknown event {tag!r}")

    def follow_side_files(self) -> None:
        member = self.ctx.member or ""
        if self.side and not member:  # a link back into this file: nothing new to read
            self.ctx.side_seen.add(posixpath.basename(self.ctx.name.replace("\\", "/")))
        # libhdf5 resolves a relative name against the folder of the file that holds the link: for a
        # side file in a subfolder (``side:sub/a.h5``), that subfolder.
        base = posixpath.dirname(member.rpartition(PREFIX)[2]) if PREFIX in member else ""
        for name, why, analyze in self.side:
            relative = not name.startswith(("/", "\\")) and ":" not in name[:3]
            follow(self.ctx, posixpath.join(base, name) if base and relative else name, why=why, analyze=analyze)

    def malformed(self, member: str, message: str) -> None:
        self.ctx.add(failures.malformed(message, location=Location(member=member)))

    def attr(self, event: list[Any]) -> None:
        if len(event) != 6 or not all(isinstance(item, str) for item in event[:5]):
            raise WorkerDied("worker sent a malformed attribute event")
        _, obj_name, attr, member, kind, value = event
        scanner = KerasConfigScanner(self.ctx, member=member)
        if kind == "items" and isinstance(value, list) and all(isinstance(item, str) for item in value):
            for item in value:
                scanner.scan(item)
            return
        if kind != "text" or not isinstance(value, str):
            raise WorkerDied("worker sent a malformed attribute value")
        if obj_name == "/" and attr in CONFIG_ATTRS:
            self.config_read = self.config_read or attr == "model_config"
            scanner.scan_text(value, what=f"HDF5 attribute {attr}")
            return
        stripped = value.lstrip()
        if stripped.startswith("{") and ("class_name" in value or "config" in value):
            parsed = scanner.scan_text(value, what=f"HDF5 attribute {member}", required=False)
            if parsed is not None and not looks_like_keras_config(parsed):
                log.debug("JSON attribute %s is not a Keras config", member)
            return
        scanner.scan(value)


def _raw_configs(ctx: ScanContext, src: ByteSource) -> None:
    """Keras configs in the raw bytes: each JSON string that names a ``class_name``, cut at the NUL
    bytes around it (a heap object's size field before it, padding after it)."""
    data = src.read_at(0, min(src.size, ctx.limits.max_stream_bytes, RAW_WINDOW))
    pos, found = data.find(RAW_MARKER), 0
    while pos >= 0 and found < MAX_RAW_CONFIGS:
        ctx.check_time()
        start = data.rfind(b"\x00", 0, pos) + 1
        end = data.find(b"\x00", pos)
        end = len(data) if end < 0 else end
        text = data[start:end].decode("utf-8", "replace")
        if text.lstrip().startswith("{"):
            found += 1
            member = f"offset {start}"
            KerasConfigScanner(ctx, member=member).scan_text(text, what=f"Keras config at {member}", required=False)
        pos = data.find(RAW_MARKER, end)


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    outcome = _read(ctx, src)
    findings = _Findings(ctx)
    try:
        for index, event in enumerate(outcome.events):
            if index % 256 == 0:
                ctx.check_time()
            findings.event(event)
    except WorkerDied as exc:  # a broken event: whatever sent it is not trusted with another file
        POOL.close()
        outcome.failure = exc
    except LimitExceeded as exc:  # the walk stopped at a limit (it says so as its last event)
        outcome.failure = exc
    findings.follow_side_files()
    failure = outcome.failure
    if (findings.starved or isinstance(failure, (WorkerDied, LimitExceeded))) and not findings.config_read:
        _raw_configs(ctx, src)
    if isinstance(failure, WorkerDied):
        ctx.add(
            failures.failed(
                f"hdf5: the HDF5 reader process failed ({failure}); the rest of the file was not analyzed",
                evidence=str(failure)[:500],
            )
        )
    elif failure is not None:
        raise failure
