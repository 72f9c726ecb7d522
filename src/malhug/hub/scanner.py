"""Scan the chosen files of one revision: from the verdict cache, the local HF cache, or the network.

Each file costs, in order of preference: nothing (its content id is in the verdict cache), disk reads
(its blob is in the local Hugging Face cache), one GET (small files, hash-verified), or a few ranged
GETs (large files: the analyzers read only what they need), never more than the download cap.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from malhug.analyzers.api import (
    AUTO_MAP_CONFIGS,
    DEFAULT_LIMITS,
    BytesSource,
    FileSource,
    LimitExceeded,
    Limits,
    scan_source,
)
from malhug.core import failures
from malhug.core.model import FileReport
from malhug.core.rules import finding
from malhug.hub import select
from malhug.hub.bounded import clean_text, shown_path, unsafe_path
from malhug.hub.cache import VerdictCache
from malhug.hub.http import HubError, HubHttp
from malhug.hub.localcache import LocalFile, find_blob
from malhug.hub.rangesource import HttpRangeSource, RemoteReadError
from malhug.hub.remote import RemoteFile
from malhug.hub.sidefiles import RevisionSideFiles
from malhug.hub.sniff import MAX_SNIFFS, sniff_unselected
from malhug.hub.types import RepoScan

log = logging.getLogger(__name__)

# The rules of a Hub scan, each id written only here (cli.py reports NOT_FULLY_SCANNED too).
NOT_FULLY_SCANNED = "MH601"
SHIPS_LOADED_CODE = "MH602"
HUB_SCANNER_FLAG = "MH603"
CONTENT_MISMATCH = "MH604"
LISTING_CUT = "MH605"
PATH_OUTSIDE_REPO = "MH606"
NOT_SNIFFED = "MH607"

MAX_SCANNED_FILES = 2000
# Root configs whose auto_map names code that loading runs.
CODE_CONFIGS = AUTO_MAP_CONFIGS
# Failures that concern the whole repository, not one file: the scan stops with this error.
REPO_LEVEL_ERRORS = {"gated", "unauthorized", "rate-limited", "cancelled"}
UNSAFE_HUB_STATUSES = {"unsafe", "suspicious", "caution", "malicious", "infected"}
Progress = Callable[[str, int, int], None]
Keep = Callable[[str, str, int, list[tuple[int, bytes]], str], None]
# Runs the analysis of one file: ``scan_source``'s signature (the monitor runs it in its executor).
Analyze = Callable[..., FileReport]
# The report that carries findings about the listing itself (MH605); the CLI shows it as the repository.
LISTING_PATH = "(file listing)"


@dataclass
class Job:
    """One revision being scanned."""

    repo_type: str
    repo_id: str
    commit: str
    cache_dir: Path
    max_download: int
    http: HubHttp | None = None
    verdicts: VerdictCache | None = None
    limits: Limits = DEFAULT_LIMITS
    on_progress: Progress | None = None
    cancel: threading.Event | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # parsed config.json by path
    texts: dict[str, str] = field(default_factory=dict)  # source of the code files read whole, by path
    # Model code that loading runs: auto_map targets, remote-code modules and what they import.
    loaded: set[str] = field(default_factory=set)
    # Set when the listing was not read to its end: (entries read, why it stopped).
    listing_cut: tuple[int, str] | None = None
    # The revision's files by path (what side files are looked up in: hub/sidefiles.py).
    listing: dict[str, Any] = field(default_factory=dict)
    # Files whose report followed side files: not put in the verdict cache (it depends on them too).
    uncacheable: set[str] = field(default_factory=set)
    # Told the bytes the analyzers read of each fully analyzed file: (content id, path, size, [(offset,
    # bytes)], cache context). The monitor keeps them to re-analyze without the Hub.
    keep: Keep | None = None
    # Files not selected by name are sniffed (hub/sniff.py), at most this many per revision; the first
    # bytes read of those that are then scanned, by path (the scan starts from them).
    max_sniffs: int = MAX_SNIFFS
    sniffed: dict[str, bytes] = field(default_factory=dict)
    # The files this revision's scan scans on their own (a side file among them is not scanned twice).
    scanned_alone: set[str] = field(default_factory=set)
    # Where a file fetched from the Hub is analyzed (None: here, with ``scan_source``).
    analyze: Analyze | None = None


def _needs_content(job: Job, planned: select.Planned) -> bool:
    """Files whose bytes the scan itself reads (configs; code that loading runs, to follow its
    imports): never from the verdict cache."""
    return planned.kind == "config" or _loaded(job, planned) is True


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest()


def _matches(content_id: str, data: bytes) -> bool:
    kind, _, value = content_id.partition(":")
    if kind == "sha256":
        return hashlib.sha256(data).hexdigest() == value
    return _git_blob_id(data) == value


def _drop_budget_findings(report: FileReport) -> None:
    """The analyzers' generic limit finding for our download budget (MH601 says it better)."""
    report.findings = [
        f for f in report.findings if not (f.rule == failures.OVER_LIMIT and "download budget" in f.message)
    ]


def _scan_remote_source(
    src: HttpRangeSource,
    name: str,
    limits: Limits,
    sha: str | None,
    hint: str | None,
    side: RevisionSideFiles | None = None,
    analyze: Analyze | None = None,
) -> FileReport:
    """``scan_source`` over the network: a read that fails where the analyzers do not guard it (format
    detection) is still this file's error, never the whole scan's crash."""
    try:
        return (analyze or scan_source)(src, name=name, limits=limits, sha256=sha, format_hint=hint, side_files=side)
    except (RemoteReadError, LimitExceeded) as exc:
        return FileReport(path=name, format="unknown", sha256=sha, error=f"could not read {name}: {exc}")


def _scan_ranged(job: Job, rf: RemoteFile, planned: select.Planned, url: str, what: str) -> tuple[FileReport, bool]:
    """A large file read by ranges; returns the report and whether it was complete (cacheable)."""
    assert job.http is not None
    src = HttpRangeSource(job.http, url, rf.size, budget=job.max_download, what=what)
    if job.keep is not None:
        src.recorded = []
    head = job.sniffed.pop(rf.path, None)
    if head is not None:
        src.seed(head)  # read when the file was sniffed: not fetched again
    name, sha, hint = rf.path, rf.lfs_sha256, planned.format_hint
    side = RevisionSideFiles(job, name)
    report = _scan_remote_source(src, name, job.limits, sha, hint, side, job.analyze)
    read = src.bytes_read
    analyzed = rf.size
    if src.budget_hit and src.error is None:
        # The format needs the whole file: analyze the prefix the cap pays for (payloads sit up front).
        view = src.prefix()
        report = _scan_remote_source(view, name, job.limits, sha, hint, RevisionSideFiles(job, name), job.analyze)
        read += view.bytes_read
        analyzed = view.size
        src.error, src.error_kind = view.error, view.error_kind
    report.bytes_read = read
    report.size = rf.size
    if src.error is not None:
        if src.error_kind in REPO_LEVEL_ERRORS:
            raise HubError(src.error_kind or "network", src.error)
        report.error = f"could not read {rf.path} from the Hub: {src.error}"
        return report, False
    if not src.budget_hit:
        # A report that followed side files depends on them too: neither cached nor kept for a rescan.
        if job.keep is not None and src.recorded is not None and not side.opened:
            job.keep(rf.content_id, rf.path, rf.size, src.recorded, cache_context(job, planned))
        return report, not side.opened
    _drop_budget_findings(report)
    reason = f"larger than the download cap: {rf.size} bytes, the first {analyzed} analyzed, cap {job.max_download} (--max-download)"
    report.findings.append(
        finding(NOT_FULLY_SCANNED, f"not fully scanned: {reason}", evidence=f"size={rf.size} cap={job.max_download}")
    )
    job.skipped[rf.path] = reason
    return report, False


def cache_context(job: Job, planned: select.Planned) -> str:
    """What besides a file's bytes decides its verdict. For code, whether loading runs it: a dataset's
    code always runs, a model repository's is judged from its path (``modeling_x.py`` runs with
    trust_remote_code, ``train.py`` does not), so the same bytes can earn two verdicts."""
    if planned.kind == "code":
        return f"code:{job.repo_type}:{planned.path}:{_loaded(job, planned)}"
    return planned.format_hint or ""


def _loaded(job: Job, planned: select.Planned) -> bool | None:
    """Whether loading runs a code file: True for a dataset's code and for the model code that
    trust_remote_code imports; None (judged from the file's path and text) for other files."""
    if planned.kind != "code":
        return None
    return True if job.repo_type == "dataset" or planned.path in job.loaded else None


def _scan_bytes(job: Job, planned: select.Planned, data: bytes, sha256: str | None) -> FileReport:
    load_time = _loaded(job, planned)
    side = RevisionSideFiles(job, planned.path)
    report = (job.analyze or scan_source)(
        BytesSource(data),
        name=planned.path,
        limits=job.limits,
        sha256=sha256,
        format_hint=planned.format_hint,
        load_time=load_time,
        side_files=side,
    )
    report.bytes_read = len(data)
    if side.opened:
        job.uncacheable.add(planned.path)
    if planned.kind == "code":
        job.texts[planned.path] = data.decode("utf-8", "replace")
    if planned.kind == "config" and planned.path in CODE_CONFIGS:
        try:
            config = select.parse_config(data)
        except ValueError as exc:  # too deep to parse: no loader reads its auto_map either
            report.findings.append(
                failures.over_limit(f"{planned.path} {exc}; its auto_map was not read", evidence=f"size={len(data)}")
            )
            config = None
        if config is not None:
            job.configs[planned.path] = config
    return report


def scan_remote(job: Job, rf: RemoteFile, planned: select.Planned) -> FileReport:
    """One listed file; never raises for network trouble (the report carries the error)."""
    assert job.http is not None
    sha = rf.lfs_sha256
    if not _needs_content(job, planned) and job.verdicts is not None:
        hit = job.verdicts.get_file(rf.content_id, rf.path, cache_context(job, planned))
        if hit is not None:
            return hit
    blob = find_blob(job.cache_dir, job.repo_type, job.repo_id, rf.content_id)
    if blob is not None:
        return scan_local(job, LocalFile(rf.path, blob, rf.size, rf.content_id), planned)
    url = job.http.file_url(job.repo_type, job.repo_id, job.commit, rf.path)
    what = f"{job.repo_id}@{job.commit[:12]}/{rf.path}"
    try:
        if rf.size <= min(select.WHOLE_FILE_MAX, job.max_download):
            data = job.sniffed.pop(rf.path, b"")  # the whole file, or its head, when sniffing read it
            if 0 < len(data) < rf.size:
                rest, _ = job.http.get_bytes(url, what=what, start=len(data), end=rf.size - 1)
                data += rest  # the head is not fetched twice; the content id check below covers both
            if len(data) != rf.size:
                # One byte more than listed: a server sending more than the listing says is caught below.
                data, _ = job.http.get_bytes(url, what=what, max_bytes=rf.size + 1)
            report = _scan_bytes(job, planned, data, sha or hashlib.sha256(data).hexdigest())
            if job.keep is not None and len(data) == rf.size:
                job.keep(rf.content_id, rf.path, rf.size, [(0, data)], cache_context(job, planned))
            if len(data) != rf.size or not _matches(rf.content_id, data):
                report.findings.append(
                    finding(
                        CONTENT_MISMATCH,
                        f"content of {rf.path} does not match the Hub's id {rf.content_id}",
                        evidence=f"received {len(data)} bytes, listed {rf.size}",
                    )
                )
                return report
        else:
            report, complete = _scan_ranged(job, rf, planned, url, what)
            if not complete:
                return report
    except HubError as exc:
        if exc.kind in REPO_LEVEL_ERRORS:
            raise
        return FileReport(
            path=rf.path,
            format="unknown",
            sha256=sha,
            error=f"could not download {rf.path}: {exc.message}",
            size=rf.size,
        )
    if job.verdicts is not None and rf.path not in job.uncacheable:
        job.verdicts.put_file(rf.content_id, report, cache_context(job, planned))
    return report


def scan_local(job: Job, lf: LocalFile, planned: select.Planned) -> FileReport:
    """A file from the local Hugging Face cache: read from disk, never downloaded."""
    if not _needs_content(job, planned) and lf.content_id and job.verdicts is not None:
        hit = job.verdicts.get_file(lf.content_id, lf.path, cache_context(job, planned))
        if hit is not None:
            return hit
    try:
        if lf.size <= select.WHOLE_FILE_MAX:
            data = lf.disk.read_bytes()
            report = _scan_bytes(job, planned, data, hashlib.sha256(data).hexdigest())
        else:
            with FileSource(lf.disk) as src:
                sha = lf.content_id[7:] if lf.content_id and lf.content_id.startswith("sha256:") else None
                side = RevisionSideFiles(job, lf.path)
                report = scan_source(
                    src, name=lf.path, limits=job.limits, sha256=sha, format_hint=planned.format_hint, side_files=side
                )
                report.bytes_read = src.bytes_read
                if side.opened:
                    job.uncacheable.add(lf.path)
    except OSError as exc:
        return FileReport(
            path=lf.path,
            format="unknown",
            error=f"cannot read the cached file {lf.disk}: {exc.strerror or exc}",
            size=lf.size,
        )
    if lf.content_id and job.verdicts is not None and lf.path not in job.uncacheable:
        job.verdicts.put_file(lf.content_id, report, cache_context(job, planned))
    return report


def _code_notes(job: Job, reports: dict[str, FileReport], paths: list[str]) -> bool:
    """MH602 on the code loading runs (on ``config.json`` for code from other repositories)."""
    runs = select.loaded_code(paths, job.repo_type, job.configs)
    for path, why in runs.items():
        from_elsewhere = ":" in path
        target = next((c for c in CODE_CONFIGS if c in reports), None) if from_elsewhere else path
        if target is not None and target in reports:
            reports[target].findings.append(finding(SHIPS_LOADED_CODE, f"{path}: {why}", evidence=path))
    return bool(runs)


def _hub_notes(reports: dict[str, FileReport], security: dict[str, dict[str, Any]]) -> None:
    for path, status in security.items():
        value = str(status.get("status", "")).lower()
        if value in UNSAFE_HUB_STATUSES and path in reports:
            detail = status.get("pickleImportScan") or status.get("avScan") or {}
            reports[path].findings.append(
                finding(
                    HUB_SCANNER_FLAG,
                    f"the Hub's scanner marks {path} as {value}",
                    evidence=clean_text(str(detail), 500) if detail else value,
                )
            )


def _listing_reports(job: Job, listed: list[RemoteFile] | list[LocalFile]) -> dict[str, FileReport]:
    """Findings about the listing itself: names that leave the repository (MH606, never fetched) and a
    listing that was not read to its end (MH605)."""
    out: dict[str, FileReport] = {}
    for f in listed:
        why = unsafe_path(f.path)
        if why is not None:
            shown = shown_path(f.path)
            out[f.path] = FileReport(
                path=shown,
                format="unknown",
                size=f.size,
                findings=[
                    finding(
                        PATH_OUTSIDE_REPO,
                        f"the listing names {shown!r}, {why}; it was not downloaded",
                        evidence=shown,
                    )
                ],
            )
    if job.listing_cut is not None:
        seen, why = job.listing_cut
        _listing_report(out).findings.append(
            finding(
                LISTING_CUT,
                f"only {seen} entries of the file listing were read ({why}); the rest were never seen or scanned",
                evidence=f"entries_read={seen}",
            )
        )
    return out


def _listing_report(reports: dict[str, FileReport]) -> FileReport:
    """The report of findings about the revision's listing as a whole (shown as the repository)."""
    if LISTING_PATH not in reports:
        reports[LISTING_PATH] = FileReport(path=LISTING_PATH, format="hub-listing")
    return reports[LISTING_PATH]


SHOWN_UNEXAMINED = 5


def _unexamined_note(job: Job, reports: dict[str, FileReport], unexamined: list[str]) -> None:
    """MH607 on the listing: files over the sniffing cap, never examined (the count and a few names)."""
    names = ", ".join(shown_path(p) for p in unexamined[:SHOWN_UNEXAMINED])
    more = f" and {len(unexamined) - SHOWN_UNEXAMINED} more" if len(unexamined) > SHOWN_UNEXAMINED else ""
    _listing_report(reports).findings.append(
        finding(
            NOT_SNIFFED,
            f"{len(unexamined)} files with names no loader is known for were never examined: the revision holds "
            f"more than {job.max_sniffs} such files to sniff; {names}{more}",
            evidence=f"unexamined={len(unexamined)} cap={job.max_sniffs} first={names}",
        )
    )


def scan_revision(job: Job, listed: list[RemoteFile] | list[LocalFile], *, remote: bool) -> RepoScan:
    """Scan what matters among ``listed`` (remote listing or cached snapshot files)."""
    reports: dict[str, FileReport] = _listing_reports(job, listed)
    by_path: dict[str, Any] = {f.path: f for f in listed if unsafe_path(f.path) is None}
    job.listing = by_path
    planned = select.plan(by_path)
    # Files no name selects: their first bytes decide (a pickle named backup.data is scanned).
    sniffed = sniff_unselected(job, by_path, {p.path for p in planned}, limit=job.max_sniffs)
    planned.extend(sniffed.planned)
    reports.update(sniffed.reports)
    if sniffed.unexamined:
        _unexamined_note(job, reports, sniffed.unexamined)
    # The configs first: they say which code loading runs.
    planned.sort(key=lambda p: (p.path not in CODE_CONFIGS, p.path))
    if len(planned) > MAX_SCANNED_FILES:
        for p in planned[MAX_SCANNED_FILES:]:
            job.skipped[p.path] = f"more than {MAX_SCANNED_FILES} files to scan in one revision"
        planned = planned[:MAX_SCANNED_FILES]
    job.scanned_alone = {p.path for p in planned}
    # Code is scanned after the configs and the weights, following imports from what loading runs.
    # Dataset repositories: only the loading scripts and the modules they import are code; other .py
    # are data. Model repositories: every .py is scanned; what trust_remote_code imports as load-time code.
    code = {p.path: p for p in planned if p.kind == "code"}
    total = len(planned)

    def scan(p: select.Planned) -> None:
        if p.path in reports:
            return
        if job.cancel is not None and job.cancel.is_set():
            raise HubError("cancelled", "the scan was cancelled")
        if job.on_progress is not None:
            job.on_progress(p.path, len(reports), total)
        item = by_path[p.path]
        reports[p.path] = scan_remote(job, item, p) if remote else scan_local(job, item, p)

    for p in planned:
        if p.path not in code:
            scan(p)
    if code:

        def read_text(path: str) -> str | None:
            if path not in code:
                return None
            if job.repo_type != "dataset":
                job.loaded.add(path)  # asked for because loading runs it: scanned as load-time code
            scan(code[path])
            return job.texts.get(path)

        if job.repo_type == "dataset":
            for path in select.dataset_code(list(by_path), read_text):
                if path in code:
                    scan(code[path])
        else:
            select.model_code(list(code), job.configs, read_text)
            for p in code.values():
                scan(p)
    security = {f.path: f.security for f in listed if isinstance(f, RemoteFile) and f.security}
    ships_code = _code_notes(job, reports, list(by_path))
    _hub_notes(reports, security)
    return RepoScan(
        repo_id=job.repo_id,
        repo_type="dataset" if job.repo_type == "dataset" else "model",
        revision=None,
        commit_sha=job.commit,
        files=list(reports.values()),
        skipped=dict(job.skipped),
        ships_code=ships_code,
        files_listed=len(listed),
        hub_security={"files": security} if security else None,
    )
