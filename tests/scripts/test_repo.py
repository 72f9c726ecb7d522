"""Which files of a repository loading runs (analyzers/scripts/repo.py), and folder scans that use it."""

from __future__ import annotations

from pathlib import Path

from malhug.analyzers.dispatch import scan_path
from malhug.analyzers.scripts.repo import remote_code_refs, select_code_files
from malhug.core.model import Verdict


def test_dataset_repo_without_contents_returns_root_scripts_first_then_every_module() -> None:
    paths = ["README.md", "squad.py", "data/train.json", "utils/helpers.py", ".github/ci.py", "other.py"]
    assert select_code_files(paths, "dataset", None) == ["other.py", "squad.py", "utils/helpers.py"]


def test_dataset_repo_follows_local_imports_when_contents_are_given() -> None:
    files = {
        "squad.py": "import datasets\nfrom .squad_utils import norm\nimport helpers.text as t\n",
        "squad_utils.py": "from . import constants\n",
        "constants.py": "X = 1\n",
        "helpers/__init__.py": "",
        "helpers/text.py": "import json\n",
        "unused.py": "import os\n",
        "nested/unused_too.py": "",
    }
    chosen = select_code_files(list(files), "dataset", None, read_text=files.get)
    # Every root .py may be the loading script; modules below the root only when imported.
    assert chosen == ["constants.py", "squad.py", "squad_utils.py", "unused.py", "helpers/text.py"]


def test_model_repo_auto_map_targets_first() -> None:
    config = {
        "auto_map": {
            "AutoConfig": "configuration_tiny.TinyConfig",
            "AutoModel": "modeling_tiny.TinyModel",
            "AutoTokenizer": ["tokenization_tiny.TinyTokenizer", None],
            "AutoModelForCausalLM": "other-org/base-repo--modeling_base.BaseForCausalLM",
        },
        "custom_pipelines": {"text-x": {"impl": "pipeline_x.XPipeline"}},
    }
    paths = [
        "config.json",
        "utils.py",
        "modeling_tiny.py",
        "configuration_tiny.py",
        "tokenization_tiny.py",
        "pipeline_x.py",
        "pytorch_model.bin",
    ]
    assert select_code_files(paths, "model", config) == [
        "configuration_tiny.py",
        "modeling_tiny.py",
        "tokenization_tiny.py",
        "pipeline_x.py",
        "utils.py",
    ]
    assert ("other-org/base-repo", "modeling_base.py") in remote_code_refs(config)
    assert (None, "modeling_tiny.py") in remote_code_refs(config)


def test_model_repo_without_config_and_odd_values() -> None:
    assert select_code_files(["a.py", "sub/b.py", "x.txt"], "model", None) == ["a.py", "sub/b.py"]
    assert remote_code_refs({"auto_map": {"AutoModel": "no_dot", "B": 3, "C": "../evil.Class"}}) == []
    assert remote_code_refs({"auto_map": ["tokenization_old.Tok", None]}) == [(None, "tokenization_old.py")]
    assert remote_code_refs(None) == [] and remote_code_refs({"auto_map": "x"}) == []


GPU_CHECK = 'import subprocess\n\n\ndef check():\n    subprocess.run(["nvidia-smi"])\n'


def _verdicts(root: Path) -> dict[str, Verdict]:
    return {Path(r.path).relative_to(root).as_posix(): r.verdict for r in scan_path(root)}


def test_a_local_model_folder_judges_what_remote_code_imports_as_load_time_code(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"auto_map": {"AutoModel": "custom_arch.CustomModel"}}')
    (tmp_path / "custom_arch.py").write_text("from .helpers import check\n\n\nclass CustomModel:\n    pass\n")
    for name in ("helpers.py", "train.py"):
        (tmp_path / name).write_text(GPU_CHECK)
    verdicts = _verdicts(tmp_path)
    assert verdicts["helpers.py"] is Verdict.MALICIOUS  # trust_remote_code imports it
    assert verdicts["train.py"] is Verdict.CLEAN  # runs only when someone runs it


def test_a_local_dataset_folder_judges_the_script_imports_as_load_time_code(tmp_path: Path) -> None:
    (tmp_path / "mydata.py").write_text(
        "import datasets\nfrom utils import fetch\n\n\nclass MyData(datasets.GeneratorBasedBuilder):\n    pass\n"
    )
    (tmp_path / "utils.py").write_text(GPU_CHECK)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "prepare.py").write_text(GPU_CHECK)
    verdicts = _verdicts(tmp_path)
    assert verdicts["utils.py"] is Verdict.MALICIOUS
    assert verdicts["scripts/prepare.py"] is Verdict.CLEAN
