"""Discovery from the listing: newest first down to the watermark, queue only new shas, record why
repositories cannot be scanned; and the shared rate budget (``ratelimit`` headers, 429)."""

from __future__ import annotations

import pytest

from malhug.hub.budget import call_bucket, parse_policy, parse_standing
from malhug.hub.http import HubHttp
from malhug.monitor.budget import SharedBudget
from malhug.monitor.discover import discover_listing, read_repo_list
from malhug.monitor.store import Store
from tests.monitor.listingserver import Listing, listing_server


def _model(i: int, day: int, **extra: object) -> dict[str, object]:
    return {"id": f"org/m{i}", "sha": f"{i:040x}", "lastModified": f"2026-11-{day:02d}T00:00:00.000Z", **extra}


def test_backfill_then_incremental_reads_down_to_the_watermark(store: Store) -> None:
    listing = Listing(
        models=[
            _model(5, 20),
            _model(4, 19, gated="manual"),
            _model(3, 18, disabled=True),
            _model(2, 17, private=True),
            _model(1, 16),
        ]
    )
    with listing_server(listing) as endpoint, HubHttp(endpoint, None) as http:
        found = discover_listing(http, store, "model")
        assert (found.listed, found.queued) == (5, 2)
        assert found.unreadable == {"gated": 1, "disabled": 1, "private": 1}
        assert store.watermarks() == {"model:*": "2026-11-20T00:00:00.000Z"}
        path, query = listing.seen[0]
        assert path == "/api/models" and query["sort"] == ["lastModified"]
        assert set(query["expand"]) == {"sha", "lastModified", "private", "gated", "disabled"}
        assert len(listing.seen) == 3  # 5 entries, 2 a page, Link followed

        # One repository changed: the next run reads one page and queues only it.
        listing.models = [_model(1, 22) | {"sha": "f" * 40}] + listing.models[:-1]
        listing.seen.clear()
        again = discover_listing(http, store, "model")
        assert (again.listed, again.queued) == (2, 1)  # stops below the watermark (minus the margin)
        assert len(listing.seen) == 2  # the second page holds the first entry older than that: no third
    assert store.state_of("model", "org/m4") == ("gated", "gated (manual): its files need accepted conditions")
    assert store.state_of("model", "org/m3")[0] == "disabled"  # type: ignore[index]
    assert store.pending() == 3


def test_an_old_listing_entry_below_the_watermark_ends_the_read(store: Store) -> None:
    store.set_watermark("model:*", "2026-11-20T00:00:00.000Z")
    listing = Listing(models=[_model(9, 21), _model(8, 19), _model(7, 10)], page=1)
    with listing_server(listing) as endpoint, HubHttp(endpoint, None) as http:
        found = discover_listing(http, store, "model")
    assert found.listed == 1 and len(listing.seen) == 2  # the second page was already too old


def test_rate_limit_headers_set_the_shared_quota_and_429_waits(store: Store) -> None:
    naps: list[float] = []
    budget = SharedBudget(store, 0.5, sleep=naps.append)
    listing = Listing(models=[_model(1, 20)], quota=10, fail_next=1, retry_after=2)
    with listing_server(listing) as endpoint, HubHttp(endpoint, None, meter=budget, max_wait=5) as http:
        discover_listing(http, store, "model")
    (api,) = budget.state()
    assert (api.bucket, api.quota) == ("api", 5)  # half of q=10
    assert api.used == 1  # the retry, counted in the window the 429 said starts 2 s later
    assert naps == []  # HubHttp itself waited Retry-After; the budget still had room


def test_the_budget_never_lets_more_than_its_share_through(store: Store) -> None:
    clock = [1000.0]
    naps: list[float] = []

    def sleep(s: float) -> None:
        naps.append(s)
        clock[0] += s

    budget = SharedBudget(store, 0.5, clock=lambda: clock[0], sleep=sleep)
    budget.after("api", 200, {"ratelimit-policy": '"fixed window";"api";q=6;w=300', "ratelimit": '"api";r=6;t=300'})
    for _ in range(3):
        budget.before("api")
    assert naps == []
    budget.before("api")  # the fourth waits for the next window
    assert sum(naps) == pytest.approx(300.0)
    budget.after("file", 429, {"Retry-After": "30"})
    naps.clear()
    budget.before("file")
    assert sum(naps) == pytest.approx(30.0)
    budget.before("cdn")  # not counted


def test_header_parsing_and_buckets() -> None:
    assert parse_policy({"ratelimit-policy": '"fixed window";"api";q=500;w=300'}) is not None
    assert parse_policy({"ratelimit-policy": "garbage"}) is None
    standing = parse_standing({"ratelimit": '"api";r=0;t=55'})
    assert standing is not None and (standing.remaining, standing.reset_s) == (0, 55.0)
    assert call_bucket("http://h", "http://h/api/models") == "api"
    assert call_bucket("http://h", "http://h/org/m/resolve/abc/x.bin") == "file"
    assert call_bucket("http://h", "http://cdn/x") == "cdn"


def test_repo_list_file() -> None:
    text = "# mine\norg/a\ndatasets/org/b  # a dataset\n\nmodel:org/c\ndataset:org/d\n"
    assert read_repo_list(text) == [("model", "org/a"), ("dataset", "org/b"), ("model", "org/c"), ("dataset", "org/d")]


def test_a_failing_listing_is_an_error_in_the_store_and_the_watermark_stays(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from malhug.monitor.run import RunConfig, run_once

    store.set_watermark("model:*", "2026-11-01T00:00:00.000Z")
    listing = Listing(models=[_model(1, 20)], fail_next=10, retry_after=0)
    with listing_server(listing) as endpoint, ThreadPoolExecutor(1) as pool:
        config = RunConfig(store=str(store.db.target), endpoint=endpoint, repo_types=("model",), workers=1)
        result = run_once(config, store, pool)
    assert result.counters.errors == 1
    (error,) = store.last_errors()
    assert error["what"] == "model listing" and "429" in error["message"]
    assert store.watermarks() == {"model:*": "2026-11-01T00:00:00.000Z"}


def test_a_hub_that_announces_no_limit_is_not_throttled_until_it_does(store: Store) -> None:
    naps: list[float] = []
    budget = SharedBudget(store, 0.5, assume_hub_limits=False, sleep=naps.append)
    for _ in range(2000):  # past huggingface.co's free-account 1,000 per window
        budget.before("api")
    assert naps == []
    budget.after("api", 429, {"ratelimit-policy": '"fixed window";"api";q=100;w=300', "Retry-After": "0"})
    (api,) = budget.state()
    assert (api.quota, api.used) == (50, 2000)
