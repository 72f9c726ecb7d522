"""Evasions the peer scanners miss (measured in bench/models/RESULTS.md) must still be reported malicious."""

from __future__ import annotations

from pathlib import Path

import pytest

from malhug.analyzers.api import scan_file
from malhug.core.model import Verdict
from tests.builders import write_all
from tests.builders.evasions import EVASIONS

NAMES = sorted(EVASIONS)


@pytest.fixture(scope="session")
def evasion_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evasions")
    write_all(EVASIONS, root, tmp_path_factory.mktemp("evasions-scratch"))
    return root


@pytest.mark.parametrize("name", NAMES)
def test_evasion_is_malicious(evasion_dir: Path, name: str) -> None:
    report = scan_file(evasion_dir / name)
    summary = [(f.rule, f.severity.value, f.category.value, f.location.member, f.message) for f in report.findings]
    assert report.verdict is Verdict.MALICIOUS, summary
    assert any(f.evidence for f in report.findings if f.severity.rank >= 3), summary
