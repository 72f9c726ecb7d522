"""``workspace/executeCommand``: malhug.scanWorkspace, malhug.clearCache, malhug.showReport."""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from malhug.analyzers.api import HubRef, normalise_id, ref_at
from malhug.server import hover
from malhug.server.diagnostics import ref_key
from malhug.server.documents import Documents
from malhug.server.hubscan import HubScheduler
from malhug.server.workspace import ModelFiles

log = logging.getLogger("malhug.server.commands")
SCAN_WORKSPACE = "malhug.scanWorkspace"
CLEAR_CACHE = "malhug.clearCache"
SHOW_REPORT = "malhug.showReport"


def parse_reference(text: str) -> tuple[str, str, str] | None:
    """``hf:ORG/NAME[@REV]`` or ``hf:datasets/ORG/NAME[@REV]`` as a repo key (the CLI's syntax)."""
    body = text[3:] if text.startswith("hf:") else text
    body, _, revision = body.partition("@")
    repo_type = "model"
    if body.startswith("datasets/"):
        repo_type, body = "dataset", body[len("datasets/") :]
    parsed = normalise_id(body)
    if parsed is None:
        return None
    return (repo_type, parsed[0], revision)


class Commands:
    def __init__(self, documents: Documents, hub: HubScheduler, files: ModelFiles):
        self.documents = documents
        self.hub = hub
        self.files = files
        self.server = documents.server

    async def scan_workspace(self) -> dict[str, Any]:
        self.server.hub.scans.clear()
        self.documents.reanalyze_all()
        summary = await self.files.scan_all()
        return {**summary.to_dict(), "documents": len(self.server.workspace.text_documents)}

    def clear_cache(self) -> dict[str, Any]:
        client = self.server.client
        clear = getattr(client, "clear_cache", None) or getattr(getattr(client, "verdict_cache", None), "clear", None)
        cleared = callable(clear)
        if callable(clear):
            clear()
        self.server.hub.clear()
        self.documents.reanalyze_all()
        log.info("verdict cache cleared (on disk: %s)", cleared)
        return {"cleared": True, "disk": cleared}

    def _target(self, args: list[Any]) -> tuple[HubRef | None, tuple[str, str, str] | None]:
        """A reference from ``["hf:[datasets/]ORG/NAME[@REV]"]``, ``[{"repoId", "repoType", "revision"}]``
        or ``[uri, {line, character}]``."""
        if len(args) == 1 and isinstance(args[0], str) and args[0].startswith("hf:"):
            return None, parse_reference(args[0])
        if args and isinstance(args[0], dict) and isinstance(args[0].get("repoId"), str):
            arg = args[0]
            repo_type = str(arg["repoType"]) if arg.get("repoType") in ("model", "dataset") else "model"
            revision = str(arg["revision"]) if isinstance(arg.get("revision"), str) else ""
            return None, (repo_type, str(arg["repoId"]), revision)
        if len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], dict):
            state = self.server.docs.get(args[0])
            line, col = args[1].get("line"), args[1].get("character")
            if state is not None and state.analysis is not None and isinstance(line, int) and isinstance(col, int):
                ref = ref_at(state.analysis.refs, line, col)
                if ref is not None:
                    return ref, ref_key(ref)
        return None, None

    async def show_report(self, args: list[Any]) -> dict[str, Any]:
        ref, key = self._target(args)
        if key is None:
            return {"error": "give hf:ORG/NAME[@REV], {repoId, repoType, revision}, or a document URI and a position"}
        scan = self.server.hub.scans.get(key)
        if scan is None:
            client = self.server.client
            repo_type, repo_id, revision = key
            scan = await self.server.run_hub(lambda: client.scan_repo(repo_id, repo_type, revision or None))
            self.server.hub.scans[key] = scan
        safe = self.server.hub.safe.get((key[0], key[1]))
        markdown = hover.repo_markdown(ref, scan, safe, self.server.settings, full=True)
        return {"markdown": markdown, "report": scan.to_dict()}

    async def execute(self, params: types.ExecuteCommandParams) -> Any:
        args = list(params.arguments or [])
        if params.command == SCAN_WORKSPACE:
            return await self.scan_workspace()
        if params.command == CLEAR_CACHE:
            return self.clear_cache()
        if params.command == SHOW_REPORT:
            return await self.show_report(args)
        return {"error": f"unknown command {params.command}"}
