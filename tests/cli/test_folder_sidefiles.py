"""A shard named by a checkpoint index is scanned once in a folder or revision scan.

``from_pretrained`` opens the shards a ``*.index.json`` names (the Hugging Face sharded checkpoint
format); a folder scan scans every file anyway, so a shard is reported on its own report, and the
index keeps the reference (MH210 for a name leaving the folder, MH211 for a missing shard). The
pickles are raw opcodes (tests/builders), defanged, never loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from malhug.analyzers.api import scan_file, scan_path
from malhug.cli import main
from malhug.core.model import FileReport, Verdict
from tests.containers.helpers import evil_pickle

SHARDS = ("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin")
INDEX = "pytorch_model.bin.index.json"


def _index(*shards: str) -> bytes:
    weight_map = {f"layer.{i}.weight": shard for i, shard in enumerate(shards)}
    return json.dumps({"metadata": {"total_size": 16}, "weight_map": weight_map}).encode()


def _sharded(folder: Path, *names: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / INDEX).write_bytes(_index(*names))
    (folder / SHARDS[0]).write_bytes(b"\x80\x02}q\x00.")  # an empty dict
    (folder / SHARDS[1]).write_bytes(evil_pickle(2))


def _by_name(reports: list[FileReport]) -> dict[str, FileReport]:
    return {Path(r.path).name: r for r in reports}


def test_a_shard_is_scanned_once_in_a_folder_scan(tmp_path: Path) -> None:
    _sharded(tmp_path, *SHARDS)
    reports = _by_name(scan_path(tmp_path))
    assert set(reports) == {INDEX, *SHARDS}
    shard = reports[SHARDS[1]]
    assert shard.verdict is Verdict.MALICIOUS and "MH101" in [f.rule for f in shard.findings]
    # The index keeps the reference but no copy of the shard's findings (no side: member).
    index = reports[INDEX]
    assert [f.location.member for f in index.findings] == [] and index.verdict is Verdict.CLEAN
    everywhere = [f for r in reports.values() for f in r.findings if f.rule == "MH101"]
    assert len(everywhere) == len([f for f in shard.findings if f.rule == "MH101"]) > 0


def test_the_index_alone_still_follows_its_shards(tmp_path: Path) -> None:
    _sharded(tmp_path, *SHARDS)
    report = scan_file(tmp_path / INDEX)
    assert any(f.location.member == f"side:{SHARDS[1]}" and f.rule == "MH101" for f in report.findings)
    assert report.verdict is Verdict.MALICIOUS
    [only] = scan_path(tmp_path / INDEX)  # a file target: its shards are not scanned on their own
    assert only.verdict is Verdict.MALICIOUS


@pytest.mark.fires("MH211")
def test_a_missing_shard_is_still_mh211_in_a_folder_scan(tmp_path: Path) -> None:
    _sharded(tmp_path, *SHARDS, "pytorch_model-00003-of-00002.bin")
    index = _by_name(scan_path(tmp_path))[INDEX]
    assert [(f.rule, f.evidence) for f in index.findings] == [("MH211", "pytorch_model-00003-of-00002.bin")]


@pytest.mark.fires("MH210")
def test_a_shard_leaving_the_folder_is_still_mh210(tmp_path: Path) -> None:
    _sharded(tmp_path / "model", "../" + SHARDS[1])
    (tmp_path / SHARDS[1]).write_bytes(evil_pickle(2))
    index = _by_name(scan_path(tmp_path / "model"))[INDEX]
    assert [f.rule for f in index.findings] == ["MH210"]


def test_a_shard_the_folder_scan_skips_is_followed(tmp_path: Path) -> None:
    """Only files the scan itself covers are left to their own report: a shard under ``.git`` (a folder
    scans skip) is followed from the index as before."""
    _sharded(tmp_path, ".git/" + SHARDS[1])
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / SHARDS[1]).write_bytes(evil_pickle(2))
    reports = _by_name(scan_path(tmp_path))
    assert SHARDS[1] in reports and reports[SHARDS[1]].path.endswith(SHARDS[1])  # the top-level copy
    index = reports[INDEX]
    assert any(f.location.member == f"side:.git/{SHARDS[1]}" for f in index.findings)
    assert index.verdict is Verdict.MALICIOUS


def test_the_cli_reports_the_shard_finding_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sharded(tmp_path, *SHARDS)
    code = main(["scan", str(tmp_path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    rows = [(Path(f["path"]).name, x["rule"]) for f in report["files"] for x in f["findings"] if x["rule"] == "MH101"]
    assert {name for name, _ in rows} == {SHARDS[1]}
