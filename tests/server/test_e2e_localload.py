"""Issue #16: ``torch.load("models/checkpoint.pt")`` of a local file MalHug flags carries that file's verdict.

Before, the call got only the generic note ("... on torch < 2.6", information) even when the file
it loads is a pickle that runs os.system (the attack of the MalHug paper, ASE 2024). Over stdio.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from tests.hub.payloads import benign_pickle
from tests.server.conftest import evil_pickle
from tests.server.harness import literal_range, open_doc, server_env, start_client, stop_client, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

TRAIN = """import pickle
import torch

state = torch.load("models/checkpoint.pt")
other = torch.load("models/ok.pt")
data = pickle.load(open("../outside/evil.pkl", "rb"))
safe = torch.load("models/checkpoint.pt", weights_only=True)
"""


@pytest.mark.fires("MH701")
async def test_the_load_of_a_flagged_local_file_carries_its_verdict(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "src" / "models").mkdir(parents=True)
    checkpoint = ws / "src" / "models" / "checkpoint.pt"
    checkpoint.write_bytes(evil_pickle())
    (ws / "src" / "models" / "ok.pt").write_bytes(benign_pickle())
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "evil.pkl").write_bytes(evil_pickle())  # outside the workspace: not followed
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_HUB_OFFLINE="1"), workspace=ws)
    try:
        uri = open_doc(client, ws / "src" / "train.py", TRAIN)

        def loaded() -> list[types.Diagnostic]:
            return [d for d in client.diagnostics.get(uri, []) if d.code == "MH701" and "malicious" in d.message]

        (diag,) = await wait_for(loaded, what="the checkpoint's verdict on the torch.load call")
        assert diag.severity == types.DiagnosticSeverity.Error
        assert diag.range == literal_range(TRAIN, "torch.load")
        assert diag.message.startswith("torch.load() loads models/checkpoint.pt, which MalHug finds malicious: ")
        assert "os.system" in diag.message and "malhug-sentinel-lsp" in diag.message
        (related,) = diag.related_information or []
        assert related.location.uri == checkpoint.as_uri()
        assert related.location.range.start == types.Position(line=0, character=0)
        assert related.message.startswith("models/checkpoint.pt: malicious — MH1")

        others = [d for d in client.diagnostics.get(uri, []) if d.range.start.line == 4]
        assert [(d.code, d.severity) for d in others] == [("MH701", types.DiagnosticSeverity.Information)]
        assert "malicious" not in others[0].message
        outside = [d for d in client.diagnostics.get(uri, []) if d.range.start.line == 5]
        assert [d.code for d in outside] == ["MH702"] and "malicious" not in outside[0].message
        # No rule flags a weights_only=True load; the file's own rule and verdict are still on it.
        (flagged,) = [d for d in client.diagnostics.get(uri, []) if d.range.start.line == 6]
        assert str(flagged.code).startswith("MH1") and flagged.severity == types.DiagnosticSeverity.Error
        assert flagged.message.startswith("torch.load() loads models/checkpoint.pt, which MalHug finds malicious: ")
        assert f"because {flagged.code} " in flagged.message

        # The checkpoint is replaced by a clean one: the call follows the file's new verdict.
        checkpoint.write_bytes(benign_pickle())
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=checkpoint.as_uri(), type=types.FileChangeType.Changed)]
            )
        )

        def note() -> list[types.Diagnostic]:
            on_line = [d for d in client.diagnostics.get(uri, []) if d.range.start.line == 3]
            return [d for d in on_line if d.severity == types.DiagnosticSeverity.Information]

        (after,) = await wait_for(note, what="the generic note back once the checkpoint is clean")
        assert after.code == "MH701" and "malicious" not in after.message
        assert not [d for d in client.diagnostics.get(uri, []) if d.range.start.line == 6]
    finally:
        await stop_client(client)
