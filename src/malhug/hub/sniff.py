"""Files the plan does not select by name: their first bytes decide whether they are scanned.

A local folder scan detects every file's format from its bytes; a Hub scan reads only what it plans,
so a pickle named ``backup.data`` (a real case) would be skipped on the Hub and the repository called
clean. Every listed file that the plan does not select by name and that is not a data file whose
reader runs no code (``core/filetypes.py``: ``DATA_SUFFIXES``, ``DATA_NAMES``) is sniffed: one range
read of its first ``SNIFF_BYTES`` (from disk when the local Hugging Face cache has it), through the same HTTP
session, budget and counters as every file read. When those bytes are a format that can run code
(``analyzers.api.sniff_head``: a pickle, a zip, NumPy, HDF5, …) the file joins the plan and is scanned
as any other weights file, starting from the bytes already read.

Bounded: at most ``MAX_SNIFFS`` files per revision are examined (sniffed, or answered by the
verdict cache); the rest are returned as unexamined
and the scan reports them (MH607: never clean). A sniff's outcome is kept in the verdict cache by
content id, so forks and re-uploads cost nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from malhug.analyzers.api import sniff_head
from malhug.core import filetypes
from malhug.core.model import FileReport
from malhug.hub import select
from malhug.hub.http import HubError
from malhug.hub.localcache import LocalFile, find_blob

if TYPE_CHECKING:
    from malhug.hub.scanner import Job

log = logging.getLogger(__name__)

SNIFF_BYTES = 8192  # the detector's window: signatures, a pickle's first opcodes, a tar header
MAX_SNIFFS = 256  # per revision; what the cap leaves is reported (MH607), never called clean
# The verdict-cache context of a sniff's outcome (the report's format: what the bytes show, or DATA).
CACHE_CONTEXT = "sniff"
DATA = "data"


@dataclass
class Sniffed:
    """What sniffing a revision's unselected files found."""

    planned: list[select.Planned] = field(default_factory=list)  # first bytes show a format to scan
    reports: dict[str, FileReport] = field(default_factory=dict)  # first bytes could not be read
    unexamined: list[str] = field(default_factory=list)  # over the cap: never sniffed
    examined: int = 0  # files sniffed or answered by the verdict cache (what the cap counts)
    sniffed: int = 0  # files whose first bytes were read (not from the verdict cache)


def candidates(paths: Iterable[str], selected: set[str]) -> list[str]:
    """The files to sniff: not selected by name, not data (sorted, so the cap cuts the same ones)."""
    return sorted(p for p in paths if p not in selected and not filetypes.is_data(p))


def _read_head(job: Job, item: Any, length: int) -> bytes:
    """The first ``length`` bytes: from disk for a cached snapshot's file or a blob the local Hugging
    Face cache holds, else one ranged GET."""
    disk = (
        item.disk
        if isinstance(item, LocalFile)
        else find_blob(job.cache_dir, job.repo_type, job.repo_id, item.content_id)
    )
    if disk is not None:
        with disk.open("rb") as fh:
            return fh.read(length)
    assert job.http is not None
    url = job.http.file_url(job.repo_type, job.repo_id, job.commit, item.path)
    what = f"first bytes of {job.repo_id}@{job.commit[:12]}/{item.path}"
    data, _ = job.http.get_bytes(url, what=what, start=0, end=length - 1)
    return data


def _cached(job: Job, item: Any) -> str | None:
    """The outcome of an earlier sniff of the same content (a format, ``DATA``), or None."""
    content_id = getattr(item, "content_id", None)
    if not content_id or job.verdicts is None:
        return None
    hit = job.verdicts.get_file(content_id, item.path, CACHE_CONTEXT)
    return hit.format if hit is not None else None


def _remember(job: Job, item: Any, outcome: str) -> None:
    content_id = getattr(item, "content_id", None)
    if content_id and job.verdicts is not None:
        job.verdicts.put_file(content_id, FileReport(path=item.path, format=outcome), CACHE_CONTEXT)


def sniff_unselected(job: Job, by_path: dict[str, Any], selected: set[str], *, limit: int = MAX_SNIFFS) -> Sniffed:
    """Sniff the unselected files of ``by_path`` (listed files by path), at most ``limit`` of them.

    Never raises for one file's trouble (its report carries the error); repository-level failures
    (gated, rate-limited, cancelled) propagate as the scan's error."""
    from malhug.hub.scanner import REPO_LEVEL_ERRORS

    out = Sniffed()
    for path in candidates(by_path, selected):
        item = by_path[path]
        if item.size == 0:
            continue  # no bytes: nothing a loader could run
        if out.examined >= limit:
            out.unexamined.append(path)  # past the cap not even the cache is asked: bounded work
            continue
        if job.cancel is not None and job.cancel.is_set():
            raise HubError("cancelled", "the scan was cancelled")
        out.examined += 1
        outcome = _cached(job, item)
        if outcome is None:
            want = min(item.size, SNIFF_BYTES)
            out.sniffed += 1
            try:
                head = _read_head(job, item, want)
            except HubError as exc:
                if exc.kind in REPO_LEVEL_ERRORS:
                    raise
                out.reports[path] = _unread(path, item.size, exc.message)
                continue
            except OSError as exc:
                out.reports[path] = _unread(path, item.size, exc.strerror or str(exc))
                continue
            if len(head) != want:
                out.reports[path] = _unread(path, item.size, f"got {len(head)} of its first {want} bytes")
                continue
            outcome = sniff_head(head, item.size, path, job.limits) or DATA
            _remember(job, item, outcome)
            if outcome != DATA:
                job.sniffed[path] = head  # the scan starts from these bytes
        if outcome != DATA:
            log.info("%s: its first bytes are %s; scanned", path, outcome)
            out.planned.append(select.Planned(path, "sniffed", None))
    return out


def _unread(path: str, size: int, why: str) -> FileReport:
    return FileReport(
        path=path,
        format="unknown",
        error=f"could not read the first bytes of {path} to tell whether it can run code: {why}",
        size=size,
    )
