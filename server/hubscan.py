"""Hub scans in the background: one job per (type, repo, revision), shared by every document.

Results already in the verdict cache appear at once (``load_cached``). Missing ones are scanned in
the hub pool; a job nobody references any more (the text changed) is cancelled through its event.
When a scan ends, the documents that reference it are published again; a risky verdict also starts
the search for the newest revision that scans clean, for the "pin revision" quick fix.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from malhug.core.model import Verdict
from malhug.hub.types import RepoScan, SafeRevision
from malhug.server.progress import Progress
from malhug.server.state import DocState, MalhugServer, RepoKey, ScanJob

log = logging.getLogger("malhug.server.hub")
# A failed scan (network, rate limit, not found) is retried when the document is saved, or on the next
# edit once it is this old.
RETRY_ERRORS_AFTER = 60.0


def _error_scan(key: RepoKey, exc: BaseException | None) -> RepoScan:
    """A failed scan (``exc``) or one the user cancelled (None); retried on save or after a while."""
    repo_type, repo_id, revision = key
    return RepoScan(
        repo_id=repo_id,
        repo_type=repo_type,  # type: ignore[arg-type]
        revision=revision or None,
        commit_sha=None,
        error=f"{type(exc).__name__}: {exc}" if exc is not None else "the scan was cancelled; save to scan again",
        error_kind="internal" if exc is not None else "cancelled",
    )


class HubScheduler:
    def __init__(self, server: MalhugServer, on_result: Callable[[RepoKey], None]):
        self.server = server
        self.on_result = on_result

    def _cached(self, keys: list[RepoKey]) -> dict[RepoKey, RepoScan]:
        client = self.server.client
        found = {}
        for key in keys:
            repo_type, repo_id, revision = key
            try:
                scan = client.cached_scan(repo_id, repo_type, revision or None)
            except (OSError, ValueError) as exc:
                log.warning("verdict cache unreadable for %s: %s", repo_id, exc)
                continue
            if scan is not None:
                found[key] = scan
        return found

    async def load_cached(self, state: DocState) -> None:
        """Put cached verdicts of the document's references in memory (no network)."""
        missing = [k for k in state.keys if k not in self.server.hub.scans]
        if not missing:
            return
        found = await self.server.run_cache(self._cached, missing)
        self.server.hub.scans.update(found)
        for key, scan in found.items():
            self._maybe_find_safe(key, scan)

    def wanted(self) -> set[RepoKey]:
        keys: set[RepoKey] = set()
        for state in self.server.docs.values():
            keys |= state.keys
        return keys

    def forget_errors(self, keys: set[RepoKey], older_than: float = RETRY_ERRORS_AFTER) -> None:
        """Drop failed scans of ``keys`` so they are tried again (all of them with ``older_than=0``)."""
        hub = self.server.hub
        now = time.monotonic()
        for key in keys:
            scan = hub.scans.get(key)
            if scan is not None and scan.error is not None and now - hub.scanned_at.get(key, 0.0) >= older_than:
                del hub.scans[key]

    def request(self, state: DocState) -> None:
        self.forget_errors(state.keys)
        for key in sorted(state.keys):
            if key not in self.server.hub.scans and key not in self.server.hub.jobs:
                job = ScanJob(key)
                self.server.hub.jobs[key] = job
                job.task = self.server.spawn(self._run(job), f"scan of {key[1]}")
        self.release_unused()

    def release_unused(self) -> None:
        wanted = self.wanted()
        for key, job in list(self.server.hub.jobs.items()):
            if key not in wanted:
                log.info("cancelling the scan of %s: no longer referenced", key[1])
                job.cancel.set()
                del self.server.hub.jobs[key]

    async def _run(self, job: ScanJob) -> None:
        server = self.server
        repo_type, repo_id, revision = job.key
        user_cancelled = False

        def cancel_by_user() -> None:
            nonlocal user_cancelled
            user_cancelled = True
            log.info("scan of %s cancelled by the user", repo_id)
            job.cancel.set()

        progress = Progress(server, f"MalHug: scanning {repo_id}", on_cancel=cancel_by_user)
        client = server.client

        def scan() -> RepoScan:
            return client.scan_repo(
                repo_id, repo_type, revision or None, on_progress=progress.threadsafe_report, cancel=job.cancel
            )

        running = asyncio.ensure_future(server.run_hub(scan))  # the scan starts before the progress handshake
        try:
            await progress.begin(f"{repo_type} {repo_id}" + (f"@{revision}" if revision else ""))
            result = await running
        except Exception as exc:  # the hub layer reports errors in RepoScan.error; anything else is a bug there
            log.error("scan of %s failed: %s: %s", repo_id, type(exc).__name__, exc, exc_info=True)
            result = _error_scan(job.key, exc)
        finally:
            progress.end("cancelled" if job.cancel.is_set() else "done")
        if server.hub.jobs.get(job.key) is not job:
            return  # cancelled because no document references it any more
        del server.hub.jobs[job.key]
        if user_cancelled:
            result = _error_scan(job.key, None)
        server.hub.scans[job.key] = result
        server.hub.scanned_at[job.key] = time.monotonic()
        log.info("%s %s: %s", repo_type, repo_id, result.verdict.value)
        self.on_result(job.key)
        self._maybe_find_safe(job.key, result)

    def _maybe_find_safe(self, key: RepoKey, scan: RepoScan) -> None:
        if scan.verdict in (Verdict.MALICIOUS, Verdict.SUSPICIOUS):
            self.server.spawn(self.safe_revision(key[0], key[1]), f"safe revision of {key[1]}")

    async def safe_revision(self, repo_type: str, repo_id: str) -> SafeRevision | None:
        """The newest clean revision (memoised; concurrent callers share one search)."""
        hub = self.server.hub
        pair = (repo_type, repo_id)
        if pair in hub.safe:
            return hub.safe[pair]
        future = hub.safe_jobs.get(pair)
        if future is None:
            future = asyncio.ensure_future(self._search(repo_type, repo_id))
            hub.safe_jobs[pair] = future
        return await asyncio.shield(future)

    async def _search(self, repo_type: str, repo_id: str) -> SafeRevision | None:
        server = self.server
        client = server.client
        depth = server.settings.history_depth

        def search() -> SafeRevision:
            return client.find_safe_revision(repo_id, repo_type, max_commits=depth)

        try:
            safe = await server.run_hub(search)
        except Exception as exc:  # logged, the quick fix is simply not offered
            log.error("safe-revision search for %s failed: %s: %s", repo_id, type(exc).__name__, exc, exc_info=True)
            return None
        finally:
            server.hub.safe_jobs.pop((repo_type, repo_id), None)
        if safe.error:
            log.warning("no safe revision for %s: %s", repo_id, safe.error)
        server.hub.safe[(repo_type, repo_id)] = safe
        for key in list(server.hub.scans):
            if key[0] == repo_type and key[1] == repo_id:
                self.on_result(key)
        return safe
