"""Pieces every container analyzer shares: member-name safety, nested-content hand-off."""

from __future__ import annotations

import re

from malhug.analyzers import formats
from malhug.analyzers.context import ScanContext
from malhug.analyzers.detect import detect_format
from malhug.analyzers.shared.source import ByteSource, BytesSource
from malhug.core.model import Location, Severity
from malhug.core.rules import finding

# Formats that are containers themselves: finding one inside another is reported (MH205).
CONTAINER_FORMATS = frozenset(
    {
        formats.PYTORCH_ZIP,
        formats.PYTORCH_TAR,
        formats.ZIP,
        formats.NPZ,
        formats.KERAS_V3,
        formats.SEVEN_ZIP,
        formats.GZIP,
        formats.BZ2,
        formats.XZ,
        formats.LZ4,
        formats.ZLIB,
        formats.TAR,
    }
)
_DRIVE = re.compile(r"^[A-Za-z]:")


def _escapes(parts: list[str]) -> bool:
    depth = 0
    for part in parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def check_member_name(ctx: ScanContext, name: str, *, link_target: str | None = None) -> None:
    """Report a member name (or link target) that escapes the extraction folder (MH201)."""
    for label, value in (("name", name), ("link target", link_target)):
        if value is None:
            continue
        parts = re.split(r"[/\\]", value)
        if _escapes(parts):
            reason, severity = "climbs out of the archive with '..' components", Severity.HIGH
        elif ".." in parts:
            reason, severity = "has '..' components", Severity.MEDIUM
        elif value.startswith(("/", "\\")) or _DRIVE.match(value):
            reason, severity = "is an absolute path", Severity.MEDIUM
        elif "\\" in value:
            reason, severity = "uses backslashes as separators", Severity.MEDIUM
        elif "\x00" in value:
            reason, severity = "contains a NUL byte", Severity.MEDIUM
        else:
            continue
        ctx.add(
            finding(
                "MH201",
                f"archive member {label} {reason}: extracting it writes outside the target folder",
                location=Location(member=name),
                evidence=value[:300],
                severity=severity,
            )
        )


def scan_member(ctx: ScanContext, content: bytes | ByteSource, member: str, fmt: str | None = None) -> str:
    """Hand member content to its analyzer; a container inside a container is noted (MH205)."""
    src = BytesSource(content) if isinstance(content, bytes) else content
    if fmt is None:
        fmt = detect_format(src, member)
    if fmt in CONTAINER_FORMATS:
        ctx.add(
            finding(
                "MH205",
                f"nested {fmt} container",
                location=Location(member=member),
                evidence=member,
            )
        )
    return ctx.scan_nested(src, member, format_hint=fmt)
