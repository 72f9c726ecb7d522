"""The script analyzer in a worker process, so its CPU time never holds the server's GIL.

``analyze`` runs in the worker and returns plain JSON-able dicts (``Finding.to_dict``); the server
rebuilds the findings. A worker that dies is replaced on the next call; if no process can be
started the analysis runs in a thread instead.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from malhug.core.model import Finding

log = logging.getLogger("malhug.server.scripts")


def analyze(text: str, path: str) -> list[dict[str, Any]]:
    """Runs in the worker: the script analyzer's findings as dicts (never raises for bad text)."""
    try:
        from malhug.analyzers.scripts.analyzer import analyze_text
    except ImportError as exc:
        logging.getLogger(__name__).debug("script analyzer not available: %s", exc)
        return []
    try:
        return [f.to_dict() for f in analyze_text(text, path)]
    except (RecursionError, MemoryError, ValueError, SyntaxError) as exc:
        return [{"error": f"{type(exc).__name__}: {exc}"}]
    except Exception as exc:  # a crashing analyzer must not take the server down; reported to the log
        logging.getLogger(__name__).error("script analyzer crashed on %s", path, exc_info=True)
        return [{"error": f"{type(exc).__name__}: {exc}"}]


def to_findings(raw: list[dict[str, Any]], path: str) -> list[Finding]:
    out = []
    for item in raw:
        if "error" in item:
            log.warning("script analyzer failed on %s: %s", path, item["error"])
            continue
        out.append(Finding.from_dict(item))
    return out


class ScriptRunner:
    """One lazily started worker process (spawned, not forked: the server runs threads)."""

    def __init__(self, use_process: bool = True):
        self.use_process = use_process
        self._executor: Executor | None = None

    def executor(self) -> Executor:
        if self._executor is None:
            if self.use_process:
                try:
                    self._executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
                except (OSError, ValueError) as exc:
                    log.warning("no worker process for the script analyzer (%s); using a thread", exc)
                    self.use_process = False
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="malhug-scripts")
        return self._executor

    def broken(self) -> None:
        log.error("the script-analyzer worker died; starting a new one")
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = None

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


__all__ = ["BrokenProcessPool", "ScriptRunner", "analyze", "to_findings"]
