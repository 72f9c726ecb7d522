"""The monitor against the fake Hub's rate limits and webhooks (``hub.rate_limit``, ``hub.webhook``).

Budget: with ``--api-budget 0.5`` a run never uses more than half of what ``RateLimit-Policy`` allows
in any window, so the Hub never answers 429. Webhooks: the Hub's own POST on a commit, through
``monitor webhook``, queues the new sha, and the next run scans it.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from malhug.monitor.run import RunConfig, run_once
from malhug.monitor.store import Database, Store
from malhug.monitor.webhook import make_server
from tests.fakehub import FakeHub
from tests.hub.payloads import benign_pickle, evil_pickle, torch_zip

WINDOW = 2.0


@pytest.mark.e2e
@pytest.mark.slow
def test_the_api_budget_is_never_exceeded_and_the_hub_never_answers_429(hub: FakeHub, tmp_path: Path) -> None:
    for i in range(14):
        hub.repo(f"org/m{i}").commit({"pytorch_model.bin": torch_zip(benign_pickle(), prefix=f"m{i}")})
    hub.rate_limit(api=12, resolvers=1000, window=WINDOW)
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    config = RunConfig(store=target, endpoint=hub.endpoint, repo_types=("model",), workers=2, api_budget=0.5)
    with ThreadPoolExecutor(2) as pool:
        result = run_once(config, store, pool)
    assert result.counters.scanned == 14 and result.counters.errors == 0
    assert hub.totals()["rate_limited"] == 0
    api = [r for r in hub.requests() if r.path.startswith("/api/")]
    assert len(api) == 15  # the listing and one tree per repository: more than one window's share
    per_window = Counter(math.floor(r.started / WINDOW) for r in api)
    assert max(per_window.values()) <= 6, per_window  # half of q=12


@pytest.mark.e2e
def test_a_hub_webhook_queues_the_new_commit_for_the_next_run(hub: FakeHub, tmp_path: Path) -> None:
    repo = hub.repo("org/m")
    repo.commit({"pytorch_model.bin": torch_zip(benign_pickle())})
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    server = make_server(store, "hook-secret", "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hub.webhook(f"http://127.0.0.1:{server.server_address[1]}/", "wrong-secret")
        hub.webhook(f"http://127.0.0.1:{server.server_address[1]}/", "hook-secret")
        poisoned = repo.commit({"pytorch_model.bin": torch_zip(evil_pickle())})
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(d.status for d in hub.webhook_deliveries()) == [202, 401]
    assert store.pending() == 1
    with ThreadPoolExecutor(1) as pool:
        result = run_once(RunConfig(store=target, endpoint=hub.endpoint, repos=(), workers=1), store, pool)
    assert [(e["id"], e["sha"], e["new_verdict"]) for e in result.events] == [("org/m", poisoned, "malicious")]
