"""``monitor run`` discovering through the fake Hub's own listing (``/api/models``, ``/api/datasets``):
backfill, then an incremental run that fetches only the repository with a new commit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from malhug.hub.http import HubError, HubHttp
from malhug.monitor.run import RunConfig, run_once
from malhug.monitor.store import Database, Store
from tests.fakehub import FakeHub
from tests.hub.payloads import benign_pickle, evil_pickle, torch_zip


def _listing_served(hub: FakeHub) -> bool:
    with HubHttp(hub.endpoint, None) as http:
        try:
            page = http.api("GET", "/api/models", what="listing", params={"limit": 1})
        except HubError:
            return False
    return isinstance(page, list)


@pytest.mark.e2e
def test_backfill_then_incremental_through_the_listing(hub: FakeHub, tmp_path: Path) -> None:
    if not _listing_served(hub):
        pytest.skip("this fake Hub serves no /api/models listing yet")
    for i in range(4):
        hub.repo(f"org/m{i}").commit({"pytorch_model.bin": torch_zip(benign_pickle(), prefix=f"m{i}")})
    hub.repo("org/data", "dataset").commit({"README.md": "# data"})
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    config = RunConfig(store=target, endpoint=hub.endpoint, workers=1)
    with ThreadPoolExecutor(1) as pool:
        first = run_once(config, store, pool)
        assert (first.counters.listed, first.counters.scanned) == (5, 5)
        poisoned = hub.repo("org/m2").commit({"pytorch_model.bin": torch_zip(evil_pickle(), prefix="m2")})
        hub.clear_log()
        second = run_once(config, store, pool)
    assert second.counters.scanned == 1
    assert [(e["id"], e["sha"], e["new_verdict"]) for e in second.events] == [("org/m2", poisoned, "malicious")]
    fetched = {r.path.split("/resolve/")[0] for r in hub.requests() if "/resolve/" in r.path}
    assert fetched == {"/org/m2"}


@pytest.mark.e2e
def test_cli_run_for_an_organisation_records_gated_repos_and_skips_others(hub: FakeHub, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from malhug.cli import main

    hub.repo("org/ok").commit({"pytorch_model.bin": torch_zip(benign_pickle(), prefix="ok")})
    hub.repo("org/gated", gated="manual", tokens=["hf_ok"]).commit({"pytorch_model.bin": b"x"})
    hub.repo("elsewhere/m").commit({"pytorch_model.bin": torch_zip(evil_pickle(), prefix="e")})
    hub.repo("org/data", "dataset").commit({"README.md": "# d"})
    store = str(tmp_path / "m.sqlite3")
    code = main(["monitor", "run", "--once", "--models", "--author", "org", "--store", store,
                 "--endpoint", hub.endpoint, "--workers", "1"])  # fmt: skip
    assert code == 0
    s = Store(Database(store))
    assert {(r["type"], r["id"], r["verdict"], r["state"]) for r in s.repos()} == {
        ("model", "org/ok", "clean", "ok"),
        ("model", "org/gated", None, "gated"),
    }
    assert s.watermarks().keys() == {"model:org"}
    assert not [r for r in hub.requests() if r.path.startswith("/api/models/org/gated")]  # not retried, not asked
