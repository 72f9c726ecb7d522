"""The CLI's view of the hub layer: ``hf:ORG/NAME[@REV]`` targets and ``--hf-cache``.

Report paths read ``hf:org/name@<sha>/pytorch_model.bin`` (``hf:datasets/org/name@<sha>/…`` for
datasets). A target that cannot be read becomes one file report with ``error`` set, so the exit code
is 2 when nothing could be read. The Hub's own scan results go to the JSON report's ``hub`` section,
beside ours, with bytes transferred and whether the answer came from a cache.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from malhug.core.model import FileReport, Verdict
from malhug.core.rules import finding
from malhug.core.wording import count
from malhug.hub.client import DEFAULT_MAX_DOWNLOAD, HubClient
from malhug.hub.localcache import iter_cached_revisions
from malhug.hub.remote import FULL_SHA
from malhug.hub.scanner import LISTING_PATH, NOT_FULLY_SCANNED, Progress
from malhug.hub.settings import HubSettings
from malhug.hub.types import RepoScan, RepoType

OnFile = Callable[[str], None]
# How many commits of the default branch a risky target's report searches for a clean revision.
SAFE_REVISION_LIMIT = 20
_TARGET = re.compile(r"^hf:(?:(?P<kind>models|datasets)/)?(?P<id>[^@\s]+?)(?:@(?P<rev>[^\s]+))?$")


@dataclass(frozen=True)
class HubTarget:
    repo_id: str
    repo_type: RepoType
    revision: str | None


def parse_target(target: str) -> HubTarget | None:
    """``hf:ORG/NAME[@REV]``, ``hf:datasets/ORG/NAME[@REV]`` (``hf:models/…`` too); None if malformed."""
    m = _TARGET.match(target.strip())
    if m is None:
        return None
    return HubTarget(m["id"].strip("/"), "dataset" if m["kind"] == "datasets" else "model", m["rev"] or None)


def label(repo_type: str, repo_id: str, revision: str | None) -> str:
    prefix = "hf:datasets/" if repo_type == "dataset" else "hf:"
    return f"{prefix}{repo_id}" + (f"@{revision}" if revision else "")


def cli_client(offline: bool, endpoint: str | None, max_download: int | None, use_cache: bool) -> HubClient:
    """The ``HubClient`` of one CLI run: ``--offline``, ``--endpoint``, ``--max-download`` and ``--no-cache``."""
    kwargs: dict[str, Any] = {} if use_cache else {"verdict_cache": None}
    return HubClient(
        endpoint=endpoint,
        offline=True if offline else None,
        max_download=max_download or DEFAULT_MAX_DOWNLOAD,
        **kwargs,
    )


def progress_for(on_file: OnFile | None, shown: str) -> Progress | None:
    """The hub layer's progress callback, reporting ``<target>/<path>`` to the CLI's progress line."""
    if on_file is None:
        return None
    report = on_file

    def progress(path: str, done: int, total: int) -> None:
        report(f"{shown}/{path}")

    return progress


def reports_of(scan: RepoScan, shown: str) -> list[FileReport]:
    """The scan's file reports with display paths; an unreadable revision becomes one error report."""
    if scan.error is not None:
        return [FileReport(path=shown, format="hub", error=f"{scan.error_kind or 'error'}: {scan.error}")]
    base = label(scan.repo_type, scan.repo_id, scan.commit_sha)
    out = []
    for f in scan.files:
        # Findings about the listing itself (MH605) belong to the repository, not to a file in it.
        f.path = base if f.path == LISTING_PATH else f"{base}/{f.path}"
        out.append(f)
    scanned = {f.path for f in out}
    for path, reason in scan.skipped.items():
        full = f"{base}/{path}"
        if full not in scanned:
            out.append(
                FileReport(
                    path=full,
                    format="unknown",
                    findings=[finding(NOT_FULLY_SCANNED, f"not scanned: {reason}", evidence=reason)],
                )
            )
    return out


def scanned_time(scan: RepoScan) -> str | None:
    """When the verdict was made, as UTC ISO 8601 to the second (``…Z``); None when not known."""
    if scan.scanned_at is None:
        return None
    return datetime.fromtimestamp(scan.scanned_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pinned(revision: str | None) -> bool:
    """A full commit sha names content that cannot move; a branch, a tag or the default branch can."""
    return revision is not None and FULL_SHA.match(revision) is not None


def offline_rule(scan: RepoScan) -> str | None:
    """The rule an answer made without the Hub followed (the report's ``offline_rule``); None online."""
    if not scan.offline or scan.error is not None:
        return None
    if pinned(scan.revision):
        return f"pinned commit {scan.commit_sha} from the local caches: its content cannot move"
    when = scanned_time(scan) or "at an unknown time"
    return f"verdict of {scan.commit_sha} scanned {when}; the branch may have moved since: not a pass"


def is_stale(scan: RepoScan) -> bool:
    """A moving reference (branch, tag, default branch) answered without the Hub confirming its commit."""
    return scan.offline and scan.error is None and not pinned(scan.revision)


def stale_report(scan: RepoScan, shown: str) -> FileReport:
    """The ``error`` entry that keeps a stale verdict from passing (exit 2 unless a file is risky)."""
    ref = scan.revision or "the default branch"
    when = scanned_time(scan) or "at an unknown time"
    return FileReport(
        path=shown,
        format="hub",
        error=(
            f"stale: the Hub could not confirm which commit {ref} points to now; {scan.commit_sha}, "
            f"scanned {when}, was {scan.verdict.value}, and the branch may have moved since"
        ),
    )


def safe_revision(client: HubClient, scan: RepoScan) -> dict[str, Any] | None:
    """For a risky revision, the fix the editor offers: the newest commit of the default branch that
    scans clean (at most ``SAFE_REVISION_LIMIT`` commits scanned), or why there is none. None when
    the revision is not risky (clean, or not scanned at all)."""
    if scan.error is not None or scan.verdict not in (Verdict.MALICIOUS, Verdict.SUSPICIOUS):
        return None
    limit = SAFE_REVISION_LIMIT
    if scan.offline:  # offline, or the Hub did not answer a moment ago: do not wait for it again
        why = "the Hub could not be asked: this verdict came from the local caches without it"
        return {"commit": None, "commits_checked": 0, "limit": limit, "reason": why}
    found = client.find_safe_revision(scan.repo_id, scan.repo_type, max_commits=limit)
    checked = found.commits_checked
    reason = None
    if found.error is not None:
        reason = (
            f"the Hub could not be asked: {found.error}"
            if checked == 0
            else f"the search stopped after {count(checked, 'commit')}: {found.error}"
        )
    elif found.commit_sha is None and checked < limit:
        reason = f"every revision scanned is risky: the whole history, {count(checked, 'commit')}"
    elif found.commit_sha is None:
        reason = f"none of the newest {count(limit, 'commit')} scans clean (the search stops there)"
    return {"commit": found.commit_sha, "commits_checked": checked, "limit": limit, "reason": reason}


def summary(scan: RepoScan) -> dict[str, Any]:
    return {
        "repo": scan.repo_id,
        "type": scan.repo_type,
        "revision": scan.revision,
        "commit": scan.commit_sha,
        "verdict": scan.verdict.value,
        "hub_security": scan.hub_security,
        "ships_code": scan.ships_code,
        "files_listed": scan.files_listed,
        "files_scanned": len(scan.files),
        "skipped": scan.skipped,
        "bytes_transferred": scan.bytes_read,
        "metadata_bytes": scan.metadata_bytes,
        "from_cache": scan.from_cache,
        "offline": scan.offline,
        "error": scan.error,
        "error_kind": scan.error_kind,
        "scanned_at": scanned_time(scan),
        "stale": is_stale(scan),
        "offline_rule": offline_rule(scan),
    }


def scan_hub_target(
    target: str,
    *,
    offline: bool = False,
    endpoint: str | None = None,
    max_download: int | None = None,
    use_cache: bool = True,
    on_file: OnFile | None = None,
) -> tuple[list[FileReport], dict[str, Any]]:
    """Scan one ``hf:`` target; returns file reports and the ``hub`` section of the JSON report."""
    parsed = parse_target(target)
    if parsed is None:
        bad = FileReport(
            path=target,
            format="hub",
            error="not a hub reference: expected hf:ORG/NAME[@REVISION] or hf:datasets/ORG/NAME[@REVISION]",
        )
        return [bad], {}
    client = cli_client(offline, endpoint, max_download, use_cache)

    scan = client.scan_repo(
        parsed.repo_id, parsed.repo_type, parsed.revision, on_progress=progress_for(on_file, target)
    )
    files = reports_of(scan, target)
    if is_stale(scan):
        files.append(stale_report(scan, target))
    return files, {"hub": {target: {**summary(scan), "safe_revision": safe_revision(client, scan)}}}


def scan_hf_cache(
    *,
    offline: bool = False,
    endpoint: str | None = None,
    max_download: int | None = None,
    use_cache: bool = True,
    on_file: OnFile | None = None,
) -> tuple[list[FileReport], dict[str, Any]]:
    """Scan every model and dataset snapshot in the local Hugging Face cache (no network)."""
    client = cli_client(True, endpoint, max_download, use_cache)
    cache_dir = HubSettings.resolve(offline=True).cache_dir
    files: list[FileReport] = []
    section: dict[str, Any] = {}
    for rev in iter_cached_revisions(cache_dir):
        shown = label(rev.repo_type, rev.repo_id, rev.commit)

        scan = client.scan_repo(
            rev.repo_id,
            "dataset" if rev.repo_type == "dataset" else "model",
            rev.commit,
            on_progress=progress_for(on_file, shown),
        )
        files.extend(reports_of(scan, shown))
        section[shown] = {**summary(scan), "refs": list(rev.refs)}
    if not section:
        files.append(
            FileReport(
                path=str(cache_dir),
                format="hub",
                error=f"no models or datasets in the Hugging Face cache at {cache_dir}",
            )
        )
    return files, {"hf_cache": section}
