"""The script analyzer in a worker process, so its CPU time never holds the server's GIL.

``analyze`` runs in the worker and returns plain JSON-able dicts (``Finding.to_dict``); the server
rebuilds the findings. It fails closed like ``malhug scan``: a source over the size limit, a budget
run out (``result.incomplete``), an analyzer that cannot be imported or that crashes each become an
MH901/MH902/MH903 finding on line 1, never an empty list.

``ScriptRunner.run`` gives the worker a deadline and a memory cap: a worker still busy past the
deadline (a loop inside a C library the budget cannot interrupt) is killed. A worker that dies or is killed raises
``WorkerFailure``; the next call starts a new one. If no process can be started the analysis runs
in a thread instead (which cannot be killed: past the deadline it is abandoned and reported).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from malhug.analyzers.api import DEFAULT_LIMITS
from malhug.core import failures
from malhug.core.model import Finding, Location

log = logging.getLogger("malhug.server.scripts")
T = TypeVar("T")

# The editor's time budget for one analysis (the CLI allows ``Limits.max_seconds``; the editor must
# answer sooner). Past it the analysis stops and reports MH902 with what it found so far.
BUDGET_SECONDS = 20.0
# A worker still busy this long after the budget ran out is stuck where the budget is not checked.
DEADLINE_SECONDS = 2 * BUDGET_SECONDS + 10.0
# The worker's address-space cap: a hostile script that makes the analysis allocate past it gets
# MemoryError (MH902) or kills only the worker (MH903), never the editor's machine.
WORKER_MEMORY_BYTES = 2 << 30
NOT_ANALYZED = "the file was not fully analyzed"
# A syntax error that leaves nothing to analyze (MH514) is a failure too; one the parser could skip
# is shown by the editor's own Python support, so only this kind is published.
_UNPARSED = "the file could not be analyzed"


class WorkerFailure(Exception):
    """The worker died or missed its deadline; ``rule`` is the finding to show (MH903 or MH902)."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


def failure(rule: str, message: str, evidence: str | None = None) -> Finding:
    """A finding saying the analysis failed (catalog severity and category), on line 1."""
    from malhug.core.rules import finding

    text = message if NOT_ANALYZED in message else f"{message}; {NOT_ANALYZED}"
    return finding(rule, text, location=Location(line=1, column=1), evidence=evidence or message)


def cap_memory(limit: int) -> None:
    """Runs first in the worker: bound its address space (where the platform can)."""
    try:
        import resource
    except ImportError:  # not on Windows: the deadline still bounds the worker
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def analyze(text: str, path: str) -> list[dict[str, Any]]:
    """Runs in the worker: the script analyzer's findings as dicts, failures included (never raises)."""
    limit = DEFAULT_LIMITS.max_source_bytes
    if len(text) > limit // 4 and (size := _utf8_size(text)) > limit:
        message = f"python: Python source size (bytes) {size} exceeds the limit of {limit}"
        return [failure(failures.OVER_LIMIT, message).to_dict()]
    try:
        from malhug.analyzers.api import SYNTAX_ERROR, Budget, analyze_text
    except ImportError as exc:
        logging.getLogger(__name__).error("script analyzer not available: %s", exc)
        return [failure(failures.FAILED, f"python: the script analyzer could not be loaded: {exc}").to_dict()]
    try:
        found = analyze_text(text, path, report_syntax_errors=True, budget=Budget(seconds=BUDGET_SECONDS))
    except (RecursionError, MemoryError) as exc:
        return [failure(failures.OVER_LIMIT, f"python: {type(exc).__name__} while analyzing").to_dict()]
    except Exception as exc:  # the CLI's dispatch makes the same MH903; the log keeps the traceback
        logging.getLogger(__name__).error("script analyzer crashed on %s", path, exc_info=True)
        return [
            failure(failures.FAILED, f"python analyzer failed: {type(exc).__name__}: {exc}", repr(exc)[:500]).to_dict()
        ]
    out = []
    for f in found:
        if f.rule == SYNTAX_ERROR and _UNPARSED not in f.message:
            continue
        if f.rule in failures.FAILURE_RULES:
            f = failure(f.rule, f.message, f.evidence)
        out.append(f.to_dict())
    return out


def to_findings(raw: list[dict[str, Any]], path: str) -> list[Finding]:
    """The worker's dicts as findings; each analysis failure is also logged (once, here)."""
    out = [Finding.from_dict(item) for item in raw]
    for f in out:
        if f.rule in failures.FAILURE_RULES:
            log.warning("%s on %s: %s", f.rule, path, f.message)
    return out


class ScriptRunner:
    """One lazily started worker process (spawned, not forked: the server runs threads)."""

    def __init__(self, use_process: bool = True, deadline: float = DEADLINE_SECONDS, memory: int = WORKER_MEMORY_BYTES):
        self.use_process = use_process
        self.deadline = deadline
        self.memory = memory
        self._executor: Executor | None = None
        self._turn = asyncio.Lock()  # one task in the worker at a time
        self._abandoned: tuple[Future[Any], float] | None = None  # a running task whose caller left, its deadline

    def executor(self) -> Executor:
        if self._executor is None:
            if self.use_process:
                try:
                    self._executor = ProcessPoolExecutor(
                        max_workers=1,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=cap_memory,
                        initargs=(self.memory,),
                    )
                except (OSError, ValueError) as exc:
                    log.warning("no worker process for the script analyzer (%s); using a thread", exc)
                    self.use_process = False
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="malhug-scripts")
        return self._executor

    def pids(self) -> list[int]:
        """The worker processes' ids (for tests and the log)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return [p.pid for p in processes.values() if p.pid is not None]

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` in the worker; raises ``WorkerFailure`` if the worker dies or misses the deadline.

        One task at a time: the deadline counts the task's own run, never time spent queued behind
        another document's analysis, and a task never shares the fate of a worker another one killed.
        """
        async with self._turn:
            await self._drain()
            executor = self.executor()
            future = executor.submit(func, *args)
            ends = asyncio.get_running_loop().time() + self.deadline
            try:
                return await self._run(executor, future)
            except asyncio.CancelledError:
                if not future.cancel():  # already running in the worker: the next task waits for it first
                    self._abandoned = (future, ends)
                raise

    async def _drain(self) -> None:
        """Let a task whose caller went away (a closed document) finish, or kill it at the deadline."""
        abandoned, self._abandoned = self._abandoned, None
        executor = self._executor
        if abandoned is None or abandoned[0].done() or executor is None:
            return
        future, ends = abandoned
        try:  # until the abandoned task's own deadline
            await asyncio.wait_for(asyncio.wrap_future(future), max(ends - asyncio.get_running_loop().time(), 0.0))
        except BrokenProcessPool:
            self._replace(executor, "the script-analyzer worker died on an abandoned analysis; starting a new one")
        except TimeoutError:
            self._kill(executor)
            self._replace(executor, "an abandoned analysis missed the worker's deadline; worker restarted")
        except Exception:  # its caller is gone; what it raised concerns nobody but the log
            log.warning("an abandoned analysis ended with an error", exc_info=True)

    async def _run(self, executor: Executor, future: Future[T]) -> T:
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.deadline)
        except BrokenProcessPool as exc:
            self._replace(executor, "the script-analyzer worker died; starting a new one")
            raise WorkerFailure(
                failures.FAILED, "the analysis worker died while analyzing this file; restarted"
            ) from exc
        except TimeoutError as exc:
            self._kill(executor)
            self._replace(executor, f"the script-analyzer worker missed its {self.deadline:g} s deadline; restarted")
            raise WorkerFailure(
                failures.OVER_LIMIT, f"analysis stopped at the worker's {self.deadline:g} s deadline; worker restarted"
            ) from exc

    def _kill(self, executor: Executor) -> None:
        # ProcessPoolExecutor has no public way to stop a running task before Python 3.14's kill_workers().
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            process.kill()

    def _replace(self, executor: Executor, message: str) -> None:
        """Drop ``executor``, once (a later call about the same executor must not drop its successor)."""
        if self._executor is not executor:
            return
        log.error(message)
        executor.shutdown(wait=False, cancel_futures=True)
        self._executor = None

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


__all__ = ["ScriptRunner", "WorkerFailure", "analyze", "failure", "to_findings"]
