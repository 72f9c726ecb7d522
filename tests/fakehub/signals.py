"""Waiting for Ctrl-C or SIGTERM in a foreground tool (the fake Hub's CLI, the demo)."""

from __future__ import annotations

import signal
import time


class _Stop(Exception):
    """Raised by the signal handler to leave the wait."""


def wait_for_signal() -> None:
    """Return after the first SIGINT or SIGTERM; later ones are ignored while the caller cleans up.

    Both are handled explicitly (a background job may inherit SIGINT ignored). The handler raises
    instead of setting an Event: a handler runs on the main thread, and setting an Event that the main
    thread is waiting on deadlocks on the Event's own lock.
    """

    stopping = False

    def stop(*_: object) -> None:
        # Only the first signal leaves the wait: a second one that arrives before the handlers are
        # reset to SIG_IGN (while the first _Stop is being handled) must not raise again.
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise _Stop

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    try:
        while True:
            time.sleep(3600)
    except _Stop:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
