"""End to end through a real editor: headless Neovim (Debian's 0.7.2) runs ``malhug lsp``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import HubRepos
from tests.server.harness import server_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
NVIM = shutil.which("nvim")
INIT = Path(__file__).parent / "nvim" / "init.lua"
TEXT = 'from transformers import AutoModel\n\nmodel = AutoModel.from_pretrained("org/evil")\n'


@pytest.mark.skipif(NVIM is None, reason="nvim is not installed (make server-setup installs Debian's neovim)")
def test_neovim_shows_the_error_and_the_hover(tmp_path: Path, hub: HubRepos) -> None:
    assert NVIM is not None
    root = tmp_path / "ws"
    root.mkdir()
    source = root / "app.py"
    source.write_text(TEXT)
    out = tmp_path / "nvim-result.json"
    env = server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint)
    env.update(
        MALHUG_NVIM_OUT=str(out),
        MALHUG_NVIM_FILE=str(source),
        MALHUG_NVIM_ROOT=str(root),
        MALHUG_PYTHON=sys.executable,
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
    )
    proc = subprocess.run(
        [NVIM, "--headless", "-n", "-i", "NONE", "-u", str(INIT)],
        env=env,
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.exists(), f"nvim wrote no result (exit {proc.returncode}): {proc.stderr[-2000:]}"
    result = json.loads(out.read_text())
    assert result["ok"], result
    (diag,) = [d for d in result["diagnostics"] if d["code"] == "MH710"]
    start = TEXT.splitlines()[2].index('"org/evil"')
    assert (diag["lnum"], diag["col"], diag["end_col"]) == (2, start, start + len('"org/evil"'))
    assert diag["severity"] == 1 and diag["source"] == "malhug"  # 1 = ERROR in vim.diagnostic
    assert "malicious" in diag["message"] and "command-exec" in diag["message"]
    assert "is malicious" in result["hover"] and hub.evil_head in result["hover"]
