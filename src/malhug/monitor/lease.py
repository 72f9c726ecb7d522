"""Leases on queued work: short, renewed by a heartbeat while the runner lives.

A runner leases what it claims for ``lease_s`` seconds (default 60) and a heartbeat thread renews every
lease it holds every ``lease_s / 4`` seconds, whatever the scanning threads are doing: a slow but live
runner never loses its work, and the work of a runner that died (``kill -9``, a lost machine) is claimed
again by any other runner on the same store within about ``lease_s``. Runners on this machine whose
process is gone are freed at once when a pass starts (``free_dead_leases``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

LEASE_S = 60.0
RENEWALS_PER_LEASE = 4  # the heartbeat renews every LEASE_S / 4 (15 s by default)


class Renewing(Protocol):
    def renew(self, owner: str, lease_s: float) -> None: ...


@dataclass(frozen=True)
class LeaseTerms:
    lease_s: float = LEASE_S

    @property
    def heartbeat_s(self) -> float:
        return self.lease_s / RENEWALS_PER_LEASE


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Heartbeat:
    """Renews ``owner``'s leases every ``terms.heartbeat_s`` in its own thread until ``stop()``.

    A renewal that fails (the store is briefly unreachable) is logged and counted, and tried again at
    the next beat: the lease is ``RENEWALS_PER_LEASE`` beats long, so one missed beat loses nothing.
    """

    def __init__(self, store: Renewing, owner: str, terms: LeaseTerms):
        self.store = store
        self.owner = owner
        self.terms = terms
        self.beats = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="malhug-monitor-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def beat(self) -> None:
        try:
            self.store.renew(self.owner, self.terms.lease_s)
            self.beats += 1
        except Exception:  # the store hiccuped: logged, counted, tried again at the next beat
            self.failures += 1
            log.exception("renewing the leases of %s failed (%d failures)", self.owner, self.failures)

    def _loop(self) -> None:
        while not self._stop.wait(self.terms.heartbeat_s):
            self.beat()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


class Leaseholders(Protocol):
    def leaseholders(self) -> list[str]: ...

    def free_leases(self, owner: str) -> int: ...


def free_dead_leases(store: Leaseholders) -> int:
    """Leases of runners on this machine whose process is gone (killed, crashed) are freed at once
    instead of at their expiry; runners elsewhere are left to their lease's expiry."""
    host, freed = socket.gethostname(), 0
    for owner in store.leaseholders():
        owner_host, _, rest = owner.partition(":")
        pid = rest.partition(":")[0]
        if owner_host == host and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            n = store.free_leases(owner)
            log.warning("freed %d items leased by %s, which is no longer running", n, owner)
            freed += n
    return freed
