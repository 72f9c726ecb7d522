"""Shared checks for the advisory regression tests: every payload is built from opcodes and only scanned."""

from __future__ import annotations

from malhug.core.model import Category, FileReport, Finding, Verdict
from tests.pickle.helpers import scan, summary

ECHO = "echo malhug-advisory"
CODE = "print('malhug-advisory')"
HOST = "127.0.0.1"


def caught(
    data: bytes,
    rule: str,
    category: Category,
    callee: str,
    verdict: Verdict = Verdict.MALICIOUS,
    evidence: str | None = None,
) -> Finding:
    """Scan ``data``; the report has ``verdict`` and a ``rule`` finding of ``category`` whose message
    names the real ``callee`` and whose evidence shows the call (``evidence``: an exact substring,
    else the callee's last name)."""
    report = scan(data)
    return caught_in(report, rule, category, callee, verdict, evidence)


def caught_in(
    report: FileReport,
    rule: str,
    category: Category,
    callee: str,
    verdict: Verdict = Verdict.MALICIOUS,
    evidence: str | None = None,
) -> Finding:
    assert report.verdict is verdict, summary(report)
    found = [f for f in report.findings if f.rule == rule and callee in f.message]
    assert found, summary(report)
    f = found[0]
    assert f.category is category, summary(report)
    shown = evidence if evidence is not None else callee.rpartition(".")[2]
    assert shown in f.evidence, (shown, f.evidence)
    return f
