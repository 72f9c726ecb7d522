"""The side-file and frame evasions of the model benchmark (tests/builders/sidefile_evasions.py) are
caught when the first file of each case is scanned, and their benign look-alikes are clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from malhug.analyzers.api import scan_file
from malhug.core.model import Verdict
from tests.builders.sidefile_evasions import SIDEFILE_EVASIONS, SIDEFILE_LOOKALIKES


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder / next(iter(files))


@pytest.mark.parametrize("name", sorted(SIDEFILE_EVASIONS))
def test_sidefile_evasion_is_malicious(tmp_path: Path, name: str) -> None:
    first = _write(tmp_path, SIDEFILE_EVASIONS[name](tmp_path))
    report = scan_file(first)
    assert report.verdict is Verdict.MALICIOUS, [(f.rule, f.location.member, f.message) for f in report.findings]
    assert any(f.rule in ("MH101", "MH301") for f in report.findings)  # a pickle's call, a Keras Lambda


@pytest.mark.parametrize("name", sorted(SIDEFILE_LOOKALIKES))
def test_sidefile_lookalike_is_clean(tmp_path: Path, name: str) -> None:
    first = _write(tmp_path, SIDEFILE_LOOKALIKES[name](tmp_path))
    report = scan_file(first)
    assert report.verdict is Verdict.CLEAN, [(f.rule, f.location.member, f.message) for f in report.findings]
