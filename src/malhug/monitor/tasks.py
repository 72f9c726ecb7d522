"""The scan of one ``repo@sha``, run in one of the runner's I/O threads.

``scan_in_runner`` scans the revision with the hub layer (its file plan, range reads and bounds): the
tree call and the range reads happen in the calling thread, the analysis of the bytes read is handed
to ``analyze`` (``offload.Offload``: the executor's processes or Dask workers). The monitor store is
the verdict cache, so a file whose content (LFS sha256 or git blob id) was analyzed by the same
analyzer version and rules is never analyzed again, whichever repository it is in; the run's rate
budget is shared through the store.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from malhug.hub.bounded import DEFAULT_BOUNDS, Bounds
from malhug.hub.cache import VerdictCache, analyzer_version
from malhug.hub.client import HubClient
from malhug.hub.scanner import Analyze
from malhug.monitor.budget import SharedBudget
from malhug.monitor.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanSpec:
    repo_type: str
    repo_id: str
    sha: str
    endpoint: str | None
    token: str | None
    store: str
    api_budget: float
    max_download: int

    def __repr__(self) -> str:  # the token stays out of logs
        return f"ScanSpec({self.repo_type} {self.repo_id}@{self.sha[:12]}, store={self.store!r})"


class StoreVerdictCache(VerdictCache):
    """The hub layer's verdict cache, kept in the monitor store (SQLite or PostgreSQL).

    File verdicts go to ``file_verdicts`` keyed by (content + context, analyzer salt); the other
    answers (revision scans, refs) to ``hub_cache``.
    """

    def __init__(self, store: Store):
        super().__init__(path="(monitor store)")
        self.store = store

    def _get(self, table: str, column: str, key: str) -> str | None:
        if table == "files":
            content, _, salt = key.rpartition("|")
            return self.store.get_file_verdict(content, salt)
        return self.store.get_cached(table, key)

    def _put(self, table: str, key: str, value: str) -> None:
        if table == "files":
            content, _, salt = key.rpartition("|")
            self.store.put_file_verdict(content, salt, value)
        else:
            self.store.put_cached(table, key, value)

    def clear(self) -> None:
        self.store.clear_cached()


def assumes_hub_limits(endpoint: str | None) -> bool:
    """huggingface.co's free-account limits are assumed there until it announces its own."""
    from urllib.parse import urlsplit

    from malhug.hub.settings import DEFAULT_ENDPOINT

    return urlsplit(endpoint or DEFAULT_ENDPOINT).hostname in ("huggingface.co", "hf.co")


class RevisionScanner:
    """Scans revisions for one runner's I/O threads with one ``HubClient``: one HTTP session (its TLS
    context is built once: it costs about 0.1 s of CPU, more than a revision's analysis), one verdict
    cache and one rate budget over the store. The bytes kept of each file go to the scan that read
    them (each thread scans one revision at a time)."""

    def __init__(self, spec: ScanSpec, store: Store, analyze: Analyze | None, bounds: Bounds = DEFAULT_BOUNDS):
        self.store = store
        self._local = threading.local()
        self.client = HubClient(
            endpoint=spec.endpoint,
            token=spec.token,
            offline=False,
            verdict_cache=StoreVerdictCache(store),
            max_download=spec.max_download,
            meter=SharedBudget(store, spec.api_budget, assume_hub_limits=assumes_hub_limits(spec.endpoint)),
            keep=self._keep,
            ask_hub_status=False,
            analyze=analyze,
            bounds=bounds,
        )

    def _keep(self, content_id: str, path: str, size: int, segments: list[tuple[int, bytes]], context: str) -> None:
        key = f"{content_id}|{context}"
        self.store.keep(key, path, size, segments)
        self._local.kept[path] = key

    def scan(self, spec: ScanSpec) -> dict[str, Any]:
        """The scan of ``spec``'s revision as ``RepoScan.to_dict()`` plus ``kept`` (path -> kept-bytes
        key) and ``salt``; never raises for Hub trouble."""
        kept: dict[str, str] = {}
        self._local.kept = kept
        scan = self.client.scan_repo(spec.repo_id, spec.repo_type, spec.sha)
        out = scan.to_dict()
        out["kept"] = kept
        out["salt"] = analyzer_version()
        return out

    def close(self) -> None:
        self.client.close()


def scan_in_runner(spec: ScanSpec, store: Store, analyze: Analyze | None) -> dict[str, Any]:
    """One revision with a scanner of its own (tests, one-off scans)."""
    scanner = RevisionScanner(spec, store, analyze)
    try:
        return scanner.scan(spec)
    finally:
        scanner.close()
