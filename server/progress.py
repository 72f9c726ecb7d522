"""``$/progress`` for long work: ``window/workDoneProgress/create`` then begin, report, end.

Only when the client advertises ``window.workDoneProgress``. Reports may come from worker threads
(``threadsafe_report``) and are throttled to a few per second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

if TYPE_CHECKING:
    from malhug.server.state import MalhugServer

log = logging.getLogger("malhug.server.progress")
_MIN_INTERVAL = 0.2
_CREATE_TIMEOUT = 5.0


def describe(*args: Any, **kwargs: Any) -> tuple[str, int | None]:
    """A message and a percentage from a progress callback's arguments, whatever their shape.

    Accepts ``(message)``, ``(done, total)``, ``(message, done, total)``, ``(path, fraction)`` and
    keyword forms (``message=``, ``done=``, ``total=``, ``fraction=``).
    """
    words = [str(a) for a in args if isinstance(a, str)]
    numbers = [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]
    message = kwargs.get("message") or kwargs.get("path") or " ".join(words)
    done, total = kwargs.get("done"), kwargs.get("total")
    fraction = kwargs.get("fraction")
    if done is None and len(numbers) >= 2:
        done, total = numbers[0], numbers[1]
    elif fraction is None and len(numbers) == 1 and 0 <= numbers[0] <= 1:
        fraction = numbers[0]
    percent = None
    if isinstance(done, int | float) and isinstance(total, int | float) and total > 0:
        percent = int(100 * min(max(done / total, 0), 1))
        message = f"{message} ({done}/{total})".strip()
    elif isinstance(fraction, int | float):
        percent = int(100 * min(max(fraction, 0), 1))
    return str(message)[:200], percent


class Progress:
    def __init__(self, server: MalhugServer, title: str, on_cancel: Callable[[], None] | None = None):
        self.server = server
        self.title = title
        self.on_cancel = on_cancel  # the user pressed "cancel" on the progress (client-side)
        self.token: str | None = None
        self._last = 0.0

    async def begin(self, message: str = "") -> None:
        server = self.server
        if not server.supports_progress():
            return
        server.progress_counter += 1
        token = f"malhug-{server.progress_counter}"
        try:
            await asyncio.wait_for(server.work_done_progress.create_async(token), _CREATE_TIMEOUT)
        except (JsonRpcException, TimeoutError) as exc:  # a client that refuses progress still gets results
            log.debug("client refused progress token %s: %s", token, exc)
            return
        self.token = token
        cancellable = self.on_cancel is not None
        registered = server.work_done_progress.tokens.get(token)
        if registered is not None and self.on_cancel is not None:
            on_cancel = self.on_cancel
            registered.add_done_callback(lambda f: server.call_on_loop(on_cancel) if f.cancelled() else None)
        server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=self.title, message=message, cancellable=cancellable, percentage=0)
        )

    def report(self, message: str, percent: int | None) -> None:
        if self.token is None:
            return
        self.server.work_done_progress.report(
            self.token, types.WorkDoneProgressReport(message=message, percentage=percent)
        )

    def threadsafe_report(self, *args: Any, **kwargs: Any) -> None:
        """The hub layer's ``on_progress`` callback (called from a worker thread)."""
        if self.token is None:
            return
        now = time.monotonic()
        if now - self._last < _MIN_INTERVAL:
            return
        self._last = now
        message, percent = describe(*args, **kwargs)
        self.server.call_on_loop(self.report, message, percent)

    def end(self, message: str = "done") -> None:
        if self.token is None:
            return
        token, self.token = self.token, None
        self.server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
        self.server.work_done_progress.tokens.pop(token, None)
