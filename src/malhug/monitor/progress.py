"""The run's counters, shown as one live line on a terminal and as plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

log = logging.getLogger(__name__)

LOG_EVERY_S = 10.0


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


@dataclass
class Counters:
    listed: int = 0
    planned: int = 0
    scanned: int = 0
    from_cache: int = 0
    errors: int = 0
    bytes_read: int = 0
    budget_left: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def eta_s(self) -> float | None:
        done = self.scanned
        left = self.planned - done
        elapsed = time.monotonic() - self.started
        if done == 0 or left <= 0:
            return None
        return elapsed / done * left

    def line(self) -> str:
        eta = self.eta_s()
        budget = " ".join(f"{k} {v}" for k, v in sorted(self.budget_left.items())) or "-"
        return (
            f"listed {self.listed}  planned {self.planned}  scanned {self.scanned}  from cache {self.from_cache}"
            f"  errors {self.errors}  read {_size(self.bytes_read)}  budget left {budget}"
            f"  ETA {'-' if eta is None else f'{eta:.0f}s'}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "listed": self.listed,
            "planned": self.planned,
            "scanned": self.scanned,
            "from_cache": self.from_cache,
            "errors": self.errors,
            "bytes_read": self.bytes_read,
        }


class Progress:
    """Redraws one line on a terminal; logs a line every ``LOG_EVERY_S`` seconds otherwise."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._last = 0.0

    def show(self, counters: Counters, *, final: bool = False) -> None:
        now = time.monotonic()
        if self.live:
            self.stream.write("\r\x1b[K" + counters.line() + ("\n" if final else ""))
            self.stream.flush()
        elif final or now - self._last >= LOG_EVERY_S:
            self._last = now
            log.info("%s", counters.line())
            if final:
                self.stream.write(counters.line() + "\n")
