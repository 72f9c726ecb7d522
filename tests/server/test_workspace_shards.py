"""The editor's workspace scan reports a checkpoint shard once, like ``malhug scan`` of a folder.

``from_pretrained`` opens every shard a ``*.index.json`` names in its ``weight_map`` (the Hugging Face
sharded checkpoint format). The workspace scan scans the shards on their own, so the index only checks
that they are there (MH210/MH211) and a shard's findings are diagnostics on the shard alone; a shard the
scan does not cover is still followed from the index. The pickles are raw opcodes (tests/builders),
defanged, never loaded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from lsprotocol import types

from malhug.core.model import FileReport, Verdict
from malhug.server.settings import Settings
from malhug.server.state import MalhugServer
from malhug.server.workspace import ModelFiles, find_model_files, scan_one
from tests.containers.helpers import evil_pickle

SHARDS = ("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin")
INDEX = "pytorch_model.bin.index.json"
T = TypeVar("T")


def _sharded(folder: Path, *names: str) -> None:
    folder.mkdir(exist_ok=True)
    weight_map = {f"layer.{i}.weight": name for i, name in enumerate(names)}
    (folder / INDEX).write_text(json.dumps({"metadata": {"total_size": 16}, "weight_map": weight_map}))
    (folder / SHARDS[0]).write_bytes(b"\x80\x02}q\x00.")  # an empty dict
    (folder / SHARDS[1]).write_bytes(evil_pickle(2))


class _Server:
    """What ModelFiles uses of the language server: settings, the report store, the file pool, publishing."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.model_files: dict[str, FileReport] = {}
        self.published: dict[str, list[types.Diagnostic]] = {}
        self.shown: list[str] = []

    async def run_files(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, func, *args)

    def supports_progress(self) -> bool:
        return False

    def supports_pull_diagnostics(self) -> bool:
        return False

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.shown.append(message)

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None:
        self.published[params.uri] = list(params.diagnostics)


def _files() -> tuple[ModelFiles, _Server]:
    server = _Server()
    return ModelFiles(cast(MalhugServer, server)), server


def _report(server: _Server, path: Path) -> FileReport:
    return server.model_files[path.as_uri()]


def _codes(server: _Server, path: Path) -> list[str]:
    return [str(d.code) for d in server.published[path.as_uri()]]


async def test_the_workspace_scan_reports_a_shard_finding_once_on_the_shard(tmp_path: Path) -> None:
    _sharded(tmp_path, *SHARDS)
    files, server = _files()
    summary = await files.scan_all([tmp_path])
    assert sorted(Path(u).name for u in server.model_files) == sorted([INDEX, *SHARDS])
    shard = _report(server, tmp_path / SHARDS[1])
    assert shard.verdict is Verdict.MALICIOUS and "MH101" in [f.rule for f in shard.findings]
    assert "MH101" in _codes(server, tmp_path / SHARDS[1])
    index = _report(server, tmp_path / INDEX)
    assert index.findings == [] and index.verdict is Verdict.CLEAN  # no side: copy of the shard's findings
    assert _codes(server, tmp_path / INDEX) == []
    assert (summary.verdicts[Verdict.MALICIOUS.value], summary.verdicts[Verdict.CLEAN.value]) == (1, 2)


@pytest.mark.fires("MH211")
async def test_the_index_still_reports_a_missing_shard(tmp_path: Path) -> None:
    missing = "pytorch_model-00003-of-00002.bin"
    _sharded(tmp_path, *SHARDS, missing)
    files, server = _files()
    await files.scan_all([tmp_path])
    index = _report(server, tmp_path / INDEX)
    assert [(f.rule, f.evidence) for f in index.findings] == [("MH211", missing)]
    assert _codes(server, tmp_path / INDEX) == ["MH211"]


async def test_a_shard_removed_later_is_mh211_at_its_index(tmp_path: Path) -> None:
    """The watcher's scans: the index above a shard that went away is scanned again."""
    _sharded(tmp_path, *SHARDS)
    files, server = _files()
    await files.scan_all([tmp_path])
    (tmp_path / SHARDS[1]).unlink()
    gone = types.FileEvent(uri=(tmp_path / SHARDS[1]).as_uri(), type=types.FileChangeType.Deleted)
    await files.changed(types.DidChangeWatchedFilesParams(changes=[gone]))
    assert (tmp_path / SHARDS[1]).as_uri() not in server.model_files
    index = _report(server, tmp_path / INDEX)
    assert [(f.rule, f.evidence) for f in index.findings] == [("MH211", SHARDS[1])]


async def test_a_shard_that_appears_later_is_reported_on_itself_only(tmp_path: Path) -> None:
    """The index seen first follows the shard; once the watcher scans the shard, the index drops the copy."""
    _sharded(tmp_path, *SHARDS)
    files, server = _files()
    await files.scan(tmp_path / INDEX)  # nothing else scanned yet: the index follows its shards
    assert any(f.location.member == f"side:{SHARDS[1]}" for f in _report(server, tmp_path / INDEX).findings)
    new = [types.FileEvent(uri=(tmp_path / s).as_uri(), type=types.FileChangeType.Created) for s in SHARDS]
    await files.changed(types.DidChangeWatchedFilesParams(changes=new))
    assert _report(server, tmp_path / SHARDS[1]).verdict is Verdict.MALICIOUS
    assert _report(server, tmp_path / INDEX).findings == [] and _codes(server, tmp_path / INDEX) == []


def test_a_lone_index_still_reports_its_shards_findings(tmp_path: Path) -> None:
    _sharded(tmp_path, *SHARDS)
    report = scan_one(tmp_path / INDEX)
    assert [(f.rule, f.location.member) for f in report.findings if f.rule == "MH101"]
    assert {f.location.member for f in report.findings} == {f"side:{SHARDS[1]}"}
    assert report.verdict is Verdict.MALICIOUS


async def test_a_shard_the_workspace_scan_skips_is_followed_from_the_index(tmp_path: Path) -> None:
    """A shard in a hidden folder (the walk skips it) has no report of its own: the index carries it."""
    hidden = f".shards/{SHARDS[1]}"
    _sharded(tmp_path, SHARDS[0], hidden)
    (tmp_path / ".shards").mkdir()
    (tmp_path / hidden).write_bytes(evil_pickle(2))
    assert tmp_path / hidden not in find_model_files([tmp_path], 100)[0]
    files, server = _files()
    await files.scan_all([tmp_path])
    index = _report(server, tmp_path / INDEX)
    assert any(f.rule == "MH101" and f.location.member == f"side:{hidden}" for f in index.findings)
    assert index.verdict is Verdict.MALICIOUS and "MH101" in _codes(server, tmp_path / INDEX)


async def test_an_edited_index_is_scanned_again_by_the_watcher(tmp_path: Path) -> None:
    _sharded(tmp_path, *SHARDS)
    files, server = _files()
    await files.scan_all([tmp_path])
    assert _report(server, tmp_path / INDEX).findings == []
    missing = "pytorch_model-00009-of-00009.bin"
    (tmp_path / INDEX).write_text(json.dumps({"weight_map": {"a": SHARDS[1], "b": missing}}))
    edit = types.FileEvent(uri=(tmp_path / INDEX).as_uri(), type=types.FileChangeType.Changed)
    await files.changed(types.DidChangeWatchedFilesParams(changes=[edit]))
    assert [(f.rule, f.evidence) for f in _report(server, tmp_path / INDEX).findings] == [("MH211", missing)]
    assert _report(server, tmp_path / SHARDS[1]).verdict is Verdict.MALICIOUS
