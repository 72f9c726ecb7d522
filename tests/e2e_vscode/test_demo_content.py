"""The demo's promises (docs/EDITOR.md, the editor e2e test) hold for the CLI too: each demo repository
gets the verdict, rule and attack category the demo tells users about, served by the fake Hub."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.hubcontent import Manifest, build
from tests.fakehub import FakeHub

pytestmark = pytest.mark.e2e
_ENV = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN")}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Manifest, str]]:
    manifest = build(tmp_path_factory.mktemp("demo"))
    with FakeHub(manifest.hub_root) as hub:
        yield manifest, hub.endpoint


def scan(endpoint: str, target: str, cache: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "malhug", "scan", "--format", "json", "--no-cache", "--endpoint", endpoint, target],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**_ENV, "HF_ENDPOINT": endpoint, "MALHUG_CACHE_DIR": str(cache)},
    )
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def findings(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (Path(f["path"]).name, x["rule"], x["category"])
        for f in report["files"]
        for x in f["findings"]
        if x["severity"] in ("critical", "high")
    ]


def test_clean_model_is_clean(demo: tuple[Manifest, str], tmp_path: Path) -> None:
    manifest, endpoint = demo
    report = scan(endpoint, f"hf:{manifest.clean}", tmp_path)
    assert report["verdict"] == "clean"
    assert sorted(Path(f["path"]).name for f in report["files"]) == ["config.json", "model.safetensors"]


def test_clean_dataset_is_clean(demo: tuple[Manifest, str], tmp_path: Path) -> None:
    manifest, endpoint = demo
    report = scan(endpoint, f"hf:datasets/{manifest.clean_dataset}", tmp_path)
    assert report["verdict"] == "clean", report
    assert findings(report) == []


def test_pinnable_model_is_poisoned_at_head_and_clean_one_commit_earlier(
    demo: tuple[Manifest, str], tmp_path: Path
) -> None:
    manifest, endpoint = demo
    assert manifest.pinnable_clean_sha != manifest.pinnable_head_sha
    head = scan(endpoint, f"hf:{manifest.pinnable}", tmp_path)
    assert head["verdict"] == "malicious"
    assert ("pytorch_model.bin", "MH101", "command-exec") in findings(head)
    assert any("echo malhug-demo" in (x["evidence"] or "") for f in head["files"] for x in f["findings"])
    pinned = scan(endpoint, f"hf:{manifest.pinnable}@{manifest.pinnable_clean_sha}", tmp_path)
    assert pinned["verdict"] == "clean", pinned


@pytest.mark.parametrize(
    ("attr", "prefix", "expected"),
    [
        ("reverse_shell", "", ("pytorch_model.bin", "MH101", "reverse-shell")),
        ("remote_code", "", ("modeling_demo.py", "MH503", "credential-theft")),
        ("dataset", "datasets/", ("squad-extended.py", "MH504", "download-exec")),
    ],
)
def test_poisoned_repos_show_their_attack(
    demo: tuple[Manifest, str], tmp_path: Path, attr: str, prefix: str, expected: tuple[str, str, str]
) -> None:
    manifest, endpoint = demo
    report = scan(endpoint, f"hf:{prefix}{getattr(manifest, attr)}", tmp_path)
    assert report["verdict"] == "malicious"
    assert expected in findings(report)


def test_workspace_model_files(demo: tuple[Manifest, str], tmp_path: Path) -> None:
    manifest, endpoint = demo
    report = scan(endpoint, str(Path(manifest.workspace) / "models"), tmp_path)
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert by_name["checkpoint.pt"]["verdict"] == "malicious"
    assert [(x["rule"], x["category"]) for x in by_name["checkpoint.pt"]["findings"]][:1] == [("MH101", "command-exec")]
    assert by_name["encoder.safetensors"]["verdict"] == "clean"


def test_demo_falls_back_to_text_when_the_editor_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from demo import run

    def no_editor() -> None:
        raise run.editor.EditorError("code-server is not installed (test)")

    monkeypatch.setattr(run, "set_up_editor", no_editor)
    assert run.main(["--workdir", str(tmp_path)]) == 0
    out, err = capfd.readouterr()
    assert "the editor could not start (code-server is not installed (test))" in err
    assert "showing the findings in text mode" in err
    assert "MALICIOUS" in out
    assert "MH504 download-exec" in out
    assert re.search(r"^CLEAN\s+hf:demo-org/clean-bert@[0-9a-f]{40}/model\.safetensors", out, re.M), out
