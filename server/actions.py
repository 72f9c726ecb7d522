"""Quick fixes (``quickfix`` code actions), computed from each diagnostic's ``data``.

The edits were prepared when the diagnostic was built (pin the safe revision, use_safetensors,
weights_only, drop trust_remote_code); "ignore this finding here" is computed now from the
current text. If the safe revision was not known yet, the search runs (bounded) before answering.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from malhug.analyzers.api import SourceLines, Span, ignore_comment
from malhug.server.documents import Documents
from malhug.server.hubscan import HubScheduler
from malhug.server.spans import to_lsp_range

log = logging.getLogger("malhug.server.actions")
SAFE_SEARCH_TIMEOUT = 20.0


def _text_edits(raw_edits: Any, lines: list[str], codec: Any) -> list[types.TextEdit] | None:
    out = []
    if not isinstance(raw_edits, list):
        return None
    for item in raw_edits:
        if not (isinstance(item, list) and len(item) == 5 and isinstance(item[4], str)):
            return None
        span = Span.from_json(item[:4])
        if span is None:
            return None
        out.append(types.TextEdit(range=to_lsp_range(span, lines, codec), new_text=item[4]))
    return out


def _action(title: str, uri: str, text_edits: list[types.TextEdit], diag: types.Diagnostic) -> types.CodeAction:
    return types.CodeAction(
        title=f"MalHug: {title}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diag],
        edit=types.WorkspaceEdit(changes={uri: text_edits}),
    )


def _fixes(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The fixes a diagnostic's ``data`` carries. The client echoes ``data`` back, so anything that is
    not a list of objects (a broken or hostile client) offers no fix rather than failing the request."""
    fixes = data.get("fixes")
    return [fix for fix in fixes if isinstance(fix, dict)] if isinstance(fixes, list) else []


class Actions:
    def __init__(self, documents: Documents, hub: HubScheduler):
        self.documents = documents
        self.hub = hub

    async def _fixes_with_safe_sha(
        self, uri: str, diag: types.Diagnostic, data: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Fixes once the safe revision is known: wait for the search, then rebuild this diagnostic."""
        try:
            await asyncio.wait_for(self.hub.safe_revision(data["repo_type"], data["repo_id"]), SAFE_SEARCH_TIMEOUT)
        except TimeoutError:
            log.info("safe-revision search for %s still running; pin fix not offered yet", data["repo_id"])
            return _fixes(data)
        state = self.documents.server.docs.get(uri)
        if state is None:
            return []
        for issue in self.documents.issues(state):
            if issue.rule == diag.code and issue.span.line == diag.range.start.line and issue.data.get("kind") == "hub":
                return _fixes(issue.data)
        return _fixes(data)

    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        only = params.context.only
        if only and not any(str(k).startswith(types.CodeActionKind.QuickFix.value) for k in only):
            return []
        server = self.documents.server
        uri = params.text_document.uri
        doc = server.workspace.text_documents.get(uri)
        if doc is None:
            return []
        src = SourceLines(doc.source)
        codec = doc.position_codec
        state = server.docs.get(uri)
        current = state is not None and state.version == doc.version
        actions: list[types.CodeAction] = []
        for diag in params.context.diagnostics:
            if diag.source != "malhug" or not isinstance(diag.code, str):
                continue
            data = diag.data if isinstance(diag.data, dict) else {}
            fixes = _fixes(data)
            needs_safe = (
                data.get("kind") == "hub"
                and data.get("verdict") in ("malicious", "suspicious")
                and not data.get("safe_sha")
                and isinstance(data.get("repo_id"), str)
                and data.get("repo_type") in ("model", "dataset")
            )
            if needs_safe and current:
                fixes = await self._fixes_with_safe_sha(uri, diag, data)
            if current:
                for fix in fixes:
                    text_edits = _text_edits(fix.get("edits"), src.lines, codec)
                    if text_edits:
                        actions.append(_action(str(fix.get("title")), uri, text_edits, diag))
            line = server_line(diag, src)
            ignore = ignore_comment(src, line, diag.code)
            if ignore:
                text_edits = [types.TextEdit(range=to_lsp_range(s, src.lines, codec), new_text=t) for s, t in ignore]
                actions.append(_action(f"Ignore {diag.code} on this line", uri, text_edits, diag))
        return actions


def server_line(diag: types.Diagnostic, src: SourceLines) -> int:
    return min(max(diag.range.start.line, 0), max(len(src.lines) - 1, 0))
