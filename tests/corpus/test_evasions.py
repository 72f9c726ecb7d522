"""Evasions the peer scanners miss (NOTES.md) must still be reported malicious."""

from __future__ import annotations

from pathlib import Path

import pytest

from malhug.analyzers.api import scan_file
from malhug.core.model import Verdict
from tests.builders.evasions import EVASIONS

NAMES = sorted(EVASIONS)


@pytest.fixture(scope="session")
def evasion_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evasions")
    scratch = tmp_path_factory.mktemp("evasions-scratch")
    for name in NAMES:
        (root / name).write_bytes(EVASIONS[name](scratch))
    return root


@pytest.mark.parametrize("name", NAMES)
def test_evasion_is_malicious(evasion_dir: Path, name: str) -> None:
    report = scan_file(evasion_dir / name)
    summary = [(f.rule, f.severity.value, f.category.value, f.location.member, f.message) for f in report.findings]
    assert report.verdict is Verdict.MALICIOUS, summary
    assert any(f.evidence for f in report.findings if f.severity.rank >= 3), summary
