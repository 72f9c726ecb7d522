"""Zip analyzers: PyTorch checkpoints, NumPy ``.npz`` and any other zip.

Only the directory and the members that matter are read: every ``*.pkl`` member (any folder name),
code and nested containers found by sniffing a member's first bytes. Tensor storages under
``<folder>/data/`` are never read, so a 4 GiB checkpoint costs its directory and its pickle.
"""

from __future__ import annotations

import re

from malhug.analyzers import formats
from malhug.analyzers.containers import npy
from malhug.analyzers.containers.common import ENCRYPTED_MEMBER, UNSUPPORTED_METHOD, check_member_name, scan_member
from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.shared.slices import HeadSource, SliceSource
from malhug.analyzers.shared.source import ByteSource
from malhug.analyzers.shared.ziparchive import (
    EncryptedMember,
    UnsupportedCompression,
    ZipArchive,
    ZipMember,
)
from malhug.core import failures
from malhug.core.model import Location
from malhug.core.rules import finding

SNIFF_BYTES = 4096
# Stored members larger than this are analyzed through a zero-copy view (no CRC check).
SLICE_ABOVE = 16 * 1024 * 1024
NPY_HEAD_BYTES = 64 * 1024
# Small bookkeeping members of torch archives and what they may hold.
_TORCH_TINY = {
    "version": re.compile(rb"\d{1,4}\s*"),
    ".format_version": re.compile(rb"\d{1,4}\s*"),
    ".storage_alignment": re.compile(rb"\d{1,6}\s*"),
    "byteorder": re.compile(rb"(little|big)\s*"),
    "serialization_id": re.compile(rb"[0-9a-fA-F]{1,128}\s*"),
}
BEFORE_ARCHIVE = "<before archive>"


def analyze_pytorch_zip(ctx: ScanContext, src: ByteSource) -> None:
    _scan(ctx, src, formats.PYTORCH_ZIP)


def analyze_npz(ctx: ScanContext, src: ByteSource) -> None:
    _scan(ctx, src, formats.NPZ)


def analyze_zip(ctx: ScanContext, src: ByteSource) -> None:
    _scan(ctx, src, formats.ZIP)


def _scan(ctx: ScanContext, src: ByteSource, kind: str) -> None:
    archive = ZipArchive(src, ctx.limits)
    try:
        if archive.prefix:
            # Whatever precedes the archive is what a loader reading from the start sees first.
            scan_member(ctx, SliceSource(src, 0, archive.prefix), BEFORE_ARCHIVE)
        analyzed: set[tuple[int, int, int, int, str]] = set()
        for index, member in enumerate(archive.members):
            ctx.check_time()
            check_member_name(ctx, member.name)
            if member.is_dir:
                continue
            same = (member.header_offset, member.method, member.compressed_size, member.flags, _role(member.name, kind))
            if same in analyzed:
                continue  # another entry on the same local header and data: analyzed once (MH202 says so)
            analyzed.add(same)
            try:
                archive.check_bomb(member)
                _member(ctx, archive, member, kind)
            except UnsupportedCompression as exc:
                ctx.add(
                    finding(
                        UNSUPPORTED_METHOD,
                        str(exc),
                        location=Location(member=member.name),
                        evidence=f"method={exc.method}",
                    )
                )
            except EncryptedMember as exc:
                ctx.add(
                    finding(
                        ENCRYPTED_MEMBER,
                        str(exc),
                        location=Location(member=member.name),
                        evidence=f"flags=0x{member.flags:04x}",
                    )
                )
            except MalformedInput as exc:
                loc = Location(member=member.name, offset=exc.offset)
                ctx.add(failures.malformed(str(exc), location=loc, evidence=str(exc)))
            except LimitExceeded as exc:
                if exc.what.startswith(f"member {member.name!r}"):  # this member's size or ratio
                    _bomb_prefix(ctx, archive, member, kind)
                ctx.add(failures.over_limit(str(exc), location=Location(member=member.name), evidence=str(exc)))
                if archive.decompression_left() <= 0:
                    left = len(archive.members) - index - 1
                    message = f"decompression budget of the archive used up: {left} more entries not analyzed"
                    ctx.add(failures.over_limit(message, location=Location(member=member.name), evidence=message))
                    break
    finally:
        for anomaly in archive.all_anomalies():
            ctx.add(
                finding(
                    "MH202",
                    anomaly.message,
                    location=Location(member=anomaly.member),
                    evidence=anomaly.kind,
                )
            )


def _content(archive: ZipArchive, member: ZipMember) -> bytes | ByteSource:
    """The whole member: a zero-copy view when stored, else decompressed within the limits."""
    if member.size > SLICE_ABOVE:
        view = archive.member_source(member)
        if view is not None and not member.encrypted:
            return view
    return archive.read(member)  # small members are read whole, so their CRC is checked


def _bomb_prefix(ctx: ScanContext, archive: ZipArchive, member: ZipMember, kind: str) -> None:
    """Analyze what a member over a decompression limit yields before the limit: ``torch.load``
    streams a pickle member and runs a payload that comes out before the bomb."""
    if member.encrypted or (kind == formats.PYTORCH_ZIP and _is_storage(member.name)):
        return
    try:
        data, _ = archive.read_prefix(member)
    except LimitExceeded:
        return  # a limit before any output (a decoder dictionary): the caller reports it (MH902)
    except (MalformedInput, UnsupportedCompression) as exc:
        loc = Location(member=member.name, offset=getattr(exc, "offset", None))
        ctx.add(failures.malformed(f"bomb member not readable: {exc}", location=loc, evidence=str(exc)))
        return
    if not data:
        return
    fmt = formats.PICKLE if member.name.endswith(".pkl") else None
    scan_member(ctx, data, member.name, fmt)


def _role(name: str, kind: str) -> str:
    """How ``_member`` treats a name (entries sharing data but not this are analyzed apart)."""
    if name.endswith(".pkl"):
        return "pickle"
    if kind == formats.PYTORCH_ZIP and (_is_storage(name) or name.endswith(".debug_pkl")):
        return "skipped"
    if name.endswith(".npy") or kind == formats.NPZ:
        return "npy"
    return name.rsplit("/", 1)[-1] if kind == formats.PYTORCH_ZIP else "sniffed"


def _is_storage(name: str) -> bool:
    parts = name.split("/")
    return len(parts) >= 3 and parts[-2] == "data"


def _member(ctx: ScanContext, archive: ZipArchive, member: ZipMember, kind: str) -> None:
    name = member.name
    base = name.rsplit("/", 1)[-1]
    if member.encrypted:
        archive.read(member)  # raises EncryptedMember unless the flag is a trick over plain data
    if name.endswith(".pkl"):
        scan_member(ctx, _content(archive, member), name, formats.PICKLE)
        return
    if kind == formats.PYTORCH_ZIP:
        if _is_storage(name) or name.endswith(".debug_pkl"):
            # Raw tensor bytes, and TorchScript debug info that only torch's restricted C++
            # unpickler reads: neither is ever interpreted as Python code.
            return
        pattern = _TORCH_TINY.get(base)
        if pattern is not None and member.size <= 64 and pattern.fullmatch(archive.read(member)):
            return
    if name.endswith(".npy") or kind == formats.NPZ:
        _npy_member(ctx, archive, member)
        return
    fmt = _sniff(ctx, archive, member)
    if fmt in formats.ANALYZERS:
        # The member was sniffed from its first bytes only: detect again on all of it.
        scan_member(ctx, _content(archive, member), name)


def _sniff(ctx: ScanContext, archive: ZipArchive, member: ZipMember) -> str:
    """The format suggested by a member's first bytes (one read for a stored member)."""
    head = archive.read(member, max_bytes=SNIFF_BYTES)
    return ctx.seams.detect_format(HeadSource(head, member.size), member.name)


def _npy_member(ctx: ScanContext, archive: ZipArchive, member: ZipMember) -> None:
    view = archive.member_source(member)
    if view is not None:
        scan_member(ctx, view, member.name, formats.NUMPY)
        return
    head = archive.read(member, max_bytes=NPY_HEAD_BYTES)
    if not head.startswith(npy.MAGIC):
        scan_member(ctx, archive.read(member), member.name)
        return
    header = npy.parse_header(head)
    if header.has_object:
        scan_member(ctx, archive.read(member), member.name, formats.NUMPY)
        return
    with ctx.nested(member.name):
        ctx.formats.append(formats.NUMPY)
        npy.check_plain_size(ctx, header, member.size)
