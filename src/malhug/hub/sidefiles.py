"""Side files on the Hub: the files of the same revision that a scanned file names and its loader opens.

The analyzers ask for them by name (``ScanContext.side_files``, ``analyzers/shared/sidefiles.py``);
this reader finds the name in the revision's listing, relative to the naming file's folder, and opens
it from the local Hugging Face cache when it is there, else by range reads within the download cap.
A name that is not in the listing (or that the listing check refused, MH606) is missing. A report
that followed side files is not put in the verdict cache: its verdict depends on more than the
naming file's own content id.
"""

from __future__ import annotations

import logging
import posixpath
from typing import TYPE_CHECKING, Any

from malhug.analyzers.api import FileSource
from malhug.hub.localcache import LocalFile, find_blob
from malhug.hub.rangesource import HttpRangeSource

if TYPE_CHECKING:
    from malhug.hub.scanner import Job

log = logging.getLogger(__name__)


class RevisionSideFiles:
    """``open(name)`` for the files beside ``naming`` in the revision that ``job`` scans."""

    def __init__(self, job: Job, naming: str):
        self.job = job
        self.folder = posixpath.dirname(naming)
        self.opened: list[str] = []

    def _path(self, name: str) -> str:
        return posixpath.normpath(posixpath.join(self.folder, name)) if self.folder else name

    def scanned_alone(self, name: str) -> bool:
        """The revision's scan scans this file on its own too (it is in the plan, within its cap)."""
        return self._path(name) in self.job.scanned_alone

    def open(self, name: str) -> Any:
        path = self._path(name)
        item = self.job.listing.get(path)
        if item is None:
            return None
        self.opened.append(path)
        if isinstance(item, LocalFile):
            return FileSource(item.disk)
        blob = find_blob(self.job.cache_dir, self.job.repo_type, self.job.repo_id, item.content_id)
        if blob is not None:
            return FileSource(blob)
        http = self.job.http
        if http is None:
            return None
        url = http.file_url(self.job.repo_type, self.job.repo_id, self.job.commit, path)
        what = f"{self.job.repo_id}@{self.job.commit[:12]}/{path}"
        return HttpRangeSource(http, url, item.size, budget=self.job.max_download, what=what)
