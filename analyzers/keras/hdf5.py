"""Keras H5 models (``model.h5``, ``tf_model.h5``, ``model.weights.h5``): read attributes, never load.

h5py parses the HDF5 metadata; the analysis reads attributes only (no dataset data, so no filter
plugins are involved). The root ``model_config`` and ``training_config`` attributes hold the Keras
config JSON, walked by ``KerasConfigScanner``; every other string attribute is checked for Keras
configs and hidden bytecode as well. External links are reported, never followed.
"""

from __future__ import annotations

import logging
from typing import Any

import h5py
import numpy as np

from malhug.analyzers.context import ScanContext
from malhug.analyzers.keras.config import KerasConfigScanner, looks_like_keras_config
from malhug.analyzers.keras.sourceio import SourceIO
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.source import ByteSource
from malhug.core.model import Location
from malhug.core.rules import finding

log = logging.getLogger(__name__)

CONFIG_ATTRS = ("model_config", "training_config")
# What h5py raises on corrupted metadata (it maps HDF5 error stacks onto these; names it cannot
# decode surface as UnicodeDecodeError/AttributeError).
H5_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, UnicodeDecodeError, AttributeError)
# Attributes larger than this are not read (HDF5 allows huge dense attributes).
MAX_ATTR_BYTES = 64 * 1024 * 1024
MAX_ATTRS = 10_000


def _as_text(value: Any) -> str | None:
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return str(value)
    return None


class _H5Walker:
    def __init__(self, ctx: ScanContext):
        self.ctx = ctx
        self.objects = 0

    def attr_location(self, obj_name: str, attr: str) -> str:
        return attr if obj_name == "/" else f"{obj_name}@{attr}"

    def read_attr(self, obj: h5py.HLObject, attr: str) -> Any:
        aid = h5py.h5a.open(obj.id, attr.encode("utf-8"))
        size = aid.get_storage_size()
        if size > MAX_ATTR_BYTES:
            raise LimitExceeded(f"HDF5 attribute {attr!r} size", MAX_ATTR_BYTES, size)
        return obj.attrs[attr]

    def broken(self, member: str, what: str, exc: BaseException) -> None:
        self.ctx.add(finding("MH901", f"HDF5 {what} {member} cannot be read: {exc}", location=Location(member=member)))

    def attributes(self, obj: h5py.HLObject, name: str) -> None:
        try:
            count = len(obj.attrs)
            if count > MAX_ATTRS:
                raise LimitExceeded(f"HDF5 attributes of {name}", MAX_ATTRS, count)
            names = list(obj.attrs.keys())
        except H5_ERRORS as exc:
            self.broken(name, "attributes of", exc)
            return
        for attr in names:
            member = self.attr_location(name, attr)
            try:
                value = self.read_attr(obj, attr)
            except H5_ERRORS as exc:
                self.ctx.add(
                    finding("MH901", f"HDF5 attribute {member} cannot be read: {exc}", location=Location(member=member))
                )
                continue
            self.attribute(name, attr, member, value)

    def attribute(self, obj_name: str, attr: str, member: str, value: Any) -> None:
        """Check one attribute value (``obj_name`` is "/" for the root group)."""
        scanner = KerasConfigScanner(self.ctx, member=member)
        text = _as_text(value)
        if text is None:
            if isinstance(value, np.ndarray) and value.dtype.kind in "SOU" and value.size <= 100_000:
                for item in value.reshape(-1):
                    item_text = _as_text(item)
                    if item_text is not None and len(item_text) >= 24:
                        scanner.scan(item_text)
            return
        if obj_name == "/" and attr in CONFIG_ATTRS:
            scanner.scan_text(text, what=f"HDF5 attribute {attr}")
            return
        stripped = text.lstrip()
        if stripped.startswith("{") and ("class_name" in text or "config" in text):
            parsed = scanner.scan_text(text, what=f"HDF5 attribute {member}", required=False)
            if parsed is not None and not looks_like_keras_config(parsed):
                log.debug("JSON attribute %s is not a Keras config", member)
            return
        scanner.scan(text)

    def child(self, group: h5py.Group, key: str, path: str) -> h5py.HLObject | None:
        """The object a hard link names; external links are reported, soft links skipped."""
        link = group.get(key, getlink=True)
        if isinstance(link, h5py.ExternalLink):
            self.ctx.add(
                finding(
                    "MH308",
                    f"HDF5 link {path} points into another file: {link.filename}:{link.path}",
                    location=Location(member=path),
                    evidence=f"{link.filename}:{link.path}",
                )
            )
            return None
        if not isinstance(link, h5py.HardLink):
            return None
        return group[key]

    def walk(self, root: h5py.File) -> None:
        self.attributes(root, "/")
        seen: set[int] = set()
        stack: list[tuple[h5py.Group, str]] = [(root, "")]
        while stack:
            group, prefix = stack.pop()
            try:
                count = len(group)  # from the group's info: no link list is built to know it
                if self.objects + count > self.ctx.limits.max_members:
                    raise LimitExceeded("HDF5 objects", self.ctx.limits.max_members, self.objects + count)
                keys = list(group.keys())
            except H5_ERRORS as exc:
                self.broken(prefix or "/", "group", exc)
                continue
            for key in keys:
                self.objects += 1
                if self.objects > self.ctx.limits.max_members:
                    raise LimitExceeded("HDF5 objects", self.ctx.limits.max_members, self.objects)
                if self.objects % 256 == 0:
                    self.ctx.check_time()
                path = f"{prefix}/{key}"
                try:
                    obj = self.child(group, key, path)
                    if obj is None:
                        continue
                    addr = h5py.h5o.get_info(obj.id).addr
                except H5_ERRORS as exc:
                    self.broken(path, "object", exc)
                    continue
                if addr in seen:
                    continue  # hard-link cycles and aliases
                seen.add(addr)
                self.attributes(obj, path)
                if isinstance(obj, h5py.Group):
                    stack.append((obj, path))


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    try:
        handle = h5py.File(SourceIO(src), "r")
    except H5_ERRORS as exc:
        raise MalformedInput(f"HDF5 file cannot be opened: {exc}") from exc
    with handle:
        _H5Walker(ctx).walk(handle)
