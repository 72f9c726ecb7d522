"""The exit status of ``malhug scan`` (``docs/CLI.md``, "Exit status"): one function, fail closed.

A file that could not be read (verdict ``error``: permission denied, vanished, a broken link, a FIFO,
a folder that cannot be listed, an empty target, a hub verdict that could not be confirmed) is never
a pass. Evidence of risk outranks it: exit 1 tells a gate that something is wrong with what it read.
"""

from __future__ import annotations

from typing import Any

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


def listed_by_hub(extra: dict[str, Any]) -> int:
    """Files the Hub listed for the report's hub targets that were scanned without error. A revision
    whose complete listing holds nothing a loader runs (a dataset of CSV files) was read, not skipped."""
    sections = extra.get("hub") or {}
    return sum(
        int(info.get("files_listed") or 0)
        for info in sections.values()
        if isinstance(info, dict) and not info.get("error")
    )


def exit_status(report: ScanReport, fail_on: Severity) -> int:
    """1 when any file is risky (malicious, or a finding at ``fail_on`` or above); else 2 when any file
    is ``error`` or nothing was read at all (no file and no hub listing); else 0."""
    if any(_risky(f, fail_on) for f in report.files):
        return EXIT_FINDINGS
    if any(f.verdict is Verdict.ERROR for f in report.files):
        return EXIT_ERROR
    if not report.files and not listed_by_hub(report.extra):
        return EXIT_ERROR
    return EXIT_CLEAN
