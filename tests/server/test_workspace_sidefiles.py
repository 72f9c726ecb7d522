"""The editor's workspace scan follows side files like the CLI (joblib's legacy array files)."""

from __future__ import annotations

from pathlib import Path

from malhug.core.model import Verdict
from server.workspace import scan_one
from tests.containers.helpers import evil_pickle, npy_bytes
from tests.containers.test_sidefiles import legacy_joblib


def test_workspace_scan_reports_the_payload_of_a_joblib_array_file_at_the_pickle(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(legacy_joblib("model.pkl_01.npy"))
    (tmp_path / "model.pkl_01.npy").write_bytes(npy_bytes("|O", (1,), evil_pickle(2)))
    report = scan_one(tmp_path / "model.pkl")
    assert report.verdict is Verdict.MALICIOUS
    assert any((f.location.member or "").startswith("side:model.pkl_01.npy") for f in report.findings)
