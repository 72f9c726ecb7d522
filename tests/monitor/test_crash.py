"""``kill -9`` of ``malhug monitor run`` at several moments, then a restart: the store ends as after an
uninterrupted run, and no finished file analysis (content, salt) is done twice.

The moment is chosen by watching the fake Hub's request log and the store: after the heads were
resolved (discovery), in the middle of a scan (file bytes requested, nothing committed), and after
some scans were committed. The Hub is slowed down on file reads so each moment lasts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from malhug.monitor.store import Database, Store
from tests.fakehub import FakeHub
from tests.hub.payloads import benign_pickle, evil_pickle, torch_zip

N = 5


def _hub(hub: FakeHub) -> str:
    for i in range(N):
        pkl = evil_pickle() if i == 2 else benign_pickle()
        hub.repo(f"org/m{i}").commit({"config.json": "{}", "pytorch_model.bin": torch_zip(pkl, prefix=f"m{i}")})
    return "".join(f"org/m{i}\n" for i in range(N))


def _start(hub: FakeHub, tmp_path: Path, store: Path) -> subprocess.Popen[bytes]:
    repos = tmp_path / "repos.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env |= {"HF_HOME": str(tmp_path / "hf"), "MALHUG_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "malhug", "monitor", "run", "--once", "--repos", str(repos), "--store", str(store),
           "--endpoint", hub.endpoint, "--workers", "1"]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _wait_until(proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, "the run ended before the kill point"
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.02)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its worker processes
    proc.wait(timeout=30)


def _scans(store: Path) -> int:
    if not store.exists():
        return 0
    s = Store(Database(store))
    try:
        return s.counts()["work"].get("done", 0)
    finally:
        s.close()


def _final(store: Path) -> tuple[set[tuple[str, str | None, str | None, str]], dict[str, int]]:
    s = Store(Database(store))
    repos = {(r["id"], r["sha"], r["verdict"], str([(f["path"], f["verdict"]) for f in r["files"]])) for r in s.repos()}
    weights = {k: n for (k, _), n in s.analyses().items() if k.startswith("sha256:")}
    assert s.pending() == 0
    s.close()
    return repos, weights


def _head_lookups(hub: FakeHub) -> int:
    return len([r for r in hub.requests() if r.path.startswith("/api/models/") and "/tree/" not in r.path])


def _file_reads(hub: FakeHub) -> int:
    return len([r for r in hub.requests() if "/resolve/" in r.path or r.server == "cdn"])


KILL_POINTS = {
    "after-discovery": lambda hub, store: _head_lookups(hub) >= N,
    "mid-scan": lambda hub, store: _file_reads(hub) >= 2 and _scans(store) == 0,
    "after-some-scans": lambda hub, store: _scans(store) >= 2,
}


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_kill_9_then_restart_ends_as_an_uninterrupted_run(hub: FakeHub, tmp_path: Path, point: str) -> None:
    (tmp_path / "repos.txt").write_text(_hub(hub))
    reference = tmp_path / "reference.sqlite3"
    proc = _start(hub, tmp_path, reference)
    assert proc.wait(timeout=300) == 1  # one repository turned malicious
    expected, expected_weights = _final(reference)
    assert set(expected_weights.values()) == {1} and len(expected_weights) == N

    hub.clear_log()
    hub.slow_down(0.3, match="/resolve/")
    killed = tmp_path / "killed.sqlite3"
    proc = _start(hub, tmp_path, killed)
    _wait_until(proc, lambda: KILL_POINTS[point](hub, killed))
    _kill(proc)
    hub.slow_down(0)
    proc = _start(hub, tmp_path, killed)
    assert proc.wait(timeout=300) in (0, 1)
    repos, weights = _final(killed)
    assert repos == expected
    assert weights.keys() == expected_weights.keys() and set(weights.values()) == {1}, weights
