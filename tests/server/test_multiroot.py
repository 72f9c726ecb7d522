"""Multi-root workspaces and *Scan Workspace* (issue #16): every folder is served, the scan shows progress
with counts and ends with a summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from malhug.core.model import Verdict
from malhug.server.workspace import ScanSummary, outermost
from tests.server.conftest import evil_pickle, safetensors_bytes
from tests.server.harness import logged, server_env, start_client, stop_client, wait_for

NEOVIM = "neovim@v0.7.0"  # pushes diagnostics for model files (no pull), shows $/progress


def test_summary_text_counts_each_verdict() -> None:
    summary = ScanSummary(roots=2)
    for verdict in (Verdict.MALICIOUS, Verdict.CLEAN, Verdict.CLEAN, Verdict.ERROR):
        summary.verdicts[verdict.value] += 1
    assert summary.text() == "4 model files scanned: 1 malicious, 0 suspicious, 1 error"
    assert summary.to_dict() == {
        "modelFiles": 4,
        "malicious": 1,
        "suspicious": 0,
        "errors": 1,
        "clean": 2,
        "truncated": False,
        "summary": "4 model files scanned: 1 malicious, 0 suspicious, 1 error",
    }
    summary.truncated_at = 2000
    assert summary.text().endswith(
        "stopped after the first 2000 files (malhug.workspaceMaxFiles), the rest was not checked"
    )
    assert ScanSummary(roots=0).text() == "no workspace folder is open: nothing was scanned"


def test_a_folder_inside_another_is_walked_once(tmp_path: Path) -> None:
    outer, inner, other = tmp_path / "a", tmp_path / "a" / "b", tmp_path / "c"
    for d in (inner, other):
        d.mkdir(parents=True)
    assert outermost([inner, outer, other, outer]) == [outer, other]


@pytest.mark.e2e
@pytest.mark.timeout(120)
async def test_every_workspace_folder_is_scanned_and_scan_workspace_reports_progress(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, name in ((first, "evil.pkl"), (second, "nested/poisoned.bin")):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(evil_pickle())
    (second / "model.safetensors").write_bytes(safetensors_bytes())
    env = server_env(tmp_path, HF_HUB_OFFLINE="1")
    client = await start_client(tmp_path, env=env, capabilities=NEOVIM, folders=[first, second])
    try:
        for path in (first / "evil.pkl", second / "nested" / "poisoned.bin"):
            diags = await wait_for(lambda p=path: client.diagnostics.get(p.as_uri()), what=f"diagnostics of {path}")
            assert diags[0].severity == types.DiagnosticSeverity.Error and diags[0].code == "MH101", diags
        await wait_for(lambda: logged(client, "workspace scan: 3 model files scanned"), what="the start-up scan")

        client.progress_reports.clear()
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="malhug.scanWorkspace")
        )
        assert result["summary"] == "3 model files scanned: 2 malicious, 0 suspicious, 0 errors"
        assert (result["modelFiles"], result["malicious"], result["clean"], result["errors"]) == (3, 2, 1, 0)
        [reports] = [r for r in client.progress_reports.values() if r and getattr(r[0], "kind", "") == "begin"]
        assert reports[0].title == "MalHug: scanning model files" and reports[0].message == "0/3 files"
        messages = [r.message for r in reports[1:-1]]
        assert messages[-1].startswith("3/3 files: 2 malicious, 0 suspicious, 0 errors ("), messages
        assert [r.percentage for r in reports[1:-1]] == [33, 66, 100]
        assert reports[-1].kind == "end" and reports[-1].message == result["summary"]
    finally:
        await stop_client(client)
