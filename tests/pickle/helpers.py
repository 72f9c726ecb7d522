"""Scanning helpers for the pickle tests: every fixture is built in memory and only scanned."""

from __future__ import annotations

import struct

from malhug.analyzers.api import scan_bytes, scan_source
from malhug.analyzers.limits import DEFAULT_LIMITS, Limits
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import FileReport, Finding


def scan(data: bytes, limits: Limits = DEFAULT_LIMITS, hint: str | None = None) -> FileReport:
    """Scan like the CLI does (format from the bytes), or as ``hint`` when detection cannot tell."""
    if hint is not None:
        return scan_source(BytesSource(data), name="fixture.pkl", limits=limits, format_hint=hint)
    return scan_bytes(data, name="fixture.pkl", limits=limits)


def summary(report: FileReport) -> list[tuple[str, str, str, int | None, str]]:
    return [(f.rule, f.severity.value, f.category.value, f.location.offset, f.evidence) for f in report.findings]


def one(report: FileReport, rule: str) -> Finding:
    """The single finding of ``rule`` (fails with the whole report otherwise)."""
    found = [f for f in report.findings if f.rule == rule]
    assert len(found) == 1, summary(report)
    return found[0]


def rules(report: FileReport) -> set[str]:
    return {f.rule for f in report.findings}


def s4(text: str) -> bytes:
    """SHORT_BINUNICODE (protocol 4)."""
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def sglobal(module: str, name: str) -> bytes:
    """STACK_GLOBAL of two literal strings."""
    return s4(module) + s4(name) + b"\x93"


def binbytes(data: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(data)) + data


def setstate_exec(code: str) -> bytes:
    """BUILD plants ``__setstate__ = exec`` in an ``argparse.Namespace``; the next BUILD calls it with
    ``code`` (protocol 4 opcodes)."""
    return (
        b"\x80\x04"
        + sglobal("argparse", "Namespace")
        + b")R"
        + b"N}"
        + s4("__setstate__")
        + sglobal("builtins", "exec")
        + b"s\x86b"
        + s4(code)
        + b"b."
    )
