"""Which open files get the live loading-script analysis."""

from __future__ import annotations

import json
from pathlib import Path

from malhug.server.scriptscope import LoadTimeScope
from malhug.server.settings import Settings, merge

runs_on_load = LoadTimeScope().runs_on_load
BUILDER = "import datasets\n\nclass Squad(datasets.GeneratorBasedBuilder):\n    pass\n"
TRAINING = "import os\nos.system('nvidia-smi')\n"


def test_dataset_builders_run_on_load_wherever_they_are() -> None:
    assert runs_on_load("/home/u/project/squad.py", BUILDER)
    assert runs_on_load(None, "from datasets import ArrowBasedBuilder\nclass X(ArrowBasedBuilder): ...\n")


def test_remote_code_names_and_hf_places_run_on_load() -> None:
    assert runs_on_load("/repo/modeling_phi.py", TRAINING)
    assert runs_on_load("/repo/configuration_phi.py", TRAINING)
    assert runs_on_load("/home/u/.cache/huggingface/modules/transformers_modules/x/y.py", TRAINING)
    assert runs_on_load("/home/u/.cache/huggingface/hub/models--a--b/snapshots/abc/util.py", TRAINING)


def test_auto_map_targets_run_on_load(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "custom_model.MyModel"}}))
    assert runs_on_load(str(tmp_path / "custom_model.py"), TRAINING)
    assert not runs_on_load(str(tmp_path / "train.py"), TRAINING)


def test_auto_map_targets_of_processor_configs_run_on_load(tmp_path: Path) -> None:
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({"auto_map": {"AutoImageProcessor": "img.Proc"}}))
    (tmp_path / "processor_config.json").write_text(json.dumps({"auto_map": {"AutoProcessor": "proc.Proc"}}))
    (tmp_path / "img.py").write_text(TRAINING)
    (tmp_path / "proc.py").write_text(TRAINING)
    scope = LoadTimeScope()
    assert scope.runs_on_load(str(tmp_path / "img.py"), TRAINING)
    assert scope.runs_on_load(str(tmp_path / "proc.py"), TRAINING)


def test_modules_that_load_time_code_imports_run_on_load(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "custom_model.MyModel"}}))
    (tmp_path / "custom_model.py").write_text("from .helpers import check\n")
    (tmp_path / "helpers.py").write_text(TRAINING)
    (tmp_path / "train.py").write_text(TRAINING)
    scope = LoadTimeScope()
    assert scope.runs_on_load(str(tmp_path / "helpers.py"), TRAINING)
    assert not scope.runs_on_load(str(tmp_path / "train.py"), TRAINING)
    # The answer is kept until a file of the folder changes.
    (tmp_path / "custom_model.py").write_text("from .train import main\n")
    assert scope.runs_on_load(str(tmp_path / "train.py"), TRAINING)
    assert not scope.runs_on_load(str(tmp_path / "helpers.py"), TRAINING)


def test_users_own_code_does_not(tmp_path: Path) -> None:
    assert not runs_on_load(str(tmp_path / "train.py"), TRAINING)
    assert not runs_on_load(None, TRAINING)
    (tmp_path / "config.json").write_text("{not json")
    assert not runs_on_load(str(tmp_path / "train.py"), TRAINING)


def test_analyze_all_scripts_setting_is_validated() -> None:
    settings, problems = merge(Settings(), {"analyzeAllScripts": True})
    assert settings.analyze_all_scripts and not problems
    settings, problems = merge(Settings(), {"analyzeAllScripts": "yes"})
    assert not settings.analyze_all_scripts and "analyzeAllScripts" in problems[0]
