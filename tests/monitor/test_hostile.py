"""Hostile repositories in a monitor run: each costs bounded bytes and time, gets a non-clean verdict with
the reason, and the run goes on to the end with the other repositories' verdicts.

The hub layer's own tests (``tests/hub/test_hostile.py``) cover each answer on one scan; these check that
the monitor's pipeline (I/O threads, analysis rounds in the executor, retries of passing trouble,
commits) neither stalls on them nor records them as clean. Cases from the hub-scale campaign in the
MalHug paper's threat model (Zhao et al., ASE 2024): a tree page of a million entries, a redirect loop
on the file reads, a body that never ends, one that trickles (cut by the per-request deadline), a
listing padded past the file limit.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from malhug.hub.bounded import DEFAULT_BOUNDS
from malhug.monitor.run import RunConfig, run_once
from malhug.monitor.store import Database, Store
from tests.fakehub import FakeHub
from tests.hub.payloads import benign_pickle, evil_pickle, torch_zip

pytestmark = pytest.mark.e2e

MiB = 2**20
SHORT = replace(DEFAULT_BOUNDS, deadline=1.0)  # seconds for one request (default 120 s)
ENTRY = b'{"type":"file","path":"a.txt","size":1,"oid":"' + b"a" * 40 + b'"}'


def _million_entry_tree(hub: FakeHub) -> None:
    hub.hostile("answer", match="org/hostile/tree/", body=b"[" + b",".join([ENTRY] * 10**6) + b"]")


def _redirect_loop(hub: FakeHub) -> None:
    hub.hostile("redirect-loop", match="org/hostile/resolve/", location="//")


def _endless_body(hub: FakeHub) -> None:
    hub.hostile("endless", match="org/hostile/resolve", headers={"Content-Length": str(2**62)})


def _slow_body(hub: FakeHub) -> None:  # a byte every 50 ms: cut by the (here 1 s) deadline of one request
    hub.hostile("slow", match="org/hostile/resolve/", body=torch_zip(benign_pickle(), prefix="h"), interval=0.05)


CASES: dict[str, tuple[Callable[[FakeHub], None], str, str]] = {
    # case: (set-up, verdict, words of the reason)
    "million-entry-tree": (_million_entry_tree, "error", "file list"),
    "redirect-loop": (_redirect_loop, "error", "too many redirects"),
    "endless-body": (_endless_body, "suspicious", "MH604"),
    "slow-body": (_slow_body, "error", "took longer than 1s"),
}


def _reason(repo: dict) -> str:  # type: ignore[type-arg]
    parts = [repo.get("error") or "", repo.get("why") or ""]
    for f in repo["files"]:
        parts.append(f.get("error") or "")
        parts += [x["rule"] + " " + x["message"] for x in f.get("findings") or []]
    return " | ".join(parts)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_repository_is_never_clean_and_never_stalls_the_run(hub: FakeHub, tmp_path: Path, case: str) -> None:
    setup, verdict, words = CASES[case]
    good = hub.repo("org/good").commit({"config.json": "{}", "pytorch_model.bin": torch_zip(benign_pickle())})
    bad = hub.repo("org/bad").commit({"pytorch_model.bin": torch_zip(evil_pickle(), prefix="bad")})
    hostile = hub.repo("org/hostile").commit(
        {"config.json": "{}", "pytorch_model.bin": torch_zip(benign_pickle(), prefix="h")}
    )
    setup(hub)
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    names = (("model", "org/good"), ("model", "org/hostile"), ("model", "org/bad"))
    with ThreadPoolExecutor(2) as pool:
        config = RunConfig(store=target, endpoint=hub.endpoint, repos=names, workers=1, max_download=MiB, bounds=SHORT)
        run_once(config, store, pool)
    by_id = {r["id"]: r for r in store.repos()}
    assert store.pending() == 0  # the run ended with nothing left
    assert (by_id["org/good"]["sha"], by_id["org/good"]["verdict"]) == (good, "clean")
    assert (by_id["org/bad"]["sha"], by_id["org/bad"]["verdict"]) == (bad, "malicious")
    got = by_id["org/hostile"]
    assert (got["sha"], got["verdict"]) == (hostile, verdict), _reason(got)
    assert words in _reason(got)
    assert hub.bytes_served(file_only=True, match="org/hostile") < 8 * MiB  # the caps, not the answer
    store.close()


def test_a_listing_padded_past_the_file_limit_is_never_clean(hub: FakeHub, tmp_path: Path) -> None:
    """100,000 padding entries before the payload: the revision is suspicious (MH605), never clean."""
    sha = hub.repo("org/padded").commit({"pytorch_model.bin": torch_zip(evil_pickle())})
    hub.pad_tree(100_000)
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    with ThreadPoolExecutor(1) as pool:
        run_once(
            RunConfig(store=target, endpoint=hub.endpoint, repos=(("model", "org/padded"),), workers=1), store, pool
        )
    (repo,) = store.repos()
    assert (repo["sha"], repo["verdict"]) == (sha, "suspicious")
    assert "MH605 only 100000 entries" in _reason(repo)
    store.close()
