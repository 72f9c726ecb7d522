"""Regression over the 91 real-world malicious model repositories (defanged reproductions).

Every file is built by code into a temporary folder (once per session), scanned through the public
API and must be: verdict ``malicious``; the most specific category among the worst findings equal
to the one docs/CATEGORIES.md assigns; the worst finding located in the expected member.
"""

from __future__ import annotations

import io
import json
import os
import pickletools
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from malhug.analyzers.api import scan_file
from malhug.analyzers.shared.embedded import most_specific
from malhug.core.model import Category, FileReport, Finding, Verdict
from tests.corpus.expected import ANY, NAMED, ROWS, TOP, Artifact, artifacts

CASES = artifacts()


def test_table_covers_every_model_row() -> None:
    assert len(ROWS) == 91
    assert len({row.repo for row in ROWS}) == 91
    for _, art in CASES:
        assert Category(art.category)  # a category from the closed list
        assert art.why


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    for case_id, art in CASES:
        path = root / case_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(art.build())
    return root


def worst(report: FileReport) -> list[Finding]:
    top = max((f.severity.rank for f in report.findings), default=-1)
    return [f for f in report.findings if f.severity.rank == top]


def describe(report: FileReport) -> str:
    return "; ".join(
        f"{f.rule}/{f.severity.value}/{f.category.value}@{f.location.member}:{f.location.offset} {f.message}"
        for f in report.findings
    )


def check_member(art: Artifact, findings: list[Finding]) -> None:
    members = [f.location.member for f in findings]
    if art.member == ANY:
        return
    if art.member == TOP:
        assert any(not m for m in members), f"expected a finding in the top-level stream, got members {members}"
    elif art.member == NAMED:
        assert all(m for m in members), f"expected the finding to name its member, got {members}"
    else:
        assert any(m and art.member in m.split(":") for m in members), f"expected member {art.member}, got {members}"


@pytest.mark.parametrize(("case_id", "art"), CASES, ids=[c for c, _ in CASES])
def test_corpus_file_is_malicious_with_expected_category(corpus_dir: Path, case_id: str, art: Artifact) -> None:
    report = scan_file(corpus_dir / case_id)
    assert report.error is None, report.error
    assert report.verdict is Verdict.MALICIOUS, f"{art.style}: {describe(report)}"
    top = worst(report)
    got = most_specific({f.category for f in top})
    assert got is Category(art.category), f"{art.style}: expected {art.category} ({art.why}); got {describe(report)}"
    matching = [f for f in top if f.category is Category(art.category)]
    check_member(art, matching)
    assert any(art.evidence in f.evidence for f in matching), (
        f"expected the {art.category} finding to quote {art.evidence!r}; got {[f.evidence[:200] for f in matching]}"
    )
    if art.style.startswith(PICKLE_STYLES):
        stream = pickle_stream(corpus_dir / case_id, art.member)
        offsets = call_opcode_offsets(stream)
        assert any(f.location.offset in offsets for f in matching), (
            f"expected an offset at a call/import opcode of the payload, got {[f.location.offset for f in matching]}"
        )


PICKLE_STYLES = ("pytorch-zip", "plain pickle", "extracted torch", "legacy torch", "cloudpickle")
CALL_OPCODES = {"REDUCE", "GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "BUILD"}


def pickle_stream(path: Path, member: str) -> bytes:
    """The pickle bytes the offsets refer to: the zip member, or the whole file (our own fixture)."""
    data = path.read_bytes()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.read(member)
    return data


def call_opcode_offsets(stream: bytes) -> set[int]:
    """Offsets of call/import opcodes in the stacked pickles at the start of ``stream`` (parsed with
    pickletools, never loaded)."""
    offsets: set[int] = set()
    buf = io.BytesIO(stream)
    for _ in range(5):  # a legacy checkpoint stacks up to five pickles before its raw storages
        start = buf.tell()
        if start >= len(stream):
            break
        try:
            for op, _arg, pos in pickletools.genops(buf):
                if op.name in CALL_OPCODES and pos is not None:
                    offsets.add(pos)
        except ValueError:
            buf.seek(start)
            break
    return offsets


CLI_SUBSET = [
    "star23/baller10/pytorch_model.bin",
    "moom825/testing/mal.pkl",
    "mkiani/keras-unsafe-models/unsafe_model.h5",
    "mkiani/keras-unsafe-models/unsafe_model.keras",
    "mastersplinter/infected_test/keras_metadata.pb",
    "zpbrent/reuse/vocab.pkl",
    "coldwaterq/sectest/fickling_system_calc.pt",
]


@pytest.mark.e2e
def test_cli_json_on_a_subset(corpus_dir: Path, tmp_path: Path) -> None:
    subset = tmp_path / "subset"
    for case_id in CLI_SUBSET:
        dest = subset / case_id
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes((corpus_dir / case_id).read_bytes())
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "malhug", "scan", str(subset), "--format", "json", "--offline"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["tool"]["name"] == "malhug"
    assert report["verdict"] == "malicious"
    assert set(report["stats"]) >= {"files", "bytes_read", "seconds"}
    assert report["stats"]["files"] == len(CLI_SUBSET)
    by_path = {Path(f["path"]).relative_to(subset).as_posix(): f for f in report["files"]}
    assert set(by_path) == set(CLI_SUBSET)
    expected = dict(CASES)
    for case_id, entry in by_path.items():
        assert set(entry) >= {"path", "format", "sha256", "verdict", "findings", "error"}
        assert entry["verdict"] == "malicious", (case_id, entry["findings"])
        assert len(entry["sha256"]) == 64
        for f in entry["findings"]:
            assert set(f) >= {"rule", "severity", "category", "message", "location", "evidence"}
            assert f["rule"].startswith("MH") and len(f["rule"]) == 5
            assert set(f["location"]) >= {"member", "offset", "line", "column"}
        top_rank = {"critical": 4, "high": 3}
        best = max(top_rank.get(f["severity"], 0) for f in entry["findings"])
        cats = {Category(f["category"]) for f in entry["findings"] if top_rank.get(f["severity"], 0) == best}
        assert most_specific(cats) is Category(expected[case_id].category), (case_id, entry["findings"])
