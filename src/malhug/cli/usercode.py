"""The user-code rules on the command line: ``malhug scan`` on ``.py`` files and notebooks.

Every local Python file (``.py``, ``.pyw``) and every notebook (``.ipynb``, its code cells) a scan
meets gets the user-code rules (MH701-MH708: risky loads, ``trust_remote_code``, ``torch.hub.load``),
the same analysis, rule ids, severities and messages as the editor's diagnostics. A Python file also
keeps the script analysis it already gets (MH5xx, held to the load-time standard when loading a model
or dataset runs it): both analyses apply to every ``.py`` file, as in the editor, where the risky-load
diagnostics show on every Python file and the script analysis on load-time code.

Code that does not parse is still scanned line by line, but the file's ``error`` says so and its
verdict is ``error``; a notebook that is not valid notebook JSON is an ``error`` file with an MH901
finding. With ``--follow-references`` the Hub ids the code loads are scanned (``malhug.cli.follow``).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from malhug.core import failures
from malhug.core.model import FileReport, Location, ScanReport

if TYPE_CHECKING:
    from malhug.analyzers.api import HubRef, SourceLines

log = logging.getLogger(__name__)
PYTHON_SUFFIXES = (".py", ".pyw")
NOTEBOOK_SUFFIX = ".ipynb"


@dataclass(frozen=True)
class CodeRef:
    """One Hub reference in the user's code, with what a finding about it needs."""

    report: FileReport  # the file the reference is in (its findings get the reference's rules)
    ref: HubRef
    src: SourceLines  # the file's (or the cell's) text
    member: str | None = None  # "cell N" in a notebook
    folder: Path | None = None  # the file's folder (an id naming a folder there is a local path)


def is_user_code(path: str) -> bool:
    return path.lower().endswith((*PYTHON_SUFFIXES, NOTEBOOK_SUFFIX))


def _read(report: FileReport, max_bytes: int) -> str | None:
    """The file's text, or None with the failure recorded on the report."""
    path = Path(report.path)
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        report.error = report.error or f"cannot read for the user-code rules: {exc.strerror or exc}"
        return None
    if len(data) > max_bytes:
        report.findings.append(
            failures.over_limit(
                f"the user-code rules read at most {max_bytes} bytes; the file was not fully analyzed",
                evidence=f"more than {max_bytes} bytes",
            )
        )
        return None
    return data.decode("utf-8", errors="replace")


def _python(report: FileReport, text: str) -> list[CodeRef]:
    from malhug.analyzers.api import SourceLines, analyze_user_code

    result = analyze_user_code(text, path=report.path)
    report.findings.extend(result.findings)
    if result.analysis.syntax_error is not None:
        report.error = report.error or (
            f"does not parse ({result.analysis.syntax_error}): the user-code rules scanned those lines one by one"
        )
    src = result.src or SourceLines(text)
    folder = Path(report.path).parent
    return [CodeRef(report, ref, src, folder=folder) for ref in result.analysis.refs]


def _notebook(report: FileReport, text: str) -> list[CodeRef]:
    from malhug.analyzers.api import NotebookError, SourceLines, analyze_notebook

    try:
        cells = analyze_notebook(text)
    except NotebookError as exc:
        report.error = report.error or f"notebook not analyzed: {exc}"
        report.findings.append(failures.malformed(f"notebook not analyzed: {exc}", evidence=str(exc)[:200]))
        return []
    refs: list[CodeRef] = []
    broken = []
    folder = Path(report.path).parent
    for cell in cells:
        report.findings.extend(cell.report.findings)
        if cell.report.analysis.syntax_error is not None:
            broken.append(f"{cell.member}: {cell.report.analysis.syntax_error}")
            report.findings.append(
                failures.malformed(
                    f"{cell.member} does not parse; it was scanned line by line",
                    location=Location(member=cell.member),
                    evidence=cell.report.analysis.syntax_error,
                )
            )
        src = cell.report.src or SourceLines(cell.cell.source)
        refs.extend(CodeRef(report, r, src, cell.member, folder) for r in cell.report.analysis.refs)
    if broken:
        report.error = (
            report.error or f"does not parse ({'; '.join(broken[:3])}): those cells were scanned line by line"
        )
    return refs


def add_user_code(files: list[FileReport], max_bytes: int) -> list[CodeRef]:
    """Add the user-code findings to the reports of local Python files and notebooks; their Hub references."""
    refs: list[CodeRef] = []
    for report in files:
        if not is_user_code(report.path) or (report.error is not None and report.format == "unknown"):
            continue
        text = _read(report, max_bytes)
        if text is None:
            continue
        if report.path.lower().endswith(NOTEBOOK_SUFFIX):
            refs.extend(_notebook(report, text))
        else:
            refs.extend(_python(report, text))
    return refs


def check_user_code(
    report: ScanReport,
    local: list[FileReport],
    max_bytes: int,
    args: argparse.Namespace,
    hub_options: dict[str, Any],
    on_file: Callable[[str], None] | None = None,
) -> None:
    """``malhug scan``'s user-code pass over the local files' reports (in place), then ``--follow-references``."""
    refs = add_user_code(local, max_bytes)
    if not getattr(args, "follow_references", False):
        return
    from malhug.cli.follow import follow_references

    files, extra = follow_references(refs, **hub_options, on_file=on_file)
    report.files.extend(files)
    for key, value in extra.items():
        report.extra.setdefault(key, {}).update(value)
