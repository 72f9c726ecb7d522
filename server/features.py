"""LSP handlers: thin glue from protocol messages to the components that do the work."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from malhug.analyzers.api import Pos, ref_at
from malhug.server import commands as cmd
from malhug.server import config, hover
from malhug.server.actions import Actions
from malhug.server.diagnostics import ref_key
from malhug.server.documents import Documents
from malhug.server.hubscan import HubScheduler
from malhug.server.state import MalhugServer
from malhug.server.workspace import ModelFiles

log = logging.getLogger("malhug.server")


class Components:
    def __init__(self, server: MalhugServer):
        self.server = server
        self.hub = HubScheduler(server, on_result=self._republish)
        self.documents = Documents(server, self.hub)
        self.files = ModelFiles(server)
        self.documents.local.scan = self.files.scan  # a file a load call reads is scanned when unknown
        self.files.on_change = self.documents.local.file_changed  # its load calls follow its verdict
        self.actions = Actions(self.documents, self.hub)
        self.commands = cmd.Commands(self.documents, self.hub, self.files)

    def _republish(self, key: tuple[str, str, str]) -> None:
        self.documents.republish_for(key)


def _hover(c: Components, params: types.HoverParams) -> types.Hover | None:
    server = c.server
    uri = params.text_document.uri
    state = server.docs.get(uri)
    doc = server.workspace.text_documents.get(uri)
    if state is None or state.analysis is None or doc is None or state.version != doc.version:
        return None
    pos = doc.position_codec.position_from_client_units(doc.lines, params.position)
    ref = ref_at(state.analysis.refs, pos.line, pos.character)
    if ref is not None:
        key = ref_key(ref)
        scan = server.hub.scans.get(key)
        if scan is None:
            text = hover.pending_markdown(ref, key in server.hub.jobs, server.settings.offline)
        else:
            safe = server.hub.safe.get((ref.repo_type, ref.repo_id))
            text = hover.repo_markdown(ref, scan, safe, server.settings)
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))
    for load in state.analysis.loads:
        if load.span.contains(Pos(pos.line, pos.character)):
            return types.Hover(
                contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=hover.load_markdown(load))
            )
    return None


def register(server: MalhugServer) -> Components:
    c = Components(server)

    @server.feature(types.INITIALIZE)
    def initialize(ls: MalhugServer, params: types.InitializeParams) -> None:
        ls.init_options = params.initialization_options
        ls.settings, _ = config.compute(ls.init_options, None)  # problems are shown once initialized

    @server.feature(types.INITIALIZED)
    async def initialized(ls: MalhugServer, params: types.InitializedParams) -> None:
        ls.loop = asyncio.get_running_loop()
        ls.apply_log_level()
        await config.load(ls)  # reports every bad value once, initializationOptions included
        ls.spawn(ls.warm_up(), "hub client start-up")
        ls.spawn(c.files.register_watcher(), "file watcher registration")
        ls.spawn(c.files.scan_all(), "workspace model-file scan")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: MalhugServer, params: types.DidChangeConfigurationParams) -> None:
        if await config.load(ls, params.settings):
            ls.spawn(ls.warm_up(), "hub client start-up")
        c.documents.reanalyze_all()
        for uri in list(ls.model_files):
            c.files.publish(uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: MalhugServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for folder in params.event.removed:
            for uri in [u for u in ls.model_files if u.startswith(folder.uri.rstrip("/") + "/")]:
                c.files.forget(uri)
        added = [p for p in (to_fs_path(f.uri) for f in params.event.added) if p and Path(p).is_dir()]
        if added:
            ls.spawn(c.files.scan_all([Path(p) for p in added]), "model-file scan of added folders")

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MalhugServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        if c.documents.admit(uri):
            c.documents.schedule(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MalhugServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        whole = any(isinstance(ch, types.TextDocumentContentChangeWholeDocument) for ch in params.content_changes)
        if c.documents.admit(uri, whole=whole):
            c.documents.schedule(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MalhugServer, params: types.DidSaveTextDocumentParams) -> None:
        c.documents.schedule(params.text_document.uri, 0, retry_errors=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MalhugServer, params: types.DidCloseTextDocumentParams) -> None:
        c.documents.close(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: MalhugServer, params: types.HoverParams) -> types.Hover | None:
        return _hover(c, params)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix], resolve_provider=False),
    )
    async def code_action(ls: MalhugServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return await c.actions.code_actions(params)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched(ls: MalhugServer, params: types.DidChangeWatchedFilesParams) -> None:
        await c.files.changed(params)

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier="malhug", inter_file_dependencies=False, workspace_diagnostics=True),
    )
    def document_diagnostic(ls: MalhugServer, params: types.DocumentDiagnosticParams) -> Any:
        return c.files.report(params.text_document.uri)

    @server.feature(types.WORKSPACE_DIAGNOSTIC)
    def workspace_diagnostic(ls: MalhugServer, params: types.WorkspaceDiagnosticParams) -> Any:
        return c.files.workspace_report(params.previous_result_ids)

    @server.command(cmd.SCAN_WORKSPACE)
    async def scan_workspace(ls: MalhugServer, *args: Any) -> Any:
        return await c.commands.scan_workspace()

    @server.command(cmd.CLEAR_CACHE)
    def clear_cache(ls: MalhugServer, *args: Any) -> Any:
        return c.commands.clear_cache()

    @server.command(cmd.SHOW_REPORT)
    async def show_report(ls: MalhugServer, *args: Any) -> Any:
        return await c.commands.show_report(list(args))

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: MalhugServer, *args: Any) -> None:
        ls.shutdown_pools()

    return c
