"""``malhug scan --follow-references``: scan every Hub repository the user's code loads.

Each distinct ``(type, id, revision)`` the code names is scanned once with the hub layer
(``HubClient.scan_repo``: range reads and the verdict cache, as ``scan hf:...`` does; ``--offline``
answers from the local caches only). What the scan means for each reference (MH707, MH710-MH712) is
decided by ``malhug.hub.refcheck``, the same code the editor uses, and reported on the user's file at
the reference's line. The repository's own file reports and its ``hub`` section are added as
``scan hf:ORG/NAME[@REV]`` reports them (the label is the id with the revision the code gives).

A string that is not a Hub id (a local path, a URL) is not a reference at all; one that names a folder
next to the file or in the working directory is a local path too (loaders try those first). A
reference whose repository cannot be scanned (not found, gated, 401, 429, hub down, offline with
nothing cached) gets MH712 with the reason, and the repository's report is an ``error`` file, so the
exit status is not clean.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from malhug.cli.usercode import CodeRef
from malhug.core.model import FileReport, Finding

log = logging.getLogger(__name__)
RepoKey = tuple[str, str, str | None]


def _is_local(cref: CodeRef) -> bool:
    if cref.ref.kind == "hf-path":
        return False
    bases = ([cref.folder] if cref.folder is not None else []) + [Path.cwd()]
    try:
        return any((base / cref.ref.repo_id).is_dir() for base in bases)
    except OSError:
        return False


def _findings(cref: CodeRef, scan: Any) -> list[Finding]:
    from malhug.analyzers.api import is_suppressed
    from malhug.hub.refcheck import reference_findings

    out = []
    for f in reference_findings(cref.ref, scan, cref.src):
        if is_suppressed(cref.src.lines, f.location.line, f.rule):
            continue
        if cref.member is not None:
            f = dataclasses.replace(f, location=dataclasses.replace(f.location, member=cref.member))
        out.append(f)
    return out


def follow_references(
    refs: list[CodeRef],
    *,
    offline: bool = False,
    endpoint: str | None = None,
    max_download: int | None = None,
    use_cache: bool = True,
    on_file: Callable[[str], None] | None = None,
) -> tuple[list[FileReport], dict[str, Any]]:
    """Scan the referenced repositories; add MH707/MH710-MH712 to the referring files' reports.

    Returns the repositories' file reports and the ``hub`` section, as ``scan_hub_target`` does.
    """
    from malhug.hub.cli import cli_client, label, progress_for, reports_of, summary

    wanted = [c for c in refs if not _is_local(c)]
    if not wanted:
        return [], {}
    client = cli_client(offline, endpoint, max_download, use_cache)
    scans: dict[RepoKey, Any] = {}
    for cref in wanted:
        key: RepoKey = (cref.ref.repo_type, cref.ref.repo_id, cref.ref.revision)
        if key not in scans:
            shown = label(*key)
            scans[key] = client.scan_repo(key[1], key[0], key[2], on_progress=progress_for(on_file, shown))
        cref.report.findings.extend(_findings(cref, scans[key]))
    files: list[FileReport] = []
    section: dict[str, Any] = {}
    for key, scan in scans.items():  # after the findings: reports_of rewrites the scan's file paths
        shown = label(*key)
        files.extend(reports_of(scan, shown))
        section[shown] = summary(scan)
    return files, {"hub": section}
