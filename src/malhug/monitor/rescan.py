"""``monitor rescan``: re-analyze stored scans from the kept bytes, with no Hub traffic.

After a rule or analyzer change, the bytes the analyzers read of each file the first time are in the
store (``kept``/``blobs``); they are served to the analyzers again through ``KeptSource``. A read
outside them (the new analyzers look elsewhere) makes that file's re-analysis fail: its old report is
kept and the failure counted. Findings the hub layer adds about the revision (MH6xx: not fully
scanned, loaded code, the Hub's own flags) are carried over. Files analyzed again are written to the
file verdicts under the new analyzer salt, so later scans of the same content cost nothing.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from malhug.analyzers.api import LimitExceeded, SourceBase, covered, scan_source
from malhug.core.model import FileReport, Verdict
from malhug.hub.cache import analyzer_version
from malhug.monitor.store import Store
from malhug.monitor.store.ops import Event

log = logging.getLogger(__name__)

HUB_RULE_PREFIX = "MH60"


class KeptSource(SourceBase):
    """A ``ByteSource`` over kept segments of a file of ``size`` bytes."""

    def __init__(self, size: int, segments: list[tuple[int, bytes]]):
        super().__init__(size)
        self._segments = sorted(segments)

    def _read_range(self, offset: int, length: int) -> bytes:
        data = covered(self._segments, offset, length)
        if data is None:
            raise LimitExceeded("kept bytes of this file", 0, offset + length)
        self._read += length
        return data


@dataclass
class RescanResult:
    repos: int = 0
    files: int = 0
    not_kept: int = 0
    failed: int = 0
    events: list[Event] = field(default_factory=list)


def _hint(context: str) -> tuple[str | None, bool | None]:
    """The format hint and load-time flag the hub layer used (``scanner.cache_context``)."""
    if context.startswith("code:"):
        flag = context.rsplit(":", 1)[-1]
        return "python", True if flag == "True" else None
    return context or None, None


def _key(kept: dict[str, str], raw: dict[str, Any]) -> str | None:
    key = kept.get(raw["path"])
    if key is None and raw.get("sha256"):  # a verdict from the cache: LFS content, weights context
        key = f"sha256:{raw['sha256']}|"
    return key


def analyze_kept(
    raw: dict[str, Any], size: int, segments: list[tuple[int, bytes]], context: str
) -> dict[str, Any] | None:
    """A fresh report of one file from its kept bytes (a pure task: bytes in, report dict out, so it
    ships to any executor); None when the new analysis reads outside them."""
    hint, load_time = _hint(context)
    try:
        report = scan_source(
            KeptSource(size, segments),
            name=raw["path"],
            sha256=raw.get("sha256"),
            format_hint=hint,
            load_time=load_time,
        )
    except LimitExceeded as exc:
        log.info("kept bytes of %s do not cover the new analysis: %s", raw["path"], exc)
        return None
    short = "kept bytes of this file"
    if (report.error and short in report.error) or any(short in f.message for f in report.findings):
        return None
    carried = [f for f in FileReport.from_dict(raw).findings if f.rule.startswith(HUB_RULE_PREFIX)]
    report.findings.extend(carried)
    report.size = raw.get("size")
    return {**report.to_dict(), "size": raw.get("size"), "bytes_read": 0}


def rescan(store: Store, which: str = "all", executor: Executor | None = None) -> RescanResult:
    """Re-analyze the newest scan of every repository (``which="suspicious"``: of the suspicious ones),
    file analyses on ``executor`` (default: here)."""
    result = RescanResult()
    salt = analyzer_version()
    for repo_type, repo_id, sha, old_verdict in store.iter_scanned():
        if which == "suspicious" and old_verdict != "suspicious":
            continue
        scan = store.scan_of(repo_type, repo_id, sha)
        if scan is None or scan["error"]:
            continue
        jobs: list[tuple[dict[str, Any], str | None, Any]] = []
        for raw in scan["files"]:
            key = _key(scan["kept"], raw)
            found = store.kept(key) if key is not None else None
            if found is None:
                jobs.append((raw, None, None))
                continue
            args = (raw, found[0], found[1], key.split("|", 1)[1])  # type: ignore[union-attr]
            jobs.append((raw, key, executor.submit(analyze_kept, *args) if executor else analyze_kept(*args)))
        files = []
        for raw, key, pending in jobs:
            fresh = pending.result() if isinstance(pending, Future) else pending
            if key is None:
                result.not_kept += 1
            elif fresh is None:
                result.failed += 1
            else:
                result.files += 1
                store.put_file_verdict(key, salt, json.dumps({k: v for k, v in fresh.items() if k != "bytes_read"}))
            files.append(fresh or raw)
        verdict = Verdict.worst([FileReport.from_dict(f).verdict for f in files]).value
        result.repos += 1
        event = store.rescanned(repo_type, repo_id, sha, {"verdict": verdict, "files": files})
        if event is not None:
            result.events.append(event)
    return result
