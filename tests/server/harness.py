"""Helpers for the language-server tests: a real LSP client (pytest-lsp) driving ``malhug lsp``.

``start_client`` launches the server as a subprocess over stdio with its own cache folders and the
given environment, initializes a session with VS Code's capabilities, and records every
``publishDiagnostics`` with its version (pytest-lsp keeps only the last list per URI).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

SERVER = [sys.executable, "-m", "malhug", "lsp"]
_HF_VARS = ("HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "HF_HOME", "MALHUG_CACHE_DIR")


@dataclass
class Published:
    uri: str
    version: int | None
    diagnostics: list[types.Diagnostic]
    at: float = field(default_factory=time.monotonic)


class RecordingClient(LanguageClient):
    published: list[Published]
    registrations: list[types.Registration]

    def for_uri(self, uri: str) -> list[Published]:
        return [p for p in self.published if p.uri == uri]


def make_client() -> RecordingClient:
    client = RecordingClient(converter_factory=default_converter)
    client.published = []
    client.registrations = []
    for method, func in DEFAULT_CLIENT_FEATURES.items():
        if method != types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS:
            client.feature(method)(func)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(ls: RecordingClient, params: types.PublishDiagnosticsParams) -> None:
        ls.diagnostics[params.uri] = params.diagnostics
        ls.published.append(Published(params.uri, params.version, list(params.diagnostics)))

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(ls: RecordingClient, params: types.RegistrationParams) -> None:
        ls.registrations.extend(params.registrations)

    return client


def server_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _HF_VARS}
    env.update(
        MALHUG_CACHE_DIR=str(tmp / "malhug-cache"),
        HF_HOME=str(tmp / "hf-home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


async def start_client(
    tmp: Path,
    *,
    env: dict[str, str],
    init_options: dict[str, Any] | None = None,
    workspace: Path | None = None,
    configuration: dict[str, Any] | None = None,
    capabilities: str = "visual-studio-code",
    folders: list[Path] | None = None,
) -> RecordingClient:
    config = ClientServerConfig(server_command=SERVER, server_env=env, client_factory=make_client)
    client = await config.start()
    assert isinstance(client, RecordingClient)
    if configuration is not None:
        client.set_configuration(configuration, section="malhug")
    root = workspace or (folders[0] if folders else tmp / "ws")
    for folder in folders or [root]:
        folder.mkdir(parents=True, exist_ok=True)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(capabilities),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders or [root]],
            initialization_options={"malhug": {"debounceMs": 50, **(init_options or {})}},
        )
    )
    return client


async def stop_client(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


async def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def logged(client: LanguageClient, text: str) -> bool:
    return any(text in m.message for m in client.log_messages)


def open_doc(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
        )
    )
    return uri


def change_doc(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def codes(diags: list[types.Diagnostic] | Any) -> list[str]:
    return sorted(str(d.code) for d in diags or [])


def literal_range(text: str, literal: str) -> types.Range:
    """The range of the first occurrence of ``literal`` (ASCII text) in ``text``."""
    for number, line in enumerate(text.splitlines()):
        col = line.find(literal)
        if col >= 0:
            return types.Range(
                start=types.Position(line=number, character=col),
                end=types.Position(line=number, character=col + len(literal)),
            )
    raise AssertionError(f"{literal!r} not in text")
