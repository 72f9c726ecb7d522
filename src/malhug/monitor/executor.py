"""The executor seam: where analysis tasks run. Every kind is a ``concurrent.futures.Executor``.

- ``local`` (default): a process pool of ``--workers`` processes on this machine;
- ``dask-local``: a ``distributed.LocalCluster`` of ``--workers`` worker processes (to try Dask);
- ``dask://HOST:PORT``: the scheduler of an existing Dask cluster (``malhug[distributed]``).

Tasks are plain functions of picklable values (``tasks.ScanSpec`` in, a dict out), so the same code
ships to any of them. Dask's ``Client.get_executor()`` is its ``concurrent.futures`` face.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

log = logging.getLogger(__name__)


class ExecutorError(ValueError):
    """An executor that cannot be used (unknown kind, Dask not installed)."""


def check_kind(kind: str) -> str:
    if kind in ("local", "dask-local") or kind.startswith("dask://"):
        return kind
    raise ExecutorError(f"unknown executor {kind!r}: use local, dask-local or dask://HOST:PORT")


@contextmanager
def open_executor(kind: str, workers: int) -> Iterator[Executor]:
    """An executor of ``kind`` with ``workers`` workers, shut down when the block ends."""
    check_kind(kind)
    if kind == "local":
        # spawn: the parent runs threads (listing, webhook), which fork would copy mid-lock.
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ExecutorError(f"--executor {kind} needs Dask: pip install 'malhug[distributed]' ({exc})") from exc
    if kind == "dask-local":
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client.get_executor()
        return
    address = "tcp://" + kind.removeprefix("dask://")
    with Client(address) as client:
        log.info("Dask scheduler %s: %d workers", address, len(client.scheduler_info().get("workers", {})))
        yield client.get_executor()
