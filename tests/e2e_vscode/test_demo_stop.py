"""The demo stops cleanly on SIGTERM and on Ctrl-C, however often the signal comes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WAITER = "import sys; sys.path.insert(0, sys.argv[1]); from demo.run import wait_for_stop; print('ready', flush=True); wait_for_stop()"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_wait_for_stop_returns_on_a_signal(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WAITER, str(ROOT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # inside the wait
        proc.send_signal(sig)
        proc.send_signal(sig)  # a second signal while stopping must not hang it either
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopping" in out + err


def test_the_fake_hub_cli_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakehub", "--root", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("HF_ENDPOINT=http://127.0.0.1:")
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
