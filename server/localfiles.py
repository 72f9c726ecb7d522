"""The local model files that load calls read, with their scan reports (issue #16: the load carries the verdict).

``torch.load("models/checkpoint.pt")``: the path is resolved against the document's folder, then each
workspace root; only a regular file inside one of those is considered. Its report comes from the
workspace model-file scan (``server.model_files``); a file not scanned yet is scanned (at most
``MAX_PENDING`` at once) and the documents that load it are published again when it is done, or
when the workspace scan sees it change.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from pygls.uris import from_fs_path, to_fs_path

from malhug.analyzers.api import BlockCache, CallSite, Span, file_loads
from malhug.server.diagnostics import LocalFile
from malhug.server.state import DocState, MalhugServer
from malhug.server.workspace import workspace_roots

log = logging.getLogger("malhug.server.localfiles")
MAX_LOADS = 32  # load calls per document whose file is looked up
MAX_PENDING = 8  # scans asked for and not finished yet
MAX_DOCS = 64  # documents whose file loads are kept between publishes (closed ones are dropped past it)


def _inside(path: Path, bases: list[Path]) -> bool:
    return any(path == base or path.is_relative_to(base) for base in bases)


def resolve(written: str, bases: list[Path]) -> Path | None:
    """The regular file ``written`` names, relative to the first base that has it; None if none does."""
    raw = Path(os.path.expanduser(written)) if written.startswith("~") else Path(written)
    candidates = [raw] if raw.is_absolute() else [base / raw for base in bases]
    for candidate in candidates:
        path = Path(os.path.normpath(candidate))
        try:
            if _inside(path, bases) and path.is_file():
                return path
        except OSError as exc:
            log.debug("cannot look at %s: %s", path, exc)
    return None


class LocalFiles:
    def __init__(self, server: MalhugServer, publish: Callable[[str], None]):
        self.server = server
        self.publish = publish  # publishes one document's diagnostics again
        self.scan: Callable[[Path], Awaitable[object]] | None = None  # ModelFiles.scan, set when wired
        self.pending: set[str] = set()
        self.readers: dict[str, set[str]] = {}  # file URI -> the open documents whose load calls read it
        self._loads: dict[str, tuple[int | None, list[tuple[CallSite, str]]]] = {}  # uri -> (version, loads)

    def file_changed(self, uri: str) -> None:
        """A model file was scanned again or removed: the documents that load it are published again."""
        for doc_uri in sorted(self.readers.get(uri, ())):
            if doc_uri in self.server.docs:
                self.publish(doc_uri)
            else:
                self.readers[uri].discard(doc_uri)

    def for_document(self, state: DocState) -> dict[Span, LocalFile]:
        """The local file (with its report) each load call of the document reads, by the call's span."""
        if state.analysis is None or state.src is None:
            return {}
        doc_path = to_fs_path(state.uri)
        bases = ([Path(doc_path).parent] if doc_path else []) + workspace_roots(self.server)
        out: dict[Span, LocalFile] = {}
        for call, written in self._file_loads(state):
            path = resolve(written, bases)
            if path is None:
                continue
            uri = from_fs_path(str(path)) or path.as_uri()
            self.readers.setdefault(uri, set()).add(state.uri)
            report = self.server.model_files.get(uri)
            if report is None:
                self._request(path, uri)
            else:
                out[call.span] = LocalFile(written, uri, report, call.written, call.func_span)
        return out

    def _file_loads(self, state: DocState) -> list[tuple[CallSite, str]]:
        """The document's file loads, computed once per version (a cache of our own: the document's block
        cache belongs to the analysis, which may be running in a worker thread)."""
        cached = self._loads.get(state.uri)
        if cached is not None and cached[0] == state.version:
            return cached[1]
        assert state.src is not None
        found = file_loads(state.src, BlockCache(), MAX_LOADS)
        if len(self._loads) > 2 * MAX_DOCS:
            self._loads = {uri: value for uri, value in self._loads.items() if uri in self.server.docs}
        self._loads[state.uri] = (state.version, found)
        return found

    def _request(self, path: Path, uri: str) -> None:
        if self.scan is None or uri in self.pending or len(self.pending) >= MAX_PENDING:
            return
        self.pending.add(uri)
        self.server.spawn(self._scan(path, uri), f"scan of {path.name}, loaded by the code")

    async def _scan(self, path: Path, uri: str) -> None:
        assert self.scan is not None
        try:
            await self.scan(path)
        finally:
            self.pending.discard(uri)
        self.file_changed(uri)
