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
from dataclasses import dataclass, field
from typing import Any

from malhug.analyzers.api import LimitExceeded, scan_source
from malhug.core.model import FileReport, Verdict
from malhug.hub.cache import analyzer_version
from malhug.monitor.store import Store
from malhug.monitor.store.ops import Event

log = logging.getLogger(__name__)

HUB_RULE_PREFIX = "MH60"


class KeptSource:
    """A ``ByteSource`` over kept segments of a file of ``size`` bytes."""

    def __init__(self, size: int, segments: list[tuple[int, bytes]]):
        self._size = size
        self._segments = sorted(segments)
        self._read = 0

    @property
    def size(self) -> int:
        return self._size

    @property
    def bytes_read(self) -> int:
        return self._read

    def read_at(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self._size - offset))
        if length == 0:
            return b""
        for start, data in self._segments:
            if start <= offset and offset + length <= start + len(data):
                self._read += length
                return data[offset - start : offset - start + length]
        raise LimitExceeded("kept bytes of this file", 0, offset + length)


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


def reanalyze(store: Store, raw: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A fresh report of one file from its kept bytes; None when they are missing or do not suffice."""
    found = store.kept(key)
    if found is None:
        return None
    size, segments = found
    hint, load_time = _hint(key.split("|", 1)[1])
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
    store.put_file_verdict(key, analyzer_version(), json.dumps({**report.to_dict(), "size": report.size}))
    return {**report.to_dict(), "size": raw.get("size"), "bytes_read": 0}


def rescan(store: Store, which: str = "all") -> RescanResult:
    """Re-analyze the newest scan of every repository (``which="suspicious"``: of the suspicious ones)."""
    result = RescanResult()
    for repo in store.repos():
        if repo["sha"] is None or repo["verdict"] is None:
            continue
        if which == "suspicious" and repo["verdict"] != "suspicious":
            continue
        scan = store.scan_of(repo["type"], repo["id"], repo["sha"])
        if scan is None or scan["error"]:
            continue
        files = []
        for raw in scan["files"]:
            key = _key(scan["kept"], raw)
            fresh = reanalyze(store, raw, key) if key is not None else None
            if key is None or store.kept(key) is None:
                result.not_kept += 1
            elif fresh is None:
                result.failed += 1
            else:
                result.files += 1
            files.append(fresh or raw)
        verdict = Verdict.worst([FileReport.from_dict(f).verdict for f in files]).value
        result.repos += 1
        event = store.rescanned(repo["type"], repo["id"], repo["sha"], {"verdict": verdict, "files": files})
        if event is not None:
            result.events.append(event)
    return result
