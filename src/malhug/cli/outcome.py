"""The exit status of ``malhug scan`` (``docs/CLI.md``, "Exit status"): one function, fail closed.

A file that could not be read (verdict ``error``: permission denied, vanished, a broken link, a FIFO,
a folder that cannot be listed, an empty target, a hub verdict that could not be confirmed) is never
a pass. Evidence of risk outranks it: exit 1 tells a gate that something is wrong with what it read.
"""

from __future__ import annotations

from malhug.cli.status import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from malhug.core.failures import FAILURE_RULES
from malhug.core.model import FileReport, ScanReport, Severity, Verdict


def _risky(file: FileReport, fail_on: Severity) -> bool:
    """Malicious, or a finding at or above ``fail_on``; the failure finding that marks a file that
    could not be read (MH903 beside ``error``) is that file's error, not a risk."""
    if file.verdict is Verdict.MALICIOUS:
        return True
    unread = file.error is not None
    return any(f.severity >= fail_on and not (unread and f.rule in FAILURE_RULES) for f in file.findings)


def exit_status(report: ScanReport, fail_on: Severity) -> int:
    """1 when any file is risky (malicious, or a finding at ``fail_on`` or above); else 2 when any file
    is ``error`` or nothing was scanned at all; else 0."""
    if any(_risky(f, fail_on) for f in report.files):
        return EXIT_FINDINGS
    if not report.files or any(f.verdict is Verdict.ERROR for f in report.files):
        return EXIT_ERROR
    return EXIT_CLEAN
