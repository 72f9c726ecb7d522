"""End to end: commands, settings changes, the verdict cache across restarts, hostile documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from tests.server.conftest import HubRepos
from tests.server.harness import codes, logged, open_doc, server_env, start_client, stop_client, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

EVIL = 'import torch\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained("org/evil")\nx = torch.load("w.pt")\n'


async def test_show_report_scan_workspace_and_clear_cache(tmp_path: Path, hub: HubRepos) -> None:
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint))
    try:
        uri = open_doc(client, tmp_path / "ws" / "a.py", EVIL)
        await wait_for(lambda: "MH710" in codes(client.diagnostics.get(uri)), what="MH710")

        by_position = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="malhug.showReport", arguments=[uri, {"line": 2, "character": 35}])
        )
        assert by_position["report"]["verdict"] == "malicious"
        assert by_position["report"]["commit_sha"] == hub.evil_head
        bad = [f for f in by_position["report"]["files"] if f["verdict"] == "malicious"]
        assert [f["path"] for f in bad] == ["pytorch_model.bin"]
        assert "os.system" in by_position["markdown"]

        # The VS Code extension's form: "hf:ORG/NAME@REV"; the older clean commit scans clean.
        by_ref = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="malhug.showReport", arguments=[f"hf:org/evil@{hub.evil_clean_sha}"])
        )
        assert by_ref["report"]["verdict"] == "clean" and by_ref["report"]["commit_sha"] == hub.evil_clean_sha

        (tmp_path / "ws" / "w.pkl").write_bytes(b"\x80\x02N.")
        scanned = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="malhug.scanWorkspace")
        )
        assert scanned["modelFiles"] == 1

        cleared = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="malhug.clearCache"))
        assert cleared == {"cleared": True, "disk": True}
        hub.hub.clear_log()
        await wait_for(lambda: hub.hub.requests(), what="a fresh scan after clearing the cache")
        await wait_for(lambda: "MH710" in codes(client.diagnostics.get(uri)), what="MH710 again")
    finally:
        await stop_client(client)


async def test_configuration_change_is_applied(tmp_path: Path, hub: HubRepos) -> None:
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint))
    try:
        uri = open_doc(client, tmp_path / "ws" / "a.py", EVIL)
        await wait_for(lambda: codes(client.diagnostics.get(uri)) == ["MH701", "MH710"], what="both diagnostics")
        before = len(client.for_uri(uri))
        client.set_configuration({"severityThreshold": "high", "trustedRepos": ["org/*"]}, section="malhug")
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await wait_for(lambda: len(client.for_uri(uri)) > before, what="a republish")
        # Below the threshold: the low MH701 is gone; trusted org: the malicious verdict still shows.
        await wait_for(lambda: codes(client.diagnostics.get(uri)) == ["MH710"], what="MH710 only")
    finally:
        await stop_client(client)


async def test_cached_verdicts_appear_at_once_after_a_restart(tmp_path: Path, hub: HubRepos) -> None:
    env = server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint)
    first = await start_client(tmp_path, env=env)
    try:
        uri = open_doc(first, tmp_path / "ws" / "a.py", EVIL)
        await wait_for(lambda: "MH710" in codes(first.diagnostics.get(uri)), what="MH710")
    finally:
        await stop_client(first)
    hub.hub.clear_log()
    second = await start_client(tmp_path, env=env)
    try:
        uri = open_doc(second, tmp_path / "ws" / "a.py", EVIL)
        await wait_for(lambda: "MH710" in codes(second.diagnostics.get(uri)), timeout=15, what="MH710 from the cache")
        assert not any("/resolve/" in r.path for r in hub.hub.requests())  # nothing downloaded again
        hover = await second.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=2, character=35)
            )
        )
        assert hover is not None and "from the verdict cache" in hover.contents.value  # type: ignore[union-attr]
    finally:
        await stop_client(second)


LAST = 'y = "🙂"; m = AutoModel.from_pretrained("org/x", trust_remote_code=True)\n'


async def test_hostile_documents_never_kill_the_server(tmp_path: Path) -> None:
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_HUB_OFFLINE="1"))
    try:
        nasty = [
            "\x00\x01\x02 from_pretrained(\x00",
            "(" * 20000,
            "x = " + "[" * 500 + "]" * 500 + "\n" + 'AutoModel.from_pretrained("org/evil"',
            "def f(:\n  torch.load(x\n" * 200,
            '"' * 3 + "unterminated\n" * 1000,
            "é🙂\r\n" * 50 + LAST,
        ]
        uris = [open_doc(client, tmp_path / "ws" / f"n{i}.py", text) for i, text in enumerate(nasty)]
        await wait_for(lambda: all(client.for_uri(u) for u in uris), timeout=60, what="a publish for every document")
        last = client.diagnostics[uris[-1]]
        (trust,) = [d for d in last if d.code == "MH706"]
        # Positions in UTF-16 units (the client's default): the emoji before the call counts twice.
        assert trust.range.start == types.Position(line=50, character=LAST.index("trust_remote_code") + 1)
        assert not logged(client, "internal error")
        hover = await client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uris[-1]), position=trust.range.start)
        )
        assert hover is not None and "MH706" in hover.contents.value  # type: ignore[union-attr]
    finally:
        await stop_client(client)
