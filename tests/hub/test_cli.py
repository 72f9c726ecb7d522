"""``malhug scan hf:…`` and ``--hf-cache`` end to end (in process, against the fake Hub)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download

from malhug.cli import main
from malhug.hub.cli import parse_target
from tests.fakehub import FakeHub
from tests.hub import payloads as P

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["scan", *args, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_parse_target() -> None:
    assert parse_target("hf:org/name") == parse_target("hf:models/org/name")
    t = parse_target("hf:datasets/org/data@refs/pr/1")
    assert t is not None and (t.repo_id, t.repo_type, t.revision) == ("org/data", "dataset", "refs/pr/1")
    t = parse_target("hf:org/name@0123456789abcdef0123456789abcdef01234567")
    assert t is not None and t.revision == "0123456789abcdef0123456789abcdef01234567" and t.repo_type == "model"
    assert parse_target("hf:") is None and parse_target("org/name") is None


def test_scan_hub_model_json(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    repo = hub.repo("org/model")
    clean = repo.commit({"config.json": "{}", "pytorch_model.bin": P.torch_zip(P.benign_pickle())})
    head = repo.commit(
        {"pytorch_model.bin": P.torch_zip(P.evil_pickle())}, security={"pytorch_model.bin": {"status": "unsafe"}}
    )
    code, report = _run(capsys, "hf:org/model", "--endpoint", hub.endpoint)
    assert code == 1 and report["verdict"] == "malicious"
    paths = {f["path"]: f for f in report["files"]}
    assert set(paths) == {f"hf:org/model@{head}/config.json", f"hf:org/model@{head}/pytorch_model.bin"}
    weights = paths[f"hf:org/model@{head}/pytorch_model.bin"]
    assert weights["verdict"] == "malicious" and weights["findings"][0]["location"]["member"] == "archive/data.pkl"
    section = report["hub"]["hf:org/model"]
    assert section["commit"] == head and section["verdict"] == "malicious" and section["from_cache"] is False
    assert section["hub_security"]["files"]["pytorch_model.bin"]["status"] == "unsafe"
    assert report["stats"]["bytes_read"] == section["bytes_transferred"] > 0

    code, report = _run(capsys, f"hf:org/model@{clean}", "--endpoint", hub.endpoint)
    assert code == 0 and report["verdict"] == "clean"
    assert all(f["path"].startswith(f"hf:org/model@{clean}/") for f in report["files"])


def test_warm_cli_rescan_reads_nothing(hub: FakeHub, capsys: pytest.CaptureFixture[str], hub_env: Path) -> None:
    hub.repo("org/model").commit({"w.pkl": P.evil_pickle()})
    _run(capsys, "hf:org/model", "--endpoint", hub.endpoint)
    assert (hub_env / "malhug-cache" / "verdicts.sqlite3").is_file()
    hub.clear_log()
    code, report = _run(capsys, "hf:org/model", "--endpoint", hub.endpoint)
    assert code == 1 and report["hub"]["hf:org/model"]["from_cache"] is True
    assert report["stats"]["bytes_read"] == 0 and hub.bytes_served(file_only=True) == 0
    hub.clear_log()
    _run(capsys, "hf:org/model", "--endpoint", hub.endpoint, "--no-cache")
    assert hub.bytes_served(file_only=True) > 0


def test_no_cache_writes_no_cache(hub: FakeHub, capsys: pytest.CaptureFixture[str], hub_env: Path) -> None:
    hub.repo("org/model").commit({"w.pkl": P.benign_pickle()})
    code, _ = _run(capsys, "hf:org/model", "--endpoint", hub.endpoint, "--no-cache")
    assert code == 0 and not (hub_env / "malhug-cache").exists()


def test_dataset_target_and_max_download(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    sha = hub.repo("org/data", "dataset").commit({"big.pkl": P.big_legacy_pickle(2 * 2**20), "train.csv": "a\n1\n"})
    code, report = _run(capsys, "hf:datasets/org/data", "--endpoint", hub.endpoint, "--max-download", str(2**20))
    assert code == 1
    [f] = report["files"]
    assert f["path"] == f"hf:datasets/org/data@{sha}/big.pkl" and f["verdict"] == "suspicious"
    # The prefix the cap pays for is analyzed (its cut end is a malformed stream); MH601 says the rest was not.
    assert sorted(x["rule"] for x in f["findings"]) == ["MH601", "MH901"]
    assert "big.pkl" in report["hub"]["hf:datasets/org/data"]["skipped"]


def test_unreadable_targets_exit_2_with_the_message(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _run(capsys, "hf:org/missing", "--endpoint", hub.endpoint)
    assert code == 2 and report["verdict"] == "error"
    [f] = report["files"]
    assert f["path"] == "hf:org/missing" and f["error"].startswith("not-found: repository not found")
    code, report = _run(capsys, "hf:org/missing", "--offline")
    assert code == 2 and report["files"][0]["error"].startswith("offline: ")
    code, report = _run(capsys, "hf:", "--endpoint", hub.endpoint)
    assert code == 2 and "hf:ORG/NAME" in report["files"][0]["error"]


def test_text_output_names_the_revision(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    sha = hub.repo("org/model").commit({"w.pkl": P.evil_pickle()})
    code = main(["scan", "hf:org/model", "--endpoint", hub.endpoint])
    out = capsys.readouterr().out
    assert code == 1 and f"hf:org/model@{sha}/w.pkl" in out and "MALICIOUS" in out


def test_offline_and_hf_cache(hub: FakeHub, capsys: pytest.CaptureFixture[str], hf_cache: Path) -> None:
    evil = hub.repo("org/evil").commit({"pytorch_model.bin": P.torch_zip(P.evil_pickle()), "config.json": "{}"})
    good = hub.repo("org/good").commit({"w.pkl": P.benign_pickle()})
    data = hub.repo("org/data", "dataset").commit({"data.py": "x = 1\n"})
    for repo_id, name, kind in (
        ("org/evil", "pytorch_model.bin", "model"),
        ("org/evil", "config.json", "model"),
        ("org/good", "w.pkl", "model"),
        ("org/data", "data.py", "dataset"),
    ):
        hf_hub_download(repo_id, name, repo_type=kind, endpoint=hub.endpoint, cache_dir=hf_cache, token=False)
    hub.clear_log()
    code, report = _run(capsys, "hf:org/evil", "--offline")
    assert code == 1 and report["hub"]["hf:org/evil"]["offline"] is True
    assert report["hub"]["hf:org/evil"]["stale"] is True  # the default branch, not confirmed by the Hub
    assert {f["path"] for f in report["files"]} == {
        f"hf:org/evil@{evil}/pytorch_model.bin",
        f"hf:org/evil@{evil}/config.json",
        "hf:org/evil",
    }

    code, report = _run(capsys, "--hf-cache")
    assert hub.requests() == []
    assert code == 1 and report["verdict"] == "malicious"
    section = report["hf_cache"]
    assert set(section) == {f"hf:org/evil@{evil}", f"hf:org/good@{good}", f"hf:datasets/org/data@{data}"}
    assert section[f"hf:org/evil@{evil}"]["verdict"] == "malicious" and section[f"hf:org/evil@{evil}"]["refs"] == [
        "main"
    ]
    assert section[f"hf:org/good@{good}"]["verdict"] == "clean"
    assert f"hf:datasets/org/data@{data}/data.py" in {f["path"] for f in report["files"]}


def test_hf_cache_empty_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _run(capsys, "--hf-cache")
    assert code == 2 and "no models or datasets" in report["files"][0]["error"]


def test_text_output_shows_the_hubs_own_scan_beside_ours(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    sha = hub.repo("org/model").commit(
        {"w.pkl": P.benign_pickle(), "x.pkl": P.evil_pickle()}, security={"w.pkl": {"status": "unsafe"}}
    )
    assert main(["scan", "hf:org/model", "--endpoint", hub.endpoint]) == 1
    out = capsys.readouterr().out
    assert f"hub: hf:org/model @ {sha}: ours malicious; Hub's scanner: flags w.pkl;" in out
    assert "MH603" in out
    # A target that names the commit is not followed by it again.
    assert main(["scan", f"hf:org/model@{sha}", "--endpoint", hub.endpoint]) == 1
    out = capsys.readouterr().out
    assert f"hub: hf:org/model@{sha}: ours malicious;" in out and f"{sha} @ {sha}" not in out


def test_real_cli_process_honours_hf_endpoint_and_hf_token(hub: FakeHub, hub_env: Path) -> None:
    import os
    import subprocess
    import sys

    sha = hub.repo("org/secret", private=True, tokens=["hf_env_token"]).commit({"w.pkl": P.evil_pickle()})
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_TOKEN": "hf_env_token"}
    run = subprocess.run(
        [sys.executable, "-m", "malhug", "-vv", "scan", "hf:org/secret", "--format", "json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["files"][0]["path"] == f"hf:org/secret@{sha}/w.pkl" and report["verdict"] == "malicious"
    assert "hf_env_token" not in run.stderr and "hf_env_token" not in run.stdout


def test_fakehub_command_line_serves_a_folder(tmp_path: Path) -> None:
    import subprocess
    import sys

    import httpx2

    from tests.fakehub import FakeRepo

    sha = FakeRepo(tmp_path / "root", "org/demo").commit({"config.json": "{}"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakehub", "--root", str(tmp_path / "root")],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().split()
        endpoint = first[0].removeprefix("HF_ENDPOINT=")
        assert endpoint.startswith("http://127.0.0.1:") and first[1].startswith("CDN=http://127.0.0.1:")
        assert httpx2.get(f"{endpoint}/api/models/org/demo", timeout=10).json()["sha"] == sha
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_revision_with_nothing_to_scan(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    """A complete listing with nothing a loader runs was read, not skipped: clean, and the summary says
    so instead of "CLEAN: 0 file(s) scanned". A revision that lists no file at all is not a pass."""
    hub.repo("org/docs").commit({"README.md": "just docs", "data.csv": "a\n1\n"})
    code = main(["scan", "hf:org/docs", "--endpoint", hub.endpoint])
    out = capsys.readouterr().out
    assert code == 0 and "0 file(s) scanned" not in out
    assert "CLEAN: nothing to scan among 2 files listed by the Hub (none is loaded as code or weights)" in out
    hub.repo("org/empty")
    code = main(["scan", "hf:org/empty", "--endpoint", hub.endpoint])
    out = capsys.readouterr().out
    assert code == 2 and "CLEAN" not in out
