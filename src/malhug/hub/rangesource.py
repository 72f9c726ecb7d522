"""A ``ByteSource`` over a file on the Hub, read with HTTP ``Range`` requests.

Analyzers ask for the bytes they need (a zip's end record, its central directory, the pickle
members); only those, plus a small read-ahead, cross the network. A download budget bounds what one
file may cost: past it, the read raises ``LimitExceeded`` (the scan says so) instead of fetching more.
"""

from __future__ import annotations

from malhug.analyzers.api import LimitExceeded, SourceBase, covered
from malhug.hub.http import HubError, HubHttp


class RemoteReadError(OSError):
    """A ranged read failed (network, time-out, the file vanished)."""


class HttpRangeSource(SourceBase):
    """Reads ``size`` bytes at ``url``; ``budget`` caps the bytes transferred for this file."""

    def __init__(self, http: HubHttp, url: str, size: int, *, budget: int, block: int = 64 * 1024, what: str = "file"):
        super().__init__(size)
        self.http = http
        self.url = url
        self.budget = budget
        self.block = block
        self.what = what
        self._segments: list[tuple[int, bytes]] = []  # a few recent reads, newest last
        self.budget_hit = False
        self.error: str | None = None
        self.error_kind: str | None = None
        self.recorded: list[tuple[int, bytes]] | None = None  # set to [] to keep every read (offset, bytes)

    def prefix(self) -> HttpRangeSource:
        """The first bytes of the file that the rest of the budget pays for, as a source of that size.

        Formats that must be read whole (a plain pickle, a legacy checkpoint) are still analyzed up to
        the cap this way: a payload near the start is found, the rest is reported as not scanned.
        """
        room = max(0, self.budget - self._read)
        view = HttpRangeSource(
            self.http, self.url, min(self._size, room), budget=room, block=self.block, what=self.what
        )
        view._segments = list(self._segments)
        return view

    def seed(self, head: bytes) -> None:
        """The file's first bytes, read before this source existed (a sniff): served from memory,
        counted as read (and recorded for the monitor's kept bytes)."""
        self._read += len(head)
        self._segments.append((0, head))
        if self.recorded is not None:
            self.recorded.append((0, head))

    def _read_range(self, offset: int, length: int) -> bytes:
        """From the recent reads if they hold it (free), else fetched with a read-ahead (counted)."""
        hit = covered(reversed(self._segments), offset, length)
        if hit is not None:
            return hit
        remaining = self.budget - self._read
        if length > remaining:
            self.budget_hit = True
            raise LimitExceeded("download budget for one file (bytes)", self.budget, self._read + length)
        fetch = min(max(length, self.block), self._size - offset, remaining)
        try:
            data, self.url = self.http.get_bytes(self.url, what=self.what, start=offset, end=offset + fetch - 1)
        except HubError as exc:
            self.error, self.error_kind = exc.message, exc.kind
            raise RemoteReadError(exc.message) from exc
        self._read += len(data)
        if len(data) < length:
            self.error = f"short read of {self.what}: asked {length} bytes at {offset}, got {len(data)}"
            raise RemoteReadError(self.error)
        self._segments.append((offset, data))
        if self.recorded is not None:
            self.recorded.append((offset, data))
        while len(self._segments) > 8 or sum(len(d) for _, d in self._segments) > 16 * 2**20:
            self._segments.pop(0)
        return data[:length]
