"""The language server object: settings, per-document state, hub results and worker pools.

All state lives on one ``MalhugServer`` instance and is touched only on the event-loop thread;
worker threads compute values and hand them back (``run_cpu``/``run_hub``/``run_files``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from malhug import __version__
from malhug.core import failures
from malhug.server.scriptworker import ScriptRunner
from malhug.server.settings import LOG_LEVELS, Settings, default_settings

if TYPE_CHECKING:
    from malhug.analyzers.api import BlockCache, CodeAnalysis, SourceLines
    from malhug.core.model import FileReport, Finding
    from malhug.hub.types import RepoScan, SafeRevision

log = logging.getLogger("malhug.server")
T = TypeVar("T")
RepoKey = tuple[str, str, str]  # (repo_type, repo_id, revision or "")


class HubClientLike(Protocol):
    """What the server needs from ``malhug.hub.client.HubClient`` (a fake in unit tests)."""

    def scan_repo(
        self,
        repo_id: str,
        repo_type: str = "model",
        revision: str | None = None,
        *,
        on_progress: Callable[..., None] | None = None,
        cancel: threading.Event | None = None,
    ) -> RepoScan: ...

    def cached_scan(self, repo_id: str, repo_type: str, revision: str | None) -> RepoScan | None: ...

    def find_safe_revision(
        self, repo_id: str, repo_type: str, *, max_commits: int | None = None, cancel: threading.Event | None = None
    ) -> SafeRevision: ...


ClientFactory = Callable[[Settings], HubClientLike]


def default_client_factory(settings: Settings) -> HubClientLike:
    from malhug.hub.client import HubClient

    client: HubClientLike = HubClient(
        endpoint=settings.hub_endpoint,
        token=settings.token,
        offline=settings.offline,
        max_download=settings.max_download,
        history_depth=settings.history_depth,
    )
    return client


def _block_cache() -> BlockCache:
    from malhug.analyzers.api import BlockCache

    return BlockCache()


@dataclass
class DocState:
    uri: str
    version: int | None = None  # the version ``analysis`` was computed for
    src: SourceLines | None = None
    analysis: CodeAnalysis | None = None
    keys: set[RepoKey] = field(default_factory=set)
    timer: asyncio.TimerHandle | None = None
    task: asyncio.Task[None] | None = None
    blocks: BlockCache = field(default_factory=lambda: _block_cache())
    # The script analyzer's findings and the lines of the text they were computed on (shifted onto
    # newer text until the background re-analysis catches up).
    script_findings: list[Finding] = field(default_factory=list)
    script_lines: list[str] | None = None
    script_version: int | None = None
    script_task: asyncio.Task[None] | None = None
    script_timer: asyncio.TimerHandle | None = None


@dataclass
class ScanJob:
    key: RepoKey
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None


@dataclass
class HubResults:
    scans: dict[RepoKey, RepoScan] = field(default_factory=dict)
    scanned_at: dict[RepoKey, float] = field(default_factory=dict)  # monotonic time of each scan result
    safe: dict[tuple[str, str], SafeRevision] = field(default_factory=dict)
    jobs: dict[RepoKey, ScanJob] = field(default_factory=dict)
    safe_jobs: dict[tuple[str, str], asyncio.Future[SafeRevision | None]] = field(default_factory=dict)

    def clear(self) -> None:
        for job in self.jobs.values():
            job.cancel.set()
        self.scans.clear()
        self.scanned_at.clear()
        self.safe.clear()
        self.jobs.clear()
        self.safe_jobs.clear()


LOG_FORMAT = "%(source)s: %(message)s"


class SourceFormatter(logging.Formatter):
    """``<source>: <message>``, the source being the logger's name without ``malhug.``
    (``server.workspace: w.pkl: malicious``). The level is not repeated in the text: it travels as the
    ``logMessage`` type (stderr records, read before ``initialized``, carry it as a first word)."""

    def __init__(self, fmt: str = LOG_FORMAT):
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        name = record.name
        record.source = name[len("malhug.") :] if name.startswith("malhug.") else name
        return super().format(record)


class LspLogHandler(logging.Handler):
    """Forwards the server's log records to the client as ``window/logMessage``, from any thread."""

    _TYPES = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
    }

    def __init__(self, server: MalhugServer):
        super().__init__()
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        if self.server.stopping:
            return  # after shutdown the client may be gone; stderr still has the record
        kind = self._TYPES.get(record.levelno, types.MessageType.Log)
        if record.levelno > logging.ERROR:
            kind = types.MessageType.Error
        self.server.call_on_loop(
            self.server.window_log_message, types.LogMessageParams(type=kind, message=self.format(record))
        )


class MalhugServer(LanguageServer):
    def __init__(self, client_factory: ClientFactory = default_client_factory, settings: Settings | None = None):
        super().__init__("malhug", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.client_factory = client_factory
        self.settings = settings or default_settings()
        self.init_options: Any = None
        self._client: HubClientLike | None = None
        self._client_key: tuple[Any, ...] | None = None
        self._client_lock = threading.Lock()
        self.docs: dict[str, DocState] = {}
        self.hub = HubResults()
        self.model_files: dict[str, FileReport] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        # One worker: analyses run one at a time, so a document's BlockCache is never used concurrently.
        self.cpu_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="malhug-cpu")
        self.hub_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="malhug-hub")
        self.file_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="malhug-files")
        # Verdict-cache lookups: no network, but may scan a snapshot in the local HF cache.
        self.cache_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="malhug-cache")
        self.scripts = ScriptRunner()
        self.background: set[asyncio.Task[Any]] = set()
        self.progress_counter = 0
        self.stopping = False
        self._reporting_error = False
        self._worker_failure_shown = False  # one showMessage per run of worker failures
        self.log_handler = LspLogHandler(self)
        self.log_handler.setFormatter(SourceFormatter())

    # --- hub client
    @property
    def client(self) -> HubClientLike:
        """The hub client for the current settings (built on first use, from any thread)."""
        with self._client_lock:
            key = self.settings.hub_key()
            if self._client is None or key != self._client_key:
                self._client = self.client_factory(self.settings)
                self._client_key = key
            return self._client

    def drop_client(self) -> None:
        with self._client_lock:
            self._client = None
            self._client_key = None

    async def warm_up(self) -> None:
        """Build the hub client (imports huggingface_hub) off the event loop, before the first lookup."""
        await self.run_cache(lambda: self.client)

    # --- logging
    def apply_log_level(self) -> None:
        logger = logging.getLogger("malhug")
        logger.setLevel(LOG_LEVELS[self.settings.log_level])
        if self.log_handler not in logger.handlers:
            logger.addHandler(self.log_handler)
            logger.propagate = False  # the client shows logMessage; stderr would show each line twice

    def call_on_loop(self, func: Callable[..., Any], *args: Any) -> None:
        """Run ``func(*args)`` on the event loop thread (all LSP output goes from there)."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            func(*args)
        else:
            loop.call_soon_threadsafe(func, *args)

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    # --- worker pools
    async def run_cpu(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.cpu_pool, func, *args)

    async def run_hub(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.hub_pool, func, *args)

    async def run_scripts(self, text: str, path: str) -> list[Finding]:
        """The script analyzer's findings for ``text`` (in the worker process).

        Fails closed: a worker that dies or misses its deadline is replaced and the text gets an
        MH903/MH902 finding; the user is told once per run of failures (not once per keystroke).
        """
        from malhug.server import scriptworker

        try:
            raw = await self.scripts.run(scriptworker.analyze, text, path)
        except scriptworker.WorkerFailure as exc:
            if not self._worker_failure_shown:
                self._worker_failure_shown = True
                name = path.replace("\\", "/").rsplit("/", 1)[-1]
                self.show(f"MalHug {exc.rule} in {name}: {exc}. The file was not fully analyzed.")
            return [scriptworker.failure(exc.rule, f"python: {exc}")]
        except Exception as exc:  # the worker could not even be asked (no process, pool shut down): still shown
            log.error("script analysis of %s could not run: %s: %s", path, type(exc).__name__, exc, exc_info=True)
            return [
                scriptworker.failure(
                    failures.FAILED, f"python: the analysis could not run: {type(exc).__name__}: {exc}"
                )
            ]
        self._worker_failure_shown = False
        return scriptworker.to_findings(raw, path)

    async def run_cache(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.cache_pool, func, *args)

    async def run_files(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.file_pool, func, *args)

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        """A background task whose failure is logged, never lost."""
        task = asyncio.ensure_future(coro)
        self.background.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.background.discard(t)
            if not t.cancelled() and t.exception() is not None:
                exc = t.exception()
                log.error("%s failed: %s: %s", what, type(exc).__name__, exc, exc_info=exc)

        task.add_done_callback(done)
        return task

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A failing handler becomes a log message; the server carries on.

        Not re-entered: when sending itself fails (the client is gone), logging through the client would
        fail again and report again.
        """
        if self._reporting_error:
            return
        self._reporting_error = True
        try:
            if isinstance(error, BrokenPipeError | ValueError | OSError) and self.stopping:
                return
            log.error("internal error (%s): %s: %s", getattr(source, "__name__", source), type(error).__name__, error)
        finally:
            self._reporting_error = False

    # --- capabilities
    def supports_progress(self) -> bool:
        caps = self.client_capabilities
        return bool(caps and caps.window and caps.window.work_done_progress)

    def supports_pull_diagnostics(self) -> bool:
        caps = self.client_capabilities
        return bool(caps and caps.text_document and caps.text_document.diagnostic)

    def shutdown_pools(self) -> None:
        self.stopping = True
        for job in self.hub.jobs.values():
            job.cancel.set()
        for pool in (self.cpu_pool, self.hub_pool, self.file_pool, self.cache_pool):
            pool.shutdown(wait=False, cancel_futures=True)
        self.scripts.shutdown()
