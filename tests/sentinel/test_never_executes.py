"""Scanning never executes anything.

Each payload, if it ran, would create a sentinel file in a fresh temporary folder. The files are
scanned through the API and through the CLI in a subprocess; every one must be reported malicious,
and no sentinel may exist afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from malhug.analyzers.api import scan_file, scan_path
from malhug.core.model import Verdict
from tests.builders.benign import gguf_llama3
from tests.builders.evasions import loading_script_running
from tests.builders.keras import h5_model
from tests.builders.pickles import call, pickle_of
from tests.builders.torchfiles import poisoned_torch_zip
from tests.builders.wrappers import joblib_zlib, sevenzip

SSTI_TEMPLATE = (
    "{{% for message in messages %}}{{{{ message['content'] }}}}{{% endfor %}}"
    "{{{{ cycler.__init__.__globals__.os.popen('touch {sentinel}').read() }}}}"
)


def build_payloads(folder: Path, sentinels: Path) -> list[Path]:
    def s(n: int) -> str:
        return str(sentinels / f"sentinel-{n}")

    files = {
        "system.pkl": pickle_of([call("posix.system", f"touch {s(1)}")], protocol=2),
        "exec.pkl": pickle_of([call("builtins.exec", f"open('{s(2)}','w')")], protocol=4),
        "lambda.h5": h5_model(f"open('{s(3)}', 'w').close() or x"),
        "loading_script.py": loading_script_running(f"touch {s(4)}").encode(),
        "model.joblib": joblib_zlib(pickle_of([call("os.system", f"touch {s(6)}")], protocol=4)),
        "wrapped.7z": sevenzip("model.pkl", pickle_of([call("posix.system", f"touch {s(7)}")], protocol=2)),
        "pytorch_model.bin": poisoned_torch_zip("pytorch_model", [call("builtins.exec", f"open('{s(8)}','w')")]),
    }
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    gguf = folder / "template.gguf"
    gguf.write_bytes(gguf_llama3(folder, SSTI_TEMPLATE.format(sentinel=s(5)), name="scratch.gguf"))
    (folder / "scratch.gguf").unlink()
    paths.append(gguf)
    return paths


@pytest.fixture
def payload_dir(tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    folder, sentinels = tmp_path / "payloads", tmp_path / "sentinels"
    folder.mkdir()
    sentinels.mkdir()
    return folder, sentinels, build_payloads(folder, sentinels)


def test_api_scan_reports_every_payload_and_runs_none(payload_dir: tuple[Path, Path, list[Path]]) -> None:
    folder, sentinels, paths = payload_dir
    verdicts = {p.name: scan_file(p).verdict for p in paths}
    assert list(sentinels.iterdir()) == []
    reports = scan_path(folder)
    assert list(sentinels.iterdir()) == []
    assert {Path(r.path).name for r in reports} == {p.name for p in paths}
    assert verdicts == {p.name: Verdict.MALICIOUS for p in paths}


@pytest.mark.e2e
def test_cli_scan_reports_every_payload_and_runs_none(payload_dir: tuple[Path, Path, list[Path]]) -> None:
    folder, sentinels, paths = payload_dir
    proc = subprocess.run(
        [sys.executable, "-m", "malhug", "scan", str(folder), "--format", "json", "--offline"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        cwd=sentinels,
    )
    assert list(sentinels.iterdir()) == []
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert {Path(f["path"]).name: f["verdict"] for f in report["files"]} == {p.name: "malicious" for p in paths}
