"""``make demo`` for a real user: fixed ports (an open tab survives a restart), edits that survive a
restart, apt-get announced before it runs, and the demo Hub usable from the CLI. Unit level: no
browser, no code-server."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from demo import start
from demo.hubcontent import build
from demo.run import ROOT, hub_references


def test_ports_are_fixed_by_default() -> None:
    assert start.choose_port(start.EDITOR_PORT, "editor", is_free=lambda p: True) == start.Port(start.EDITOR_PORT, None)
    assert start.EDITOR_PORT != start.HUB_PORT
    help_text = subprocess.run(
        [sys.executable, str(ROOT / "demo" / "run.py"), "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert f"default: {start.EDITOR_PORT}" in help_text and f"default: {start.HUB_PORT}" in help_text


def test_a_busy_port_falls_back_with_a_clear_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        chosen = start.choose_port(busy, "editor")
    assert chosen.number not in (busy, 0)
    assert chosen.note is not None
    assert chosen.note.startswith(f"port {busy} for the editor is busy (is another demo still running?); ")
    assert f"using {chosen.number} for this run" in chosen.note


def test_edits_survive_a_restart_and_reset_starts_over(tmp_path: Path) -> None:
    first = build(tmp_path)
    script = Path(first.workspace) / "train.py"
    original = script.read_text()
    script.write_text(original + "\n# my edit\n")
    (Path(first.workspace) / "notes.txt").write_text("mine")
    again = build(tmp_path)
    assert again.workspace == first.workspace
    assert script.read_text().endswith("# my edit\n") and (Path(again.workspace) / "notes.txt").read_text() == "mine"
    assert again.pinnable_clean_sha == first.pinnable_clean_sha  # the hub content is the same each start

    done = subprocess.run(
        [sys.executable, str(ROOT / "demo" / "run.py"), "--reset", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "the next `make demo` starts afresh" in done.stderr
    fresh = build(tmp_path)
    assert script.read_text() == original and not (Path(fresh.workspace) / "notes.txt").exists()


def test_apt_get_is_announced_with_the_reason() -> None:
    packages = start.apt_packages(ROOT / "tools" / "setup-editor.sh")
    assert "chromium" in packages
    notice = start.apt_notice(packages, installed=lambda p: p != "chromium")
    assert notice is not None
    assert notice.startswith("the editor set-up (tools/setup-editor.sh) will now run apt-get to install")
    assert "packages chromium:" in notice and "make demo-text" in notice
    assert start.apt_notice(packages, installed=lambda p: True) is None


def test_hub_only_prints_the_cli_lines(tmp_path: Path) -> None:
    manifest = build(tmp_path)
    lines = start.hub_commands(hub_references(manifest), "http://127.0.0.1:47111")
    assert lines[0] == f"HF_ENDPOINT=http://127.0.0.1:47111 .venv/bin/malhug scan hf:{manifest.clean}"
    assert any(line.endswith(f"hf:datasets/{manifest.dataset}") for line in lines)


def test_make_targets_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "\ndemo-hub: " in makefile and "--hub-only" in makefile
    assert "\ndemo-reset: " in makefile and "--reset" in makefile


@pytest.mark.e2e  # starts the demo Hub's HTTP servers in a child process
def test_demo_hub_alone_serves_the_cli(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "demo" / "run.py"), "--hub-only", "--hub-port", "0", "--workdir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = ""
        for _ in range(20):
            line = proc.stdout.readline().strip()
            if line.startswith("HF_ENDPOINT="):
                break
        assert re.fullmatch(r"HF_ENDPOINT=http://127\.0\.0\.1:\d+ \.venv/bin/malhug scan hf:\S+", line), line
        endpoint = line.split()[0].split("=", 1)[1]
        done = subprocess.run(
            [sys.executable, "-m", "malhug", "scan", "--no-cache", "--format", "json", line.split()[-1]],
            capture_output=True,
            text=True,
            check=False,
            env={
                **{k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN")},
                "HF_ENDPOINT": endpoint,
                "MALHUG_CACHE_DIR": str(tmp_path / "cache"),
            },
            timeout=120,
        )
        assert done.returncode == 0 and json.loads(done.stdout)["verdict"] == "clean", done.stderr
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
