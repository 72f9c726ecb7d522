"""``malhug pin`` on a small multi-file project against the fake Hub.

The repositories: one poisoned at its head with a clean earlier revision (the pattern of the
repositories in the MalHug paper, ASE 2024, that turned malicious after an update), a clean one, one
whose every revision is malicious, a gated one and a missing one.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from malhug.cli import main
from tests.fakehub import FakeHub
from tests.hub import payloads as P

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers

MODELS_PY = '''"""Loads the models."""
import torch
from transformers import AutoModel, AutoTokenizer

MODEL = "org/poisoned"

model = AutoModel.from_pretrained(
    MODEL,  # poisoned at head
    trust_remote_code=False,
)
tok = AutoTokenizer.from_pretrained( 'org/clean' )   # odd spacing kept
state = torch.load("checkpoint.pt")
'''

DATA_PY = """from datasets import load_dataset

ds = load_dataset("org/data", split="train")
"""

BROKEN_PY = """from transformers import AutoModel
def f(:
    AutoModel.from_pretrained("org/clean")
"""


def _hub(hub: FakeHub) -> dict[str, str]:
    poisoned = hub.repo("org/poisoned")
    good = poisoned.commit(
        {"config.json": "{}", "pytorch_model.bin": P.torch_zip(P.benign_pickle()), "model.safetensors": b"{}"}
    )
    poisoned.commit({"pytorch_model.bin": P.torch_zip(P.evil_pickle())}, title="poison")
    clean = hub.repo("org/clean").commit({"config.json": "{}", "pytorch_model.bin": P.torch_zip(P.benign_pickle())})
    data = hub.repo("org/data", "dataset").commit({"data.csv": "a,b\n1,2\n"})
    evil = hub.repo("org/evil")
    evil.commit({"pytorch_model.bin": P.torch_zip(P.evil_pickle())})
    evil.commit({"pytorch_model.bin": P.torch_zip(P.evil_pickle("echo again"))})
    hub.repo("org/gated", gated="manual", tokens=["hf_ok"]).commit({"config.json": "{}"})
    return {"poisoned": good, "clean": clean, "data": data}


def _project(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "models.py").write_text(MODELS_PY)
    (root / "app" / "data.py").write_text(DATA_PY)
    venv = root / ".venv" / "lib" / "site-packages"
    venv.mkdir(parents=True)
    (venv / "dep.py").write_text(DATA_PY)
    return root


def test_pin_writes_safe_pins_keeps_formatting_and_is_idempotent(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shas = _hub(hub)
    proj = _project(tmp_path / "proj")
    models = proj / "app" / "models.py"
    os.chmod(models, 0o640)
    assert main(["pin", str(proj), "--endpoint", hub.endpoint]) == 0
    out = capsys.readouterr().out
    assert models.read_text() == MODELS_PY.replace(
        "    trust_remote_code=False,\n",
        f'    trust_remote_code=False,\n    revision="{shas["poisoned"]}",\n    use_safetensors=True,\n',
    ).replace("from_pretrained( 'org/clean' )", f"from_pretrained( 'org/clean', revision='{shas['clean']}' )").replace(
        'torch.load("checkpoint.pt")', 'torch.load("checkpoint.pt", weights_only=True)'
    )
    assert (proj / "app" / "data.py").read_text() == DATA_PY.replace(
        'split="train")', f'split="train", revision="{shas["data"]}")'
    )
    assert stat.S_IMODE(models.stat().st_mode) == 0o640
    assert (proj / ".venv" / "lib" / "site-packages" / "dep.py").read_text() == DATA_PY  # skipped
    assert f'models.py:8:5: set model org/poisoned: revision="{shas["poisoned"]}"' in out
    assert "2 file(s) read, 2 changed, 0 reference(s) not pinned, 0 error(s)" in out
    assert not list(proj.rglob("*.malhug-pin"))

    pinned = models.read_text()
    assert main(["pin", str(proj), "--endpoint", hub.endpoint]) == 0
    assert models.read_text() == pinned
    assert "2 file(s) read, 0 changed" in capsys.readouterr().out
    assert main(["pin", str(proj), "--check", "--endpoint", hub.endpoint]) == 0


def test_check_and_diff_write_nothing_and_exit_1(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shas = _hub(hub)
    proj = _project(tmp_path / "proj")
    data = proj / "app" / "data.py"

    assert main(["pin", str(data), "--check", "--endpoint", hub.endpoint]) == 1
    out = capsys.readouterr().out
    assert f'data.py:3:19: would set dataset org/data: revision="{shas["data"]}"' in out
    assert "1 file(s) read, 1 would change" in out
    assert data.read_text() == DATA_PY

    assert main(["pin", str(data), "--diff", "--endpoint", hub.endpoint]) == 1
    captured = capsys.readouterr()
    name = data.as_posix()
    assert captured.out == (
        f"--- a/{name}\n+++ b/{name}\n@@ -1,3 +1,3 @@\n from datasets import load_dataset\n \n"
        f'-ds = load_dataset("org/data", split="train")\n'
        f'+ds = load_dataset("org/data", split="train", revision="{shas["data"]}")\n'
    )
    assert "would set" in captured.err
    assert data.read_text() == DATA_PY


def test_references_without_a_clean_revision_are_explained_and_left_as_is(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shas = _hub(hub)
    code = (
        "from transformers import AutoModel\n"
        "a = AutoModel.from_pretrained('org/evil')\n"
        "b = AutoModel.from_pretrained('org/gated')\n"
        "c = AutoModel.from_pretrained('org/missing')\n"
        "d = AutoModel.from_pretrained('org/clean')\n"
    )
    path = tmp_path / "refs.py"
    path.write_text(code)
    assert main(["pin", str(path), "--endpoint", hub.endpoint]) == 2
    err = capsys.readouterr().err
    assert "refs.py:2:31: error: model org/evil: not pinned:" in err
    assert "none of the newest 2 commit(s) of the default branch scans clean" in err
    assert "refs.py:3:31: error: model org/gated: not pinned: gated:" in err
    assert "refs.py:4:31: error: model org/missing: not pinned: not-found:" in err
    assert path.read_text() == code.replace("'org/clean')", f"'org/clean', revision='{shas['clean']}')")


def test_unparsable_file_is_untouched_and_reported(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _hub(hub)
    broken = tmp_path / "broken.py"
    broken.write_bytes(BROKEN_PY.encode())
    assert main(["pin", str(tmp_path), "--endpoint", hub.endpoint]) == 2
    err = capsys.readouterr().err
    assert f"malhug pin: {broken}: left untouched: does not parse:" in err
    assert broken.read_bytes() == BROKEN_PY.encode()


def test_offline_cannot_search_history(hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _hub(hub)
    path = tmp_path / "m.py"
    text = "from transformers import AutoModel\nm = AutoModel.from_pretrained('org/poisoned')\n"
    path.write_text(text)
    assert main(["pin", str(path), "--offline", "--endpoint", hub.endpoint]) == 2
    assert "model org/poisoned: not pinned: offline:" in capsys.readouterr().err
    assert path.read_text() == text
    assert hub.requests(lambda r: True) == []


def test_missing_path_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pin", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_notebooks_in_a_folder_are_pinned(hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shas = _hub(hub)
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": ["from datasets import load_dataset\n", "ds = load_dataset('org/data')"],
    }
    nb = tmp_path / "explore.ipynb"
    nb.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n")
    assert main(["pin", str(tmp_path), "--endpoint", hub.endpoint]) == 0
    assert "explore.ipynb:2:19: set cell 1: dataset org/data" in capsys.readouterr().out
    source = json.loads(nb.read_text())["cells"][0]["source"]
    assert source == [
        "from datasets import load_dataset\n",
        f"ds = load_dataset('org/data', revision='{shas['data']}')",
    ]
