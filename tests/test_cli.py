"""The command line contract of docs/CLI.md: targets, formats, exit codes, --fail-on, --output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from malhug import cli
from malhug.analyzers import formats
from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import DEFAULT_LIMITS, Limits
from malhug.analyzers.shared.source import ByteSource
from malhug.core.model import Location, Severity
from malhug.core.rules import finding

MAGIC = b"\x93MALHUG-TEST"


def _fake_analyzer(ctx: ScanContext, src: ByteSource) -> None:
    """Stands in for a real analyzer so these tests exercise only the CLI plumbing."""
    body = src.read_at(0, src.size)
    level = body[len(MAGIC) :].strip().decode()
    if level:
        ctx.add(
            finding(
                "MH901", f"test finding {level}", location=Location(offset=3), evidence="ev", severity=Severity(level)
            )
        )


@pytest.fixture
def fake_format(monkeypatch: pytest.MonkeyPatch) -> None:
    import malhug.analyzers.dispatch as dispatch

    real_detect = dispatch.detect_analyses

    def detect(src: ByteSource, name: str = "", limits: Limits = DEFAULT_LIMITS) -> list[str]:
        return ["test-format"] if src.read_at(0, len(MAGIC)) == MAGIC else real_detect(src, name, limits)

    monkeypatch.setattr(dispatch, "detect_analyses", detect)
    monkeypatch.setitem(formats.ANALYZERS, "test-format", "tests.test_cli:_fake_analyzer")


def _write(tmp_path: Path, name: str, level: str) -> Path:
    p = tmp_path / name
    p.write_bytes(MAGIC + level.encode())
    return p


def test_clean_file_exits_0(tmp_path: Path, fake_format: None, capsys: pytest.CaptureFixture[str]) -> None:
    p = _write(tmp_path, "a.bin", "")
    assert cli.main(["scan", str(p)]) == 0
    assert "CLEAN" in capsys.readouterr().out


def test_high_finding_exits_1_and_json_follows_design(
    tmp_path: Path, fake_format: None, capsys: pytest.CaptureFixture[str]
) -> None:
    p = _write(tmp_path, "a.bin", "high")
    assert cli.main(["scan", str(p), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["tool"]["name"] == "malhug"
    assert data["verdict"] == "malicious"
    (file,) = data["files"]
    assert file["path"] == str(p) and file["format"] == "test-format" and file["error"] is None
    assert len(file["sha256"]) == 64
    (f,) = file["findings"]
    assert f == {
        "rule": "MH901",
        "severity": "high",
        "category": "malformed",
        "message": "test finding high",
        "location": {"member": None, "offset": 3, "line": None, "column": None},
        "evidence": "ev",
    }
    assert data["stats"]["files"] == 1 and data["stats"]["bytes_read"] > 0


def test_fail_on_threshold(tmp_path: Path, fake_format: None, capsys: pytest.CaptureFixture[str]) -> None:
    low = _write(tmp_path, "low.bin", "low")
    assert cli.main(["scan", str(low)]) == 0  # a low note leaves the file clean
    assert cli.main(["scan", str(low), "--fail-on", "low"]) == 1
    medium = _write(tmp_path, "medium.bin", "medium")
    assert cli.main(["scan", str(medium)]) == 1
    assert cli.main(["scan", str(medium), "--fail-on", "high"]) == 0


def test_folder_is_scanned_recursively_and_output_file_written(tmp_path: Path, fake_format: None) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    _write(tmp_path / "sub" / "deeper", "weights.txt", "critical")
    _write(tmp_path, "ok.bin", "")
    out = tmp_path / "report.json"
    assert cli.main(["scan", str(tmp_path / "sub"), str(tmp_path / "ok.bin"), "--format", "json", "-o", str(out)]) == 1
    data = json.loads(out.read_text())
    verdicts = {Path(f["path"]).name: f["verdict"] for f in data["files"]}
    assert verdicts == {"weights.txt": "malicious", "ok.bin": "clean"}


def test_sarif_is_2_1_0_with_rule_metadata(
    tmp_path: Path, fake_format: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # locations are relative to the working directory (no .git above it)
    p = _write(tmp_path, "a.bin", "critical")
    assert cli.main(["scan", str(p), "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["id"] == "MH901" and rule["helpUri"].endswith("#mh901")
    assert rule["properties"]["security-severity"]
    (result,) = run["results"]
    assert result["ruleId"] == "MH901" and result["level"] == "error" and result["ruleIndex"] == 0
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "a.bin", "uriBaseId": "%SRCROOT%"}
    assert result["properties"]["category"] == "malformed"


def test_unreadable_targets_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scan", str(tmp_path / "missing.bin")]) == 2
    assert "no such file" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scan"]) == 2
    assert cli.main(["scan", "x", "--format", "xml"]) == 2
    assert cli.main(["frobnicate"]) == 2


def test_rules_markdown_is_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    # docs/RULES.md adds where each rule fires and its tests (tools/rules_doc.py, tests/test_rule_catalog.py);
    # `malhug rules --markdown` gives users the catalog alone: a table row and a section per rule.
    from malhug.core.rules import CATALOG

    assert cli.main(["rules", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# MalHug rules\n") and "| id | title | default severity | default category |\n" in out
    for rid in CATALOG:
        rule = CATALOG[rid]
        assert f"| [{rid}](#{rid.lower()}) | {rule.title} | {rule.severity.value} | {rule.category.value} |\n" in out
        assert f"\n## {rid}\n" in out


def test_console_script_runs_as_module(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "malhug", "rules"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "MH901" in proc.stdout


def test_large_files_are_not_hashed_unless_asked(tmp_path: Path, fake_format: None) -> None:
    from malhug.analyzers.dispatch import scan_file

    p = _write(tmp_path, "big.bin", "")
    assert scan_file(p, hash_limit=4).sha256 is None  # larger than the limit: the scan does not read it all
    report = scan_file(p, hash_limit=None)
    assert report.sha256 is not None and len(report.sha256) == 64
    assert scan_file(p, hash_file=False).sha256 is None
