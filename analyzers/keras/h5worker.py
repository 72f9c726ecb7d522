"""The HDF5 reader process: every h5py/libhdf5 call of a scan runs here, never in the scanning process.

libhdf5 can loop forever on a corrupted global heap (a free-space object of size 0 never advances its
parse loop) and allocates whatever sizes the file declares; neither can be stopped from Python in the
same process. This module is the worker's ``main`` (started by ``analyzers.worker.WorkerProcess``); it
is imported by the parent only for its protocol constants, so the parent never imports h5py.

Protocol (frames of ``analyzers.worker``): the parent sends ``JOB`` (JSON: source size, memory limit,
object limit); the worker reads the file only through ``READ`` requests (``>QQ`` offset, length, at
most ``CHUNK``) that the parent answers with ``DATA`` from the scan's ByteSource, so HTTP range reads
and zip members work and the parent counts every byte. It never gets a path. It reports what it
found as ``EVENT`` frames (JSON lists, below) and ends the job with ``DONE``:

- ``["attr", obj_name, attr, member, "text", str]`` or ``[..., "items", [str, ...]]``: a string
  attribute (or the strings of a string array of at most 100,000 items, 24 characters or longer);
- ``["attrerr", member, message]``, ``["broken", member, what, message]``: unreadable metadata;
- ``["memory", member, message]``: libhdf5 could not allocate what the file declares;
- ``["extlink", path, filename, target]``: an external link (not traversed here; the parent scans
  the file it names as a side file);
- ``["external", path, filename]``: a dataset whose raw data is in another file (External Data
  Files message), ``["vds", path, filename, dataset]``: a virtual dataset mapping another file's
  dataset (each file named once per dataset, at most ``MAX_FILES_PER_DATASET``);
- ``["limit", what, limit, actual]``, ``["malformed", message]``: the walk stopped;
- ``["crash", message]``: our own code raised (the worker then exits; the parent reports MH903).
"""

from __future__ import annotations

import json
import struct
from typing import Any

from malhug.analyzers.shared.source import SourceBase
from malhug.analyzers.shared.sourceio import SourceIO

JOB, DATA, READ, EVENT, DONE = 1, 2, 3, 4, 5
READ_REQUEST = struct.Struct(">QQ")
# Bytes the worker asks for in one READ (the parent also refuses more).
CHUNK = 4 * 1024 * 1024
# Attributes larger than this are not read (HDF5 allows huge dense attributes).
MAX_ATTR_BYTES = 64 * 1024 * 1024
MAX_ATTRS = 10_000
# Largest frame either side accepts: an attribute's text, JSON-escaped (at most 6 bytes a byte).
MAX_FRAME = 6 * MAX_ATTR_BYTES + 1024 * 1024
# What h5py raises on corrupted metadata (it maps HDF5 error stacks onto these; names it cannot
# decode surface as UnicodeDecodeError/AttributeError).
H5_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, UnicodeDecodeError, AttributeError)
# libhdf5's words for an allocation that failed (under the worker's RLIMIT_AS).
ALLOCATION_FAILED = ("H5MM_", "memory allocation failed", "unable to allocate", "can't allocate")
MAX_FILES_PER_DATASET = 64


class _Stop(Exception):
    """The walk ends here (a limit or an unopenable file); the event is already sent."""


class _ChannelSource(SourceBase):
    """The scanned file as a ByteSource whose reads go to the parent (the worker never opens a path)."""

    def __init__(self, channel: Any, size: int):
        super().__init__(size)
        self._channel = channel

    def _read_range(self, offset: int, length: int) -> bytes:
        # h5py pads a short read with zeros, so fill the whole request unless the file ends.
        out = bytearray()
        pos = offset
        end = offset + length
        while pos < end:
            want = min(end - pos, CHUNK)
            self._channel.send(READ, READ_REQUEST.pack(pos, want))
            reply = self._channel.recv()
            if reply is None or reply[0] != DATA or not reply[1] or len(reply[1]) > want:
                raise OSError("the scanning process refused the read")
            out += reply[1]
            pos += len(reply[1])
        self._read += len(out)
        return bytes(out)


def _as_text(value: Any) -> str | None:
    import numpy as np

    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return str(value)
    return None


def _message(exc: BaseException) -> str:
    return str(exc)


def _name(name: Any) -> str:
    """An attribute or link name for display (h5py gives bytes for names that are not UTF-8)."""
    if isinstance(name, bytes):
        return name.decode("utf-8", "replace")
    return str(name)


class _Walker:
    def __init__(self, channel: Any, max_members: int):
        self.channel = channel
        self.max_members = max_members
        self.objects = 0

    def emit(self, *event: Any) -> None:
        self.channel.send(EVENT, json.dumps(list(event)).encode("ascii"))

    def stop(self, what: str, limit: float, actual: float | None) -> None:
        self.emit("limit", what, limit, actual)
        raise _Stop

    def failed(self, member: str, exc: BaseException, event: tuple[Any, ...]) -> None:
        text = _message(exc)
        if isinstance(exc, MemoryError) or any(word in text for word in ALLOCATION_FAILED):
            self.emit("memory", member, text or type(exc).__name__)
        else:
            self.emit(*event, text)

    def read_attr(self, obj: Any, attr: str) -> Any:
        import h5py

        aid = h5py.h5a.open(obj.id, attr.encode("utf-8"))
        size = aid.get_storage_size()
        if size > MAX_ATTR_BYTES:
            self.stop(f"HDF5 attribute {attr!r} size", MAX_ATTR_BYTES, size)
        return obj.attrs[attr]

    def attributes(self, obj: Any, name: str) -> None:
        try:
            count = len(obj.attrs)
            if count > MAX_ATTRS:
                self.stop(f"HDF5 attributes of {name}", MAX_ATTRS, count)
            names = list(obj.attrs.keys())
        except (*H5_ERRORS, MemoryError) as exc:
            self.failed(name, exc, ("broken", name, "attributes of"))
            return
        for attr in names:
            shown = _name(attr)
            member = shown if name == "/" else f"{name}@{shown}"
            try:
                value = self.read_attr(obj, attr)
            except (*H5_ERRORS, MemoryError) as exc:
                self.failed(member, exc, ("attrerr", member))
                continue
            self.attribute(name, shown, member, value)

    def attribute(self, obj_name: str, attr: str, member: str, value: Any) -> None:
        import numpy as np

        text = _as_text(value)
        if text is not None:
            self.emit("attr", obj_name, attr, member, "text", text)
            return
        if isinstance(value, np.ndarray) and value.dtype.kind in "SOU" and value.size <= 100_000:
            items = [t for t in (_as_text(item) for item in value.reshape(-1)) if t is not None and len(t) >= 24]
            if items:
                self.emit("attr", obj_name, attr, member, "items", items)

    def child(self, group: Any, key: str, path: str) -> Any:
        import h5py

        link = group.get(key, getlink=True)
        if isinstance(link, h5py.ExternalLink):
            self.emit("extlink", path, link.filename, link.path)
            return None
        if not isinstance(link, h5py.HardLink):
            return None
        return group[key]

    def storage(self, dset: Any, path: str) -> None:
        """The other files a dataset's data is read from (its creation properties: no data is read)."""
        try:
            external = [(_name(item[0]),) for item in dset.external or ()]
            virtual = (
                [(_name(s.file_name), _name(s.dset_name)) for s in dset.virtual_sources()] if dset.is_virtual else []
            )
        except (*H5_ERRORS, MemoryError) as exc:
            self.failed(path, exc, ("broken", path, "storage of"))
            return
        for tag, names in (("external", external), ("vds", virtual)):
            seen: set[str] = set()
            for item in names:
                if item[0] in seen:
                    continue
                if len(seen) >= MAX_FILES_PER_DATASET:
                    self.stop(f"HDF5 files named by dataset {path}", MAX_FILES_PER_DATASET, len(names))
                seen.add(item[0])
                self.emit(tag, path, *item)

    def walk(self, root: Any) -> None:
        import h5py

        self.attributes(root, "/")
        seen: set[int] = set()
        stack: list[tuple[Any, str]] = [(root, "")]
        while stack:
            group, prefix = stack.pop()
            try:
                count = len(group)  # from the group's info: no link list is built to know it
                if self.objects + count > self.max_members:
                    self.stop("HDF5 objects", self.max_members, self.objects + count)
                keys = list(group.keys())
            except (*H5_ERRORS, MemoryError) as exc:
                self.failed(prefix or "/", exc, ("broken", prefix or "/", "group"))
                continue
            for key in keys:
                self.objects += 1
                if self.objects > self.max_members:
                    self.stop("HDF5 objects", self.max_members, self.objects)
                path = f"{prefix}/{_name(key)}"
                try:
                    obj = self.child(group, key, path)
                    if obj is None:
                        continue
                    addr = h5py.h5o.get_info(obj.id).addr
                except (*H5_ERRORS, MemoryError) as exc:
                    self.failed(path, exc, ("broken", path, "object"))
                    continue
                if addr in seen:
                    continue  # hard-link cycles and aliases
                seen.add(addr)
                self.attributes(obj, path)
                if isinstance(obj, h5py.Group):
                    stack.append((obj, path))
                elif isinstance(obj, h5py.Dataset):
                    self.storage(obj, path)


def run_job(channel: Any, job: dict[str, Any]) -> None:
    import h5py

    walker = _Walker(channel, int(job["max_members"]))
    try:
        try:
            handle = h5py.File(SourceIO(_ChannelSource(channel, int(job["size"]))), "r")
        except (*H5_ERRORS, MemoryError) as exc:
            walker.emit("malformed", f"HDF5 file cannot be opened: {exc}")
            return
        with handle:
            walker.walk(handle)
    except _Stop:
        return


def main() -> None:
    from malhug.analyzers.worker import ChildChannel, limit_child

    channel = ChildChannel(MAX_FRAME)
    import h5py  # noqa: F401  (loaded once, before any input is read)
    import numpy  # noqa: F401

    while True:
        request = channel.recv()
        if request is None or request[0] != JOB:
            return
        job = json.loads(request[1])
        limit_child(int(job["memory"]))
        try:
            run_job(channel, job)
        except Exception as exc:  # told to the parent (MH903 with this message), then the worker exits
            channel.send(EVENT, json.dumps(["crash", f"{type(exc).__name__}: {exc}"]).encode("ascii"))
            raise
        channel.send(DONE, b"")
