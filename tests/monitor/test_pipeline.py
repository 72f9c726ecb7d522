"""The monitor pipeline against the fake Hub: queue repo@sha, scan through the executor, commit, events.

Payloads are the defanged pickles of the hub tests (``echo``); the poisoned revision follows the
MalHug paper's finding (Zhao et al., ASE 2024) that malicious models hide in pickle-based weights.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from malhug.monitor.run import RunConfig, run_once
from malhug.monitor.store import Database, Store
from tests.fakehub import FakeHub
from tests.hub.payloads import benign_pickle, evil_pickle, torch_zip


def _config(hub: FakeHub, store: str, **kw: object) -> RunConfig:
    return RunConfig(store=store, endpoint=hub.endpoint, token=None, workers=2, **kw)  # type: ignore[arg-type]


def _hub_with_three(hub: FakeHub) -> dict[str, str]:
    good = hub.repo("org/good").commit({"config.json": "{}", "pytorch_model.bin": torch_zip(benign_pickle())})
    fork = hub.repo("other/fork").commit({"config.json": "{}", "pytorch_model.bin": torch_zip(benign_pickle())})
    bad = hub.repo("org/bad").commit({"pytorch_model.bin": torch_zip(evil_pickle())})
    return {"good": good, "fork": fork, "bad": bad}


NAMES = (("model", "org/good"), ("model", "other/fork"), ("model", "org/bad"), ("model", "org/vanished"))


def test_a_run_scans_each_new_sha_once_and_records_verdicts(hub: FakeHub, tmp_path: Path, store_target: str) -> None:
    """On SQLite and on PostgreSQL."""
    shas = _hub_with_three(hub)
    store = Store(Database(store_target))
    events = tmp_path / "events.jsonl"
    config = _config(hub, store_target, repos=NAMES, events_file=events, io_threads=1)
    with ThreadPoolExecutor(1) as pool:  # one at a time: the fork comes after the original
        result = run_once(config, store, pool)
    by_id = {r["id"]: r for r in store.repos()}
    assert {k: (v["verdict"], v["sha"], v["state"]) for k, v in by_id.items()} == {
        "org/good": ("clean", shas["good"], "ok"),
        "other/fork": ("clean", shas["fork"], "ok"),
        "org/bad": ("malicious", shas["bad"], "ok"),
        "org/vanished": (None, None, "vanished"),
    }
    assert "repository not found" in store.state_of("model", "org/vanished")[1]  # type: ignore[index]
    bad_file = by_id["org/bad"]["files"][0]
    assert bad_file["path"] == "pytorch_model.bin" and bad_file["verdict"] == "malicious"
    (line,) = events.read_text().splitlines()
    assert json.loads(line) | {"seq": 0, "at": 0} == {
        "seq": 0,
        "at": 0,
        "kind": "verdict-changed",
        "type": "model",
        "id": "org/bad",
        "sha": shas["bad"],
        "old_verdict": None,
        "new_verdict": "malicious",
        "detail": json.dumps({"previous_sha": None, "by": "scan"}),
    }
    assert (result.counters.scanned, result.counters.planned) == (3, 3)

    # The fork's weights (same content) were analyzed once: their verdict came from the store. (Configs
    # are read by every scan: they decide which code loading runs.)
    weights = {key: n for (key, _), n in store.analyses().items() if key.startswith("sha256:")}
    assert len(weights) == 2 and set(weights.values()) == {1}
    hub.clear_log()
    with ThreadPoolExecutor(2) as pool:
        again = run_once(config, store, pool)
    assert again.counters.scanned == 0 and again.events == []
    assert not [r for r in hub.requests() if "/resolve/" in r.path or r.server == "cdn"]


def test_a_new_poisoned_revision_is_an_event_and_a_fix_another(hub: FakeHub, tmp_path: Path) -> None:
    repo = hub.repo("org/m")
    repo.commit({"pytorch_model.bin": torch_zip(benign_pickle())})
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    config = _config(hub, target, repos=(("model", "org/m"),))
    with ThreadPoolExecutor(1) as pool:
        assert run_once(config, store, pool).events == []
        poisoned = repo.commit({"pytorch_model.bin": torch_zip(evil_pickle())})
        hub.clear_log()
        (flagged,) = run_once(config, store, pool).events
        # Two API calls: the head (a listing gives it for free) and the tree; no revision lookup,
        # no paths-info.
        api = [r.path for r in hub.requests() if r.path.startswith("/api/")]
        assert api == ["/api/models/org/m", f"/api/models/org/m/tree/{poisoned}"], api
        fixed = repo.commit({"pytorch_model.bin": torch_zip(benign_pickle(), prefix="fixed")})
        (cleaned,) = run_once(config, store, pool).events
    assert (flagged["sha"], flagged["old_verdict"], flagged["new_verdict"]) == (poisoned, "clean", "malicious")
    assert (cleaned["sha"], cleaned["old_verdict"], cleaned["new_verdict"]) == (fixed, "malicious", "clean")


@pytest.mark.e2e
def test_the_default_process_pool_gives_the_same_verdicts(hub: FakeHub, tmp_path: Path) -> None:
    from malhug.monitor.executor import open_executor

    _hub_with_three(hub)
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    with open_executor("local", 2) as pool:
        run_once(_config(hub, target, repos=NAMES[:3]), store, pool)
    assert {r["id"]: r["verdict"] for r in store.repos()} == {
        "org/good": "clean",
        "other/fork": "clean",
        "org/bad": "malicious",
    }


@pytest.mark.e2e
def test_a_dask_local_cluster_gives_the_same_verdicts_as_the_process_pool(hub: FakeHub, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from malhug.monitor.executor import open_executor

    _hub_with_three(hub)
    verdicts = {}
    for kind in ("local", "dask-local"):
        target = str(tmp_path / f"{kind}.sqlite3")
        store = Store(Database(target))
        with open_executor(kind, 2) as executor:
            run_once(_config(hub, target, repos=NAMES), store, executor)
        verdicts[kind] = {(r["id"], r["sha"], r["verdict"], r["state"]) for r in store.repos()}
        store.close()
    assert verdicts["dask-local"] == verdicts["local"]
    assert {(i, v, s) for i, _, v, s in verdicts["local"]} == {
        ("org/good", "clean", "ok"),
        ("other/fork", "clean", "ok"),
        ("org/bad", "malicious", "ok"),
        ("org/vanished", None, "vanished"),
    }


def test_a_hostile_repo_costs_bounded_bytes_gets_a_non_clean_verdict_and_the_run_goes_on(
    hub: FakeHub, tmp_path: Path
) -> None:
    shas = _hub_with_three(hub)
    hostile = hub.repo("org/hostile").commit({"pytorch_model.bin": torch_zip(benign_pickle(), prefix="h")})
    # A server that ignores Range and sends the weights without end (CDN or resolve).
    hub.hostile("endless", match="org/hostile/resolve", headers={"Content-Length": str(2**62)})
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    names = (*NAMES[:3], ("model", "org/hostile"))
    with ThreadPoolExecutor(2) as pool:
        run_once(_config(hub, target, repos=names, max_download=1 << 20), store, pool)
    by_id = {r["id"]: r for r in store.repos()}
    assert by_id["org/bad"]["verdict"] == "malicious" and by_id["org/good"]["sha"] == shas["good"]
    bad = by_id["org/hostile"]
    assert (bad["sha"], bad["verdict"]) == (hostile, "suspicious")
    (weights,) = bad["files"]  # the body was cut at the listed size and did not match its id
    assert weights["path"] == "pytorch_model.bin" and [f["rule"] for f in weights["findings"]] == ["MH604"]
    assert hub.bytes_served(file_only=True) < 8 << 20  # the download cap, not the endless body


def test_webhook_work_is_scanned_by_the_next_run_and_on_event_gets_the_json(hub: FakeHub, tmp_path: Path) -> None:
    import shlex
    import sys

    sha = hub.repo("org/pushed").commit({"pytorch_model.bin": torch_zip(evil_pickle(), prefix="p")})
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    assert store.enqueue("model", "org/pushed", sha, "webhook") is True
    got = tmp_path / "got.json"
    script = f"import sys; open({str(got)!r}, 'w').write(sys.stdin.read())"
    on_event = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    with ThreadPoolExecutor(1) as pool:
        result = run_once(_config(hub, target, repos=(), on_event=on_event), store, pool)
    assert result.counters.scanned == 1
    event = json.loads(got.read_text())
    assert (event["id"], event["sha"], event["new_verdict"], event["kind"]) == (
        "org/pushed",
        sha,
        "malicious",
        "verdict-changed",
    )


@pytest.mark.e2e
def test_an_existing_dask_scheduler_by_address(hub: FakeHub, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from malhug.monitor.executor import open_executor

    _hub_with_three(hub)
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        with open_executor(f"dask://{address}", 1) as executor:
            run_once(_config(hub, target, repos=NAMES[:3]), store, executor)
    assert {r["id"]: r["verdict"] for r in store.repos()} == {
        "org/good": "clean",
        "other/fork": "clean",
        "org/bad": "malicious",
    }


def test_a_repo_gone_before_its_scan_is_recorded_vanished_not_in_error(hub: FakeHub, tmp_path: Path) -> None:
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    store.enqueue("model", "org/deleted", "e" * 40, "webhook")
    with ThreadPoolExecutor(1) as pool:
        result = run_once(_config(hub, target, repos=()), store, pool)
    (repo,) = store.repos()
    assert (repo["state"], repo["verdict"], repo["sha"]) == ("vanished", None, None)
    assert "repository not found" in repo["why"]
    assert store.pending() == 0 and result.events == []
