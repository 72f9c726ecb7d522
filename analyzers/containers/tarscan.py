"""Tar archives, including legacy PyTorch checkpoints (``sys_info``, ``pickle``, ``storages``,
``tensors``: each a pickle stream, ``storages``/``tensors`` followed by raw data).

Headers are read through ``tarfile`` over the byte source (data is skipped by seeking); members are
handed on as zero-copy slices.
"""

from __future__ import annotations

import tarfile

from malhug.analyzers import formats
from malhug.analyzers.containers.common import check_member_name, scan_member
from malhug.analyzers.containers.layout import LEGACY_TORCH_TAR
from malhug.analyzers.context import ScanContext
from malhug.analyzers.detect import detect_format
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.shared.slices import BoundedSourceIO, SliceSource
from malhug.analyzers.shared.source import ByteSource

# tarfile reads extended headers recursively: about this many chained headers exhaust the stack.
MAX_HEADER_CHAIN = 1000


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    legacy = bool(ctx.formats) and ctx.formats[-1] == formats.PYTORCH_TAR
    try:
        tar = tarfile.open(fileobj=BoundedSourceIO(src), mode="r:")
    except tarfile.TarError as exc:
        raise MalformedInput(f"tar: {exc}", offset=0) from exc
    except RecursionError as exc:  # the first member's header chain (see below)
        raise LimitExceeded("tar extended headers chained before one member", MAX_HEADER_CHAIN) from exc
    count = 0
    with tar:
        while True:
            ctx.check_time()
            try:
                info = tar.next()
            except tarfile.TarError as exc:
                raise MalformedInput(f"tar header after {count} members: {exc}", offset=tar.offset) from exc
            except RecursionError as exc:
                # tarfile follows GNU long-name / pax extended headers recursively, one frame each.
                raise LimitExceeded("tar extended headers chained before one member", MAX_HEADER_CHAIN) from exc
            if info is None:
                break
            count += 1
            if count > ctx.limits.max_members:
                raise LimitExceeded("tar members", ctx.limits.max_members, count)
            link = info.linkname if info.issym() or info.islnk() else None
            check_member_name(ctx, info.name, link_target=link)
            if not info.isreg() or info.sparse is not None:
                continue
            if info.offset_data + info.size > src.size:
                raise MalformedInput(f"tar member {info.name!r} runs past the end of the file", offset=info.offset_data)
            _member(ctx, SliceSource(src, info.offset_data, info.size), info.name, legacy)
        _check_end(src, tar.offset, count)


def _check_end(src: ByteSource, offset: int, count: int) -> None:
    """tarfile stops quietly at a bad header: anything but zero padding after the last member
    is a part of the archive we could not read."""
    rest = src.read_at(offset, min(src.size - offset, 4096)) if offset < src.size else b""
    if rest.strip(b"\x00"):
        raise MalformedInput(
            f"tar: unreadable header after {count} members; {src.size - offset} bytes not analyzed", offset=offset
        )


def _member(ctx: ScanContext, content: ByteSource, name: str, legacy: bool) -> None:
    if (legacy and name.strip("./") in LEGACY_TORCH_TAR) or name.endswith(".pkl"):
        # torch.load unpickles each of these (storages/tensors: pickles followed by raw data).
        scan_member(ctx, content, name, formats.PICKLE)
        return
    fmt = detect_format(content, name)
    if fmt in formats.ANALYZERS:
        scan_member(ctx, content, name, fmt)
