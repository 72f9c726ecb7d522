"""The per-document pipeline: debounce, analyze off the event loop, publish for the right version.

didOpen/didSave analyze at once, didChange after ``debounceMs`` of quiet (a new change restarts
the timer). A document over ``maxDocumentBytes`` is neither kept nor analyzed: its text is dropped from
the workspace and it gets one MH902 diagnostic (fail closed) until it is closed or replaced whole by a
text that fits. The text is analyzed in the CPU pool; if the document changed meanwhile the result is
dropped. Diagnostics are published stamped with the version they were computed for, and never for
a version older than the document's current one.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from malhug.analyzers.api import CodeAnalysis, SourceLines, analyze_user_code
from malhug.core import failures
from malhug.core.rules import CATALOG
from malhug.server import diagnostics
from malhug.server.localfiles import LocalFiles
from malhug.server.scriptscope import LoadTimeScope
from malhug.server.shift import shift_findings
from malhug.server.state import DocState, MalhugServer
from malhug.server.workspace import workspace_roots

if TYPE_CHECKING:
    from malhug.server.hubscan import HubScheduler

log = logging.getLogger("malhug.server.documents")
PYTHON_SUFFIXES = (".py", ".pyw", ".pyi")
# The script analyzer (slow on big files) waits for this much quiet after the last edit.
SCRIPT_DELAY_MS = 400
CACHE_WAIT_S = 0.1


def is_python(uri: str, language_id: str | None = None) -> bool:
    return language_id == "python" or uri.lower().endswith(PYTHON_SUFFIXES)


def text_bytes(text: str, limit: int) -> int:
    """The UTF-8 size of ``text``, exact when it is near ``limit`` (a character is 1 to 4 bytes)."""
    if len(text) > limit or len(text) * 4 <= limit or text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def too_large_diagnostic(size: int, limit: int) -> types.Diagnostic:
    rule = CATALOG[failures.OVER_LIMIT]
    zero = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    return types.Diagnostic(
        range=zero,
        message=(
            f"document too large to analyze ({size} bytes, limit {limit}: malhug.maxDocumentBytes); "
            "it was not analyzed, treat it as untrusted"
        ),
        severity=diagnostics.LSP_SEVERITY[rule.severity],
        code=rule.id,
        code_description=types.CodeDescription(href=rule.docs_url),
        source=diagnostics.SOURCE,
        data={"kind": "limit"},
    )


def _local_dir(repo_id: str, bases: list[Path]) -> bool:
    try:
        return any((base / repo_id).is_dir() for base in bases)
    except OSError:
        return False


class Documents:
    def __init__(self, server: MalhugServer, hub: HubScheduler):
        self.server = server
        self.hub = hub
        self.scope = LoadTimeScope()
        self.oversize: dict[str, int] = {}  # uri -> size of the text that was over maxDocumentBytes
        self.local = LocalFiles(server, publish=self.publish)  # files the load calls read

    # --- the document-size limit
    def admit(self, uri: str, *, whole: bool = True) -> bool:
        """Check the stored text of ``uri`` against the limit after didOpen/didChange; False when over it.

        ``whole``: the text was replaced in full (didOpen, or a change without ranges). A document over the
        limit keeps an empty text (its ranges are lost), so only a whole replacement can bring it back.
        """
        doc = self.server.workspace.text_documents.get(uri)
        if doc is None:
            return uri not in self.oversize
        limit = self.server.settings.max_document_bytes
        if uri in self.oversize and not whole:
            self._drop_text(uri, doc.language_id, doc.version)
            self.publish_oversize(uri)
            return False
        size = text_bytes(doc.source, limit)
        if size <= limit:
            self.oversize.pop(uri, None)
            return True
        self.too_large(uri, doc.language_id, size)
        return False

    def too_large(self, uri: str, language_id: str | None, size: int) -> None:
        """Forget the text of ``uri`` (``size`` bytes, over the limit) and flag it; nothing analyzes it."""
        doc = self.server.workspace.text_documents.get(uri)
        version = doc.version if doc is not None else None
        self.oversize[uri] = size
        log.warning(
            "%s: %d bytes, over maxDocumentBytes (%d); not analyzed", uri, size, self.server.settings.max_document_bytes
        )
        self._drop_text(uri, language_id, version)
        state = self.server.docs.pop(uri, None)
        if state is not None:
            for handle in (state.timer, state.task, state.script_task, state.script_timer):
                if handle is not None:
                    handle.cancel()
        self.publish_oversize(uri)

    def dropped_frame(self, method: str, uri: str, language_id: str | None, size: int) -> None:
        """The transport dropped a didOpen/didChange over its frame limit: the document is over any limit."""
        if method not in (types.TEXT_DOCUMENT_DID_OPEN, types.TEXT_DOCUMENT_DID_CHANGE):
            return
        if method == types.TEXT_DOCUMENT_DID_CHANGE and uri not in self.server.workspace.text_documents:
            return
        self.too_large(uri, language_id, size)

    def _drop_text(self, uri: str, language_id: str | None, version: int | None) -> None:
        self.server.workspace.put_text_document(
            types.TextDocumentItem(uri=uri, language_id=language_id or "", version=version or 0, text="")
        )

    def publish_oversize(self, uri: str) -> None:
        size = self.oversize.get(uri)
        if size is None:
            return
        doc = self.server.workspace.text_documents.get(uri)
        if not is_python(uri, doc.language_id if doc is not None else None):
            return  # only Python documents are analyzed; the text is dropped all the same
        diag = too_large_diagnostic(size, self.server.settings.max_document_bytes)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[diag], version=doc.version if doc else None)
        )

    def state(self, uri: str) -> DocState:
        return self.server.docs.setdefault(uri, DocState(uri=uri))

    def schedule(self, uri: str, delay_ms: int | None = None, *, retry_errors: bool = False) -> None:
        if uri in self.oversize:
            self.publish_oversize(uri)
            return
        state = self.state(uri)
        if retry_errors:
            self.hub.forget_errors(state.keys, older_than=0)
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        delay = self.server.settings.debounce_ms if delay_ms is None else delay_ms
        loop = self.server.loop
        if loop is None:
            return
        if delay <= 0:
            self._start(uri)
        else:
            state.timer = loop.call_later(delay / 1000, self._start, uri)

    def _start(self, uri: str) -> None:
        state = self.state(uri)
        state.timer = None
        state.task = self.server.spawn(self.analyze(uri), f"analysis of {uri}")

    def _current(self, uri: str, version: int | None) -> bool:
        doc = self.server.workspace.text_documents.get(uri)
        return doc is not None and doc.version == version

    @staticmethod
    def _analyze(text: str, state: DocState, bases: list[Path]) -> CodeAnalysis:
        """Runs in the CPU pool: the analysis, minus ids that name a local folder (loaders try those first)."""
        analysis = analyze_user_code(text, cache=state.blocks).analysis
        if analysis.refs:
            analysis.refs = [r for r in analysis.refs if r.kind == "hf-path" or not _local_dir(r.repo_id, bases)]
        return analysis

    async def analyze(self, uri: str) -> None:
        """Phase 1 (every edit, fast): references, risky loads, cached hub verdicts -> publish."""
        server = self.server
        doc = server.workspace.text_documents.get(uri)
        if doc is None or not is_python(uri, doc.language_id) or uri in self.oversize:
            return
        version, text = doc.version, doc.source
        state = self.state(uri)
        src = SourceLines(text)
        doc_path = to_fs_path(uri)
        bases = ([Path(doc_path).parent] if doc_path else []) + workspace_roots(server)
        analysis = await server.run_cpu(self._analyze, text, state, bases)
        if not self._current(uri, version):
            log.debug("dropping stale analysis of %s v%s", uri, version)
            return
        state.version, state.src, state.analysis = version, src, analysis
        if state.script_lines is not None and state.script_lines != src.lines:
            state.script_findings = shift_findings(state.script_lines, src.lines, state.script_findings)
            state.script_lines = src.lines
        state.keys = {diagnostics.ref_key(r) for r in analysis.refs}
        # Cached verdicts usually take a millisecond: wait that long so they come with this publish, not
        # longer (a lookup that scans a local snapshot publishes again when it is done).
        lookup = asyncio.ensure_future(self.hub.load_cached(state))
        await asyncio.wait({lookup}, timeout=CACHE_WAIT_S)
        if not self._current(uri, version):
            return
        self.publish(uri)
        self.kick_scripts(uri)
        if lookup.done():
            self._after_lookup(uri, state, lookup, republish=False)
        else:
            lookup.add_done_callback(lambda done: self._after_lookup(uri, state, done, republish=True))

    def _after_lookup(self, uri: str, state: DocState, lookup: asyncio.Future[None], *, republish: bool) -> None:
        """Scan what the cache did not know (and publish again if the lookup was slow)."""
        if lookup.cancelled() or lookup.exception() is not None:
            log.warning(
                "verdict-cache lookup failed for %s: %r", uri, None if lookup.cancelled() else lookup.exception()
            )
        if self.server.docs.get(uri) is not state:
            return
        if republish:
            self.publish(uri)
        self.hub.request(state)

    def kick_scripts(self, uri: str) -> None:
        """Phase 2 (background, once typing pauses, latest text only): the script analyzer, then publish.

        Only for code that loading runs (``scriptscope.LoadTimeScope``) unless ``analyzeAllScripts`` is set.
        """
        state = self.state(uri)
        doc = self.server.workspace.text_documents.get(uri)
        if doc is not None and not (
            self.server.settings.analyze_all_scripts or self.scope.runs_on_load(to_fs_path(uri), doc.source)
        ):
            if state.script_findings:
                state.script_findings, state.script_lines = [], None
                self.publish(uri)
            return
        if state.script_timer is not None:
            state.script_timer.cancel()
        loop = self.server.loop
        delay = SCRIPT_DELAY_MS / 1000 if state.script_lines is not None else 0
        if loop is not None:
            state.script_timer = loop.call_later(delay, self._start_scripts, uri)

    def _start_scripts(self, uri: str) -> None:
        state = self.state(uri)
        state.script_timer = None
        if state.script_task is None or state.script_task.done():
            state.script_task = self.server.spawn(self._scripts(uri), f"script analysis of {uri}")

    async def _scripts(self, uri: str) -> None:
        server = self.server
        while True:
            doc = server.workspace.text_documents.get(uri)
            state = server.docs.get(uri)
            if doc is None or state is None:
                return
            version, text = doc.version, doc.source
            if state.script_lines is not None and state.script_version == version:
                return
            findings = await server.run_scripts(text, to_fs_path(uri) or uri)
            if self._current(uri, version) and server.docs.get(uri) is state:
                state.script_findings = findings
                state.script_lines = SourceLines(text).lines
                state.script_version = version
                if state.version == version:
                    self.publish(uri)
                return
            # the text changed while we worked: analyze the newest text

    def issues(self, state: DocState) -> list[diagnostics.Issue]:
        if state.analysis is None or state.src is None:
            return []
        return diagnostics.document_issues(
            state.analysis,
            state.script_findings,
            state.src,
            self.server.hub.scans,
            self.server.hub.safe,
            self.server.settings,
            self.local.for_document(state),
        )

    def publish(self, uri: str) -> None:
        server = self.server
        state = server.docs.get(uri)
        doc = server.workspace.text_documents.get(uri)
        if state is None or doc is None or state.src is None or doc.version != state.version:
            return  # a newer analysis is on its way
        lines = state.src.lines
        codec = doc.position_codec
        diags = [diagnostics.to_diagnostic(i, uri, lines, codec) for i in self.issues(state)]
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=state.version)
        )

    def republish_for(self, key: tuple[str, str, str] | None = None) -> None:
        for uri, state in list(self.server.docs.items()):
            if key is None or key in state.keys:
                self.publish(uri)

    def close(self, uri: str) -> None:
        self.oversize.pop(uri, None)
        state = self.server.docs.pop(uri, None)
        if state is not None and state.timer is not None:
            state.timer.cancel()
        for task in (state.task, state.script_task) if state is not None else ():
            if task is not None:
                task.cancel()
        if state is not None and state.script_timer is not None:
            state.script_timer.cancel()
        self.hub.release_unused()
        self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def reanalyze_all(self) -> None:
        """After a settings change (``maxDocumentBytes`` may be lower now): check each text, analyze again."""
        for uri in list(self.server.workspace.text_documents):
            if uri in self.oversize:
                self.publish_oversize(uri)  # its text is gone: reopening it brings it back under a new limit
            elif self.admit(uri):
                self.schedule(uri, 0)
