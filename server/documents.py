"""The per-document pipeline: debounce, analyze off the event loop, publish for the right version.

didOpen/didSave analyze at once, didChange after ``debounceMs`` of quiet (a new change restarts
the timer). The text is analyzed in the CPU pool; if the document changed meanwhile the result is
dropped. Diagnostics are published stamped with the version they were computed for, and never for
a version older than the document's current one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from malhug.core.model import Finding
from malhug.server import diagnostics
from malhug.server.references import CodeAnalysis, analyze_code
from malhug.server.spans import SourceLines
from malhug.server.state import DocState, MalhugServer

if TYPE_CHECKING:
    from malhug.server.hubscan import HubScheduler

log = logging.getLogger("malhug.server.documents")
PYTHON_SUFFIXES = (".py", ".pyw", ".pyi")


def is_python(uri: str, language_id: str | None = None) -> bool:
    return language_id == "python" or uri.lower().endswith(PYTHON_SUFFIXES)


def analyze_text(text: str, path: str) -> tuple[SourceLines, CodeAnalysis, list[Finding]]:
    """Everything computed from a document's text alone; runs in a worker thread."""
    src = SourceLines(text)
    analysis = analyze_code(text)
    return src, analysis, script_findings(text, path)


def script_findings(text: str, path: str) -> list[Finding]:
    """The script analyzer's findings (loading scripts, remote code), or none when it fails."""
    try:
        from malhug.analyzers.scripts.analyzer import analyze_text as analyze_script
    except ImportError as exc:
        log.debug("script analyzer not available: %s", exc)
        return []
    try:
        return list(analyze_script(text, path))
    except (RecursionError, MemoryError, ValueError, SyntaxError) as exc:
        log.warning("script analyzer failed on %s: %s: %s", path, type(exc).__name__, exc)
        return []
    except Exception as exc:  # a crashing analyzer must not take the server down
        log.error("script analyzer crashed on %s: %s: %s", path, type(exc).__name__, exc, exc_info=True)
        return []


class Documents:
    def __init__(self, server: MalhugServer, hub: HubScheduler):
        self.server = server
        self.hub = hub

    def state(self, uri: str) -> DocState:
        return self.server.docs.setdefault(uri, DocState(uri=uri))

    def schedule(self, uri: str, delay_ms: int | None = None) -> None:
        state = self.state(uri)
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

    async def analyze(self, uri: str) -> None:
        server = self.server
        doc = server.workspace.get_text_document(uri)
        if not is_python(uri, doc.language_id):
            return
        version, text = doc.version, doc.source
        src, analysis, findings = await server.run_cpu(analyze_text, text, to_fs_path(uri) or uri)
        current = server.workspace.text_documents.get(uri)
        if current is None or current.version != version:
            log.debug("dropping stale analysis of %s v%s", uri, version)
            return
        state = self.state(uri)
        state.version, state.src, state.analysis, state.script_findings = version, src, analysis, findings
        state.keys = {diagnostics.ref_key(r) for r in analysis.refs}
        await self.hub.load_cached(state)
        if (
            server.workspace.text_documents.get(uri) is None
            or server.workspace.get_text_document(uri).version != version
        ):
            return
        self.publish(uri)
        self.hub.request(state)

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
        state = self.server.docs.pop(uri, None)
        if state is not None and state.timer is not None:
            state.timer.cancel()
        if state is not None and state.task is not None:
            state.task.cancel()
        self.hub.release_unused()
        self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def reanalyze_all(self) -> None:
        for uri in list(self.server.workspace.text_documents):
            self.schedule(uri, 0)
