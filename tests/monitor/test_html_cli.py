"""``malhug monitor report --format html`` end to end: a monitor run against the fake Hub, then the
page that ``malhug.monitor.html`` renders from the store's report (malicious first, escaped)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from malhug.cli import main
from tests.fakehub import FakeHub
from tests.hub.payloads import benign_pickle, evil_pickle, torch_zip


@pytest.mark.e2e
def test_run_then_html_report(hub: FakeHub, tmp_path: Path) -> None:
    bad = hub.repo("org/bad").commit({"pytorch_model.bin": torch_zip(evil_pickle())})
    hub.repo("org/good").commit({"config.json": "{}", "pytorch_model.bin": torch_zip(benign_pickle())})
    repos = tmp_path / "repos.txt"
    repos.write_text("org/good\norg/bad\n")
    store = str(tmp_path / "m.sqlite3")
    run = ["monitor", "run", "--once", "--repos", str(repos), "--store", store, "--endpoint", hub.endpoint]
    assert main([*run, "--workers", "1"]) == 1
    page = tmp_path / "monitor.html"
    main(["monitor", "report", "--format", "html", "--output", str(page), "--store", store])
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "default-src 'none'" in html
    order = re.findall(r'<section class="repo" data-verdict="(\w+)"[^>]*data-id="([^"]*)"', html)
    assert order == [("malicious", "org/bad"), ("clean", "org/good")]
    assert f"revision <code>{bad}</code>" in html and "pytorch_model.bin" in html
    assert 'name="verdict" value="malicious"' in html
