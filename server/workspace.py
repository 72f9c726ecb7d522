"""Model files in the workspace: scanned on start-up (background, bounded) and when they change.

Candidates are files with a model extension or whose first bytes are a model format (pickle,
zip, NumPy, HDF5, GGUF, ...). Their findings are diagnostics on their own URIs (line 0), pushed,
or pulled through ``workspace/diagnostic`` when the client supports pull diagnostics.

A sharded checkpoint's index (``*.index.json``) is scanned too, like a folder scan of the CLI: a shard it
names that the workspace scan also scans on its own is only checked to be there (MH210/MH211), its findings
are diagnostics on the shard alone; a shard the scan does not cover is followed and reported at the index.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path, to_fs_path

from malhug.core import failures, filetypes
from malhug.core.model import FileReport, Verdict
from malhug.server import diagnostics
from malhug.server.progress import Progress
from malhug.server.state import MalhugServer

log = logging.getLogger("malhug.server.workspace")
_MAGIC = (b"PK\x03\x04", b"\x93NUMPY", b"\x89HDF\r\n\x1a\n", b"GGUF", b"7z\xbc\xaf\x27\x1c")
_TEXT_SUFFIXES = (".py", ".md", ".txt", ".json", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".csv", ".rst", ".lock")
SKIP_DIRS = {
    ".git",
    "__pycache__",
    ".venv",
    "venv",
    "node_modules",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".tox",
}
# Scanned by name (and watched): the editor's list in malhug.core.filetypes, shared with the VS Code client.
MODEL_SUFFIXES = filetypes.WATCHED_SUFFIXES
WATCH_GLOB = filetypes.watch_glob(MODEL_SUFFIXES)
# Checkpoint indexes are watched too (a second watcher: the client's own list holds model files only).
INDEX_WATCH_GLOB = filetypes.watch_glob(filetypes.INDEX_SUFFIXES)


def is_checkpoint_index(path: Path) -> bool:
    """A sharded checkpoint's index: ``from_pretrained`` loads every shard its ``weight_map`` names."""
    return filetypes.has_suffix(path.name, filetypes.INDEX_SUFFIXES)


def looks_like_model(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith(MODEL_SUFFIXES) or is_checkpoint_index(path):
        return True
    if name.endswith(_TEXT_SUFFIXES):
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return True
    return head.startswith(_MAGIC)


def find_model_files(roots: list[Path], limit: int) -> tuple[list[Path], bool]:
    """Model files below ``roots`` (at most ``limit`` files looked at); True when the bound was hit."""
    found: list[Path] = []
    seen = 0

    def unlisted(exc: OSError) -> None:  # never a silent skip: the files below it were not checked
        log.warning("cannot list %s (%s): model files below it were not checked", exc.filename, exc.strerror or exc)

    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, onerror=unlisted):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            for name in sorted(filenames):
                seen += 1
                if seen > limit:
                    return found, True
                path = Path(dirpath) / name
                if path.is_file() and not path.is_symlink() and looks_like_model(path):
                    found.append(path)
    return found, False


def scan_one(path: Path, alone: frozenset[Path] = frozenset()) -> FileReport:
    """``alone``: the resolved paths the workspace scan scans on their own (a shard among them is
    reported on its own file, not again at the index that names it)."""
    from malhug.analyzers.api import scan_file

    # No whole-file hash: a multi-GB checkpoint is read only where its format needs it.
    try:
        return scan_file(path, display=path.name, hash_file=False, scanned_alone=alone)
    except Exception as exc:  # a scan that dies is a finding on the file (never no diagnostic), and logged
        from malhug.server.scriptworker import failure

        log.error("scan of %s failed: %s: %s", path.name, type(exc).__name__, exc, exc_info=True)
        rule = failures.OVER_LIMIT if isinstance(exc, MemoryError | RecursionError) else failures.FAILED
        found = failure(rule, f"the scan failed: {type(exc).__name__}: {exc}", repr(exc)[:500])
        return FileReport(path=path.name, format="unknown", findings=[found])


def workspace_roots(server: MalhugServer) -> list[Path]:
    """Every workspace folder (multi-root), or the root URI of a client without folders; a folder inside
    another one is walked once, as part of the outer one."""
    ws = server.workspace
    uris = [f.uri for f in ws.folders.values()] or ([ws.root_uri] if ws.root_uri else [])
    return outermost([Path(p) for p in (to_fs_path(u) for u in uris) if p and Path(p).is_dir()])


def outermost(paths: list[Path]) -> list[Path]:
    """``paths`` without duplicates and without those inside another one, in their order."""
    resolved = [(p, p.resolve()) for p in paths]
    kept: list[Path] = []
    for path, real in resolved:
        inside = any(real != other and real.is_relative_to(other) for _, other in resolved)
        if not inside and real not in [k.resolve() for k in kept]:
            kept.append(path)
    return kept


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@dataclass
class ScanSummary:
    """What a workspace scan found: files scanned per verdict, and whether the file bound cut it short."""

    verdicts: Counter[str] = field(default_factory=Counter)
    truncated_at: int | None = None  # malhug.workspaceMaxFiles when the walk stopped there
    roots: int = 0

    @property
    def files(self) -> int:
        return sum(self.verdicts.values())

    def counts(self) -> str:
        v = self.verdicts
        errors = _plural(v[Verdict.ERROR.value], "error")
        return f"{v[Verdict.MALICIOUS.value]} malicious, {v[Verdict.SUSPICIOUS.value]} suspicious, {errors}"

    def text(self) -> str:
        """``12 files scanned: 1 malicious, 0 suspicious, 0 errors`` (and what was not looked at)."""
        if not self.roots:
            return "no workspace folder is open: nothing was scanned"
        text = f"{_plural(self.files, 'model file')} scanned: {self.counts()}"
        if self.truncated_at is not None:
            text += f"; stopped after the first {self.truncated_at} files (malhug.workspaceMaxFiles), the rest was not checked"
        return text

    def to_dict(self) -> dict[str, object]:
        v = self.verdicts
        return {
            "modelFiles": self.files,
            "malicious": v[Verdict.MALICIOUS.value],
            "suspicious": v[Verdict.SUSPICIOUS.value],
            "errors": v[Verdict.ERROR.value],
            "clean": v[Verdict.CLEAN.value],
            "truncated": self.truncated_at is not None,
            "summary": self.text(),
        }


class ModelFiles:
    def __init__(self, server: MalhugServer):
        self.server = server
        self.generation: dict[str, int] = {}  # per URI, bumped on each scan: the pull resultId
        self.deleted: set[str] = set()  # removed files a pull client still has to clear
        self.on_change: Callable[[str], None] | None = None  # told each URI scanned again or removed

    async def scan_all(self, roots: list[Path] | None = None) -> ScanSummary:
        """Scans the model files below ``roots`` (default: every workspace folder), with ``$/progress``
        (begin, a report per file with the counts so far, end with the summary)."""
        server = self.server
        roots = workspace_roots(server) if roots is None else outermost(roots)
        summary = ScanSummary(roots=len(roots))
        if not roots:
            return summary
        limit = server.settings.workspace_max_files
        files, truncated = await server.run_files(find_model_files, roots, limit)
        if truncated:
            summary.truncated_at = limit
            log.warning("workspace scan stopped after %d files (malhug.workspaceMaxFiles)", limit)
            server.show(  # the files past the bound were never checked: say so, never imply they are clean
                f"MalHug looked at the first {limit} files of the workspace only (malhug.workspaceMaxFiles); "
                "model files past them were not checked."
            )
        files = list(dict.fromkeys(files))
        if not files:
            return summary
        alone = self.scanned_alone() | frozenset(Path(os.path.realpath(p)) for p in files)
        progress = Progress(server, "MalHug: scanning model files")
        await progress.begin(f"0/{len(files)} files")
        try:
            for index, path in enumerate(files):
                report = await self.scan(path, alone)
                summary.verdicts[report.verdict.value] += 1
                progress.report(
                    f"{index + 1}/{len(files)} files: {summary.counts()} ({path.name})",
                    int(100 * (index + 1) / len(files)),
                )
        finally:
            progress.end(summary.text())
        log.info("workspace scan: %s", summary.text())
        return summary

    def scanned_alone(self) -> frozenset[Path]:
        """The files whose own reports are diagnostics already (every model file scanned so far)."""
        paths = (to_fs_path(uri) for uri in self.server.model_files)
        return frozenset(Path(os.path.realpath(p)) for p in paths if p)

    async def scan(self, path: Path, alone: frozenset[Path] | None = None) -> FileReport:
        """Scans one model file; ``alone`` as for ``scan_one`` (default: the model files scanned so far)."""
        server = self.server
        uri = from_fs_path(str(path)) or path.as_uri()
        alone = self.scanned_alone() if alone is None else alone
        report = await server.run_files(scan_one, path, alone)
        server.model_files[uri] = report
        self.generation[uri] = self.generation.get(uri, 0) + 1
        self.deleted.discard(uri)
        log.info("%s: %s", path.name, report.verdict.value)
        self.publish(uri)
        if self.on_change is not None:
            self.on_change(uri)
        return report

    def publish(self, uri: str) -> None:
        server = self.server
        if server.supports_pull_diagnostics():
            caps = server.client_capabilities.workspace
            if caps and caps.diagnostics and caps.diagnostics.refresh_support:
                server.workspace_diagnostic_refresh(None)
            return
        report = server.model_files.get(uri)
        diags = diagnostics.file_diagnostics(report, server.settings) if report is not None else []
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diags))

    def forget(self, uri: str) -> None:
        if self.server.model_files.pop(uri, None) is not None:
            self.generation.pop(uri, None)
            self.deleted.add(uri)
            self.publish(uri)
            if self.on_change is not None:
                self.on_change(uri)

    async def changed(self, params: types.DidChangeWatchedFilesParams) -> None:
        touched: list[Path] = []
        done: set[str] = set()
        for change in params.changes:
            path_str = to_fs_path(change.uri)
            if not path_str:
                continue
            path = Path(path_str)
            touched.append(path)
            if change.type == types.FileChangeType.Deleted or not path.is_file():
                self.forget(change.uri)
            elif looks_like_model(path):
                await self.scan(path)
                done.add(change.uri)
        await self._recheck_indexes(touched, done)

    async def _recheck_indexes(self, touched: list[Path], done: set[str]) -> None:
        """Scans again the checkpoint indexes above files that appeared, changed or went away: a shard
        removed is MH211 at its index now, one that appeared is reported on its own file only."""
        for uri in sorted(self.server.model_files):
            path_str = to_fs_path(uri)
            if uri in done or not path_str or not is_checkpoint_index(Path(path_str)):
                continue
            index = Path(path_str)
            if index.is_file() and any(p != index and p.is_relative_to(index.parent) for p in touched):
                await self.scan(index)

    def report(self, uri: str) -> types.FullDocumentDiagnosticReport:
        report = self.server.model_files.get(uri)
        items = diagnostics.file_diagnostics(report, self.server.settings) if report is not None else []
        return types.FullDocumentDiagnosticReport(items=items)

    def result_id(self, uri: str) -> str:
        return f"{self.generation.get(uri, 0)}:{hash(self.server.settings) & 0xFFFFFFFF:x}"

    def workspace_report(
        self, previous: Sequence[types.PreviousResultId] | None = None
    ) -> types.WorkspaceDiagnosticReport:
        """Every model file's diagnostics; ``unchanged`` for those the client already has."""
        known = {p.uri: p.value for p in previous or []}
        items: list[types.WorkspaceFullDocumentDiagnosticReport | types.WorkspaceUnchangedDocumentDiagnosticReport] = []
        for uri, report in sorted(self.server.model_files.items()):
            rid = self.result_id(uri)
            if known.get(uri) == rid:
                items.append(types.WorkspaceUnchangedDocumentDiagnosticReport(uri=uri, result_id=rid, version=None))
            else:
                diags = diagnostics.file_diagnostics(report, self.server.settings)
                items.append(
                    types.WorkspaceFullDocumentDiagnosticReport(uri=uri, items=diags, result_id=rid, version=None)
                )
        for uri in sorted(self.deleted):
            items.append(types.WorkspaceFullDocumentDiagnosticReport(uri=uri, items=[], version=None))
        self.deleted.clear()
        return types.WorkspaceDiagnosticReport(items=items)

    async def register_watcher(self) -> None:
        caps = self.server.client_capabilities
        watched = caps.workspace.did_change_watched_files if caps and caps.workspace else None
        if not (watched and watched.dynamic_registration):
            log.info("client cannot watch files for us; model files are rescanned by the scanWorkspace command")
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in (WATCH_GLOB, INDEX_WATCH_GLOB)]
        )
        registration = types.Registration(
            id="malhug-model-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options
        )
        try:
            await self.server.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
        except JsonRpcException as exc:
            log.info("the client refused the model-file watcher (%s); use the scanWorkspace command", exc)
