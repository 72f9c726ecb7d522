"""Assertions shared by the containers tests."""

from __future__ import annotations

from malhug.core.model import FileReport, Finding, Verdict
from tests.builders.pickles import Call, call, pickle_of

PAYLOAD_COMMAND = "echo malhug"


def system_call() -> Call:
    return call("os.system", PAYLOAD_COMMAND)


def evil_pickle(protocol: int = 2) -> bytes:
    """``os.system('echo malhug')`` written opcode by opcode (never unpickled)."""
    return pickle_of([system_call()], protocol=protocol)


def rules(report: FileReport) -> set[str]:
    return {f.rule for f in report.findings}


def with_rule(report: FileReport, rule: str) -> list[Finding]:
    found = [f for f in report.findings if f.rule == rule]
    assert found, f"no {rule} in {[(f.rule, f.location.member, f.message) for f in report.findings]}"
    return found


def assert_pickle_payload_at(report: FileReport, member: str) -> None:
    """The pickle analyzer reported the os.system payload (an MH1xx rule) inside ``member``."""
    hits = [f for f in report.findings if f.rule.startswith("MH1") and f.location.member == member]
    assert hits, f"no pickle finding at {member}: {[(f.rule, f.location.member) for f in report.findings]}"
    assert report.verdict is Verdict.MALICIOUS
    assert any("echo malhug" in f.evidence or "system" in f.evidence for f in hits), [f.evidence for f in hits]


def assert_not_clean(report: FileReport) -> None:
    assert report.verdict is not Verdict.CLEAN, [(f.rule, f.message) for f in report.findings]


def npy_bytes(descr: str, shape: tuple[int, ...], body: bytes, version: int = 1) -> bytes:
    """A ``.npy`` file written by hand: magic, version, header dict padded to 64 bytes, ``body``."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    size_len = 2 if version == 1 else 4
    pad = 64 - (6 + 2 + size_len + len(header) + 1) % 64
    header += " " * pad + "\n"
    length = len(header).to_bytes(size_len, "little")
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin-1") + body
