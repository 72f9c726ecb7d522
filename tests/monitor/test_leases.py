"""Short leases renewed by a heartbeat: two runners on one store (SQLite and PostgreSQL).

- One runner is killed with SIGKILL in the middle of a scan while the other runs: the other takes the
  dead runner's work once its lease expires (it cannot know the runner is dead: it started while the
  runner lived, as on another machine) and finishes everything; no finished analysis is done twice.
- A runner whose scans last longer than its lease keeps its work: no item is ever claimed twice.

Leases are 2-3 s here (``--lease 2s``, renewed every 0.5 s) so the tests wait seconds, not a minute; the
tests wait for states of the store and the fake Hub, never assert on elapsed time.
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

from malhug.monitor.lease import Heartbeat, LeaseTerms
from malhug.monitor.store import Database, Store
from tests.fakehub import FakeHub
from tests.hub.payloads import benign_pickle, evil_pickle, torch_zip

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _hub(hub: FakeHub, n: int) -> str:
    for i in range(n):
        pkl = evil_pickle() if i == 1 else benign_pickle()
        files = {"config.json": "{}", "pytorch_model.bin": torch_zip(pkl, prefix=f"m{i}")}
        files["extra/model.pt"] = torch_zip(benign_pickle(), prefix=f"x{i}")
        hub.repo(f"org/m{i}").commit(files)
    return "".join(f"org/m{i}\n" for i in range(n))


def _start(hub: FakeHub, tmp_path: Path, store: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env |= {"HF_HOME": str(tmp_path / "hf"), "MALHUG_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "malhug", "monitor", "run", "--once", "--repos", str(tmp_path / "repos.txt"),
           "--store", store, "--endpoint", hub.endpoint, "--workers", "1", "--io-threads", "1", *extra]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _wait_until(ready: Callable[[], bool], procs: list[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert all(p.poll() is None for p in procs), "a runner ended before the moment looked for"
        assert time.monotonic() < deadline, "the moment looked for never came"
        time.sleep(0.02)


def _work(store: str) -> list[tuple[str, str | None, int, int]]:
    s = Store(Database(store))
    try:
        with s.db.tx() as cur:
            rows = cur.execute("SELECT repo_id, lease_owner, attempts, done FROM work ORDER BY repo_id").fetchall()
        return [(str(r), o, int(a), int(d)) for r, o, a, d in rows]
    finally:
        s.close()


def _held_by(store: str, proc: subprocess.Popen[bytes]) -> set[str]:
    return {repo for repo, owner, _, done in _work(store) if not done and owner and f":{proc.pid}:" in owner}


def _final(store: str) -> tuple[dict[str, str | None], dict[str, int]]:
    s = Store(Database(store))
    try:
        assert s.pending() == 0
        verdicts = {r["id"]: r["verdict"] for r in s.repos()}
        return verdicts, {k: n for (k, _), n in s.analyses().items() if k.startswith("sha256:")}
    finally:
        s.close()


EXPECTED = {f"org/m{i}": "malicious" if i == 1 else "clean" for i in range(6)}


def test_a_runner_killed_mid_scan_loses_its_work_to_the_other_within_a_lease(
    hub: FakeHub, tmp_path: Path, store_target: str
) -> None:
    (tmp_path / "repos.txt").write_text(_hub(hub, 6))
    hub.slow_down(0.4, match="/resolve/")
    a = _start(hub, tmp_path, store_target, "--lease", "2s")
    _wait_until(lambda: bool(_held_by(store_target, a)) and hub.bytes_served(file_only=True) > 0, [a])
    b = _start(hub, tmp_path, store_target, "--lease", "2s")
    _wait_until(lambda: bool(_held_by(store_target, b)) and bool(_held_by(store_target, a)), [a, b])
    orphaned = _held_by(store_target, a)  # mid-scan: claimed, not committed
    os.killpg(a.pid, signal.SIGKILL)
    a.wait(timeout=30)
    hub.slow_down(0)
    assert b.wait(timeout=300) == 1  # b finished everything, a's work too; one repository is malicious
    verdicts, analyses = _final(store_target)
    assert verdicts == EXPECTED
    assert len(analyses) == 12 and set(analyses.values()) == {1}  # no finished analysis done twice
    work = {repo: (owner, attempts, done) for repo, owner, attempts, done in _work(store_target)}
    assert orphaned and all(work[r] == (None, 2, 1) for r in orphaned)  # claimed again once, then done


def test_a_slow_but_live_runner_keeps_its_leases(hub: FakeHub, tmp_path: Path, store_target: str) -> None:
    """Each scan outlasts the 3 s lease (three slow reads of 1.5 s); the heartbeat renews every 0.75 s."""
    (tmp_path / "repos.txt").write_text(_hub(hub, 6))
    hub.slow_down(1.5, match="/resolve/")
    a = _start(hub, tmp_path, store_target, "--lease", "3s")
    _wait_until(lambda: bool(_held_by(store_target, a)), [a])
    b = _start(hub, tmp_path, store_target, "--lease", "3s")
    assert a.wait(timeout=300) in (0, 1) and b.wait(timeout=300) in (0, 1)
    verdicts, analyses = _final(store_target)
    assert verdicts == EXPECTED
    assert set(analyses.values()) == {1}
    assert {attempts for _, _, attempts, _ in _work(store_target)} == {1}  # nothing was ever claimed twice


class _Renewals:
    def __init__(self, fail: int = 0) -> None:
        self.calls: list[tuple[str, float]] = []
        self.fail = fail

    def renew(self, owner: str, lease_s: float) -> None:
        self.calls.append((owner, lease_s))
        if len(self.calls) <= self.fail:
            raise OSError("store unreachable")


def test_the_heartbeat_renews_for_the_whole_lease_and_survives_a_failed_beat() -> None:
    store = _Renewals(fail=1)
    beat = Heartbeat(store, "host:1:abc", LeaseTerms(lease_s=0.2))
    assert beat.terms.heartbeat_s == pytest.approx(0.05)
    beat.start()
    deadline = time.monotonic() + 30
    while beat.beats < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    beat.stop()  # joins the thread: no renewal after it
    assert beat.failures == 1 and store.calls[:2] == [("host:1:abc", 0.2), ("host:1:abc", 0.2)]
    assert len(store.calls) == beat.beats + beat.failures
