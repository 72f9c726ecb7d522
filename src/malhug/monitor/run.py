"""``monitor run``: discover, then scan every queued ``repo@sha`` through the executor, committing each
scan to the store as it finishes.

Work is claimed from the store under a short lease that a heartbeat renews (``lease.py``), one
revision per I/O thread (``io_threads``, default 4 per analysis worker): the tree call and the range
reads run in those threads, the analysis of the bytes read in the executor (``offload.py``), and
nothing is queued beyond them, so memory does not grow with the hub. A runner killed at any moment
leaves its work queued; its lease expires within ``lease_s`` and any runner on the store takes it. Scans that hit a passing Hub trouble (network, time-out,
rate limit) are retried later, up to ``MAX_ATTEMPTS``; gated, private and vanished repositories are
recorded with why and not retried.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from malhug.hub.bounded import DEFAULT_BOUNDS, Bounds
from malhug.hub.client import DEFAULT_MAX_DOWNLOAD
from malhug.hub.http import HubError, HubHttp
from malhug.hub.listing import LISTING_BOUNDS
from malhug.hub.settings import HubSettings
from malhug.monitor.budget import SharedBudget
from malhug.monitor.discover import Discovered, discover_listing, discover_named
from malhug.monitor.events import EventSink
from malhug.monitor.lease import LEASE_S, Heartbeat, LeaseTerms, free_dead_leases, owner_id
from malhug.monitor.offload import Offload
from malhug.monitor.progress import Counters, Progress
from malhug.monitor.store import Store
from malhug.monitor.store.ops import WorkItem
from malhug.monitor.tasks import RevisionScanner, ScanSpec, assumes_hub_limits

log = logging.getLogger(__name__)

IO_THREADS_PER_WORKER = 4
MAX_ATTEMPTS = 3
RETRY_LATER_S = 2.0  # then 8 s, 32 s: passing trouble is retried within the pass
IDLE_S = 0.2
SHOW_S = 0.5  # how often the progress line (and the backlog it shows) is refreshed  # how often an idle runner looks for work while discovery goes on
PASSING = {"network", "timeout", "rate-limited", "internal", "cancelled"}
STATE_OF_ERROR = {"gated": "gated", "unauthorized": "private", "not-found": "vanished"}


@dataclass(frozen=True)
class RunConfig:
    store: str  # path or postgresql:// URL
    endpoint: str | None = None
    token: str | None = None
    repo_types: tuple[str, ...] = ("model", "dataset")
    authors: tuple[str, ...] = ()
    repos: tuple[tuple[str, str], ...] | None = None  # --repos: (type, id) instead of listings
    workers: int = 2
    api_budget: float = 0.5
    max_download: int = DEFAULT_MAX_DOWNLOAD
    events_file: Path | None = None
    on_event: str | None = None
    lease_s: float = LEASE_S  # renewed every lease_s / 4 while the runner lives
    io_threads: int = 0  # 0: IO_THREADS_PER_WORKER per analysis worker
    bounds: Bounds = DEFAULT_BOUNDS  # what one Hub answer may cost (bytes, pages, seconds)

    @property
    def threads(self) -> int:
        return self.io_threads or IO_THREADS_PER_WORKER * max(1, self.workers)


@dataclass
class RunResult:
    counters: Counters
    events: list[dict[str, Any]] = field(default_factory=list)


class Runner:
    def __init__(self, config: RunConfig, store: Store, progress: Progress | None = None):
        self.config = config
        self.store = store
        self.owner = owner_id()
        self.progress = progress or Progress(live=False)
        self.counters = Counters()
        self.sink = EventSink(store, config.events_file, config.on_event)
        self.budget = SharedBudget(store, config.api_budget, assume_hub_limits=assumes_hub_limits(config.endpoint))
        self.events: list[dict[str, Any]] = []
        self.terms = LeaseTerms(config.lease_s)
        self.offload: Offload | None = None

    def _show(self, final: bool = False) -> None:
        self.counters.budget_left = {b.bucket: b.quota - b.used for b in self.budget.state() if b.quota >= 0}
        self.progress.show(self.counters, final=final)

    # --- discovery
    def discover(self) -> None:
        settings = HubSettings.resolve(endpoint=self.config.endpoint, token=self.config.token, offline=False)
        before = self.counters.listed

        def seen(found: Discovered) -> None:
            self.counters.listed = before + found.listed
            if found.listed % 100 == 0:
                self._show()

        with HubHttp(settings.endpoint, settings.token, bounds=LISTING_BOUNDS, meter=self.budget) as http:
            if self.config.repos is not None:
                found = discover_named(http, self.store, self.config.repos, seen)
                for label, message in found.errors:
                    self._listing_failed(label, message)
                return
            for repo_type in self.config.repo_types:
                for author in self.config.authors or (None,):
                    before = self.counters.listed
                    try:
                        discover_listing(http, self.store, repo_type, author, seen)
                    except HubError as exc:  # the watermark stays: the next run lists again
                        self._listing_failed(f"{repo_type} listing" + (f" of {author}" if author else ""), exc.message)

    def _listing_failed(self, what: str, message: str) -> None:
        log.error("%s failed: %s", what, message)
        self.counters.errors += 1
        self.store.note_error(what, message)

    # --- scanning
    def _spec(self, item: WorkItem) -> ScanSpec:
        c = self.config
        return ScanSpec(
            item.repo_type, item.repo_id, item.sha, c.endpoint, c.token, c.store, c.api_budget, c.max_download
        )

    def drain(self, executor: Executor, listing_done: threading.Event | None = None) -> None:
        """Scan queued work until none is left in the store (this runner's, another live runner's, or a
        dead runner's once its lease expired) and discovery (``listing_done``, when given) has ended.

        Each revision is scanned in one of ``config.threads`` I/O threads; its files are analyzed in
        ``executor``. Nothing is claimed beyond one revision per thread."""
        self.offload = Offload(executor)
        limit = self.config.threads
        in_flight: dict[Future[dict[str, Any]], WorkItem] = {}
        scanner = RevisionScanner(
            self._spec(WorkItem("model", "", "", 0)), self.store, self.offload, self.config.bounds
        )
        shown = 0.0
        with ThreadPoolExecutor(limit, thread_name_prefix="malhug-monitor-io") as io, closing(scanner):
            while True:
                listing_over = listing_done is None or listing_done.is_set()  # read before claiming
                if len(in_flight) < limit:
                    for item in self.store.claim(self.owner, limit - len(in_flight), self.terms.lease_s):
                        in_flight[io.submit(scanner.scan, self._spec(item))] = item
                if not in_flight:
                    if listing_over and self.store.pending() == 0:
                        return
                    time.sleep(IDLE_S)
                    continue
                done, _ = wait(in_flight, timeout=IDLE_S if not listing_over else 1.0, return_when=FIRST_COMPLETED)
                for future in done:
                    self._finish(in_flight.pop(future), future)
                if time.monotonic() - shown > SHOW_S:  # the backlog is counted in the store: not per scan
                    self.counters.planned = self.counters.scanned + self.store.pending()
                    self._show()
                    shown = time.monotonic()

    def _finish(self, item: WorkItem, future: Future[dict[str, Any]]) -> None:
        try:
            scan = future.result()
        except Exception as exc:  # a worker died or the task raised: retried later, recorded
            log.exception("scan of %s %s@%s failed", item.repo_type, item.repo_id, item.sha)
            scan = {"verdict": "error", "files": [], "error": f"internal error: {exc!r}", "error_kind": "internal"}
        kind = scan.get("error_kind")
        label = f"{item.repo_type} {item.repo_id}@{item.sha[:12]}"
        if scan.get("error"):
            self.counters.errors += 1
            self.store.note_error(label, str(scan["error"]))
            if kind in PASSING and item.attempts < MAX_ATTEMPTS:
                self.store.postpone(item, RETRY_LATER_S * 4 ** (item.attempts - 1))
                return
            if kind in STATE_OF_ERROR:
                self.store.unreachable(item, STATE_OF_ERROR[kind], str(scan["error"]))
                return
        self.counters.scanned += 1
        self.counters.from_cache += int(bool(scan.get("from_cache")))
        self.counters.bytes_read += int(scan.get("bytes_read") or 0)
        event = self.store.finish(item, self.owner, scan)
        if event is not None:
            self.events.append(event.to_dict())
            self.sink.emit(event)

    def close(self) -> None:
        self.store.free_leases(self.owner)


def run_once(config: RunConfig, store: Store, executor: Executor, progress: Progress | None = None) -> RunResult:
    """One pass: discovery in a thread while the queued work (also from webhooks or earlier runs) is
    scanned, until both are done."""
    runner = Runner(config, store, progress)
    free_dead_leases(store)
    heartbeat = Heartbeat(store, runner.owner, runner.terms).start()
    listing_done = threading.Event()
    failure: list[Exception] = []

    def discover() -> None:
        try:
            runner.discover()
        except Exception as exc:  # re-raised below, in the caller's thread
            log.exception("discovery failed")
            failure.append(exc)
        finally:
            listing_done.set()

    thread = threading.Thread(target=discover, name="malhug-monitor-discovery", daemon=True)
    thread.start()
    try:
        runner.drain(executor, listing_done)
    finally:
        thread.join()
        heartbeat.stop()
        runner.close()
    if failure:
        raise failure[0]
    runner.counters.planned = runner.counters.scanned + store.pending()
    runner._show(final=True)
    return RunResult(runner.counters, runner.events)
