"""The default executor: network reads in the runner's I/O threads, analysis in the executor, in rounds.

The analysis in the executor sees only the bytes the I/O thread fetched; the report must be the one the
analyzers make reading the file themselves (same verdict, findings, errors), including where the
download cap refuses a read. Payloads are the defanged pickles of the hub tests (``echo``); the
poisoned torch zip follows the MalHug paper (Zhao et al., ASE 2024): payloads hide in pickle weights.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from malhug.analyzers.api import DEFAULT_LIMITS, LimitExceeded, clamp_read, scan_source
from malhug.monitor.offload import Offload, Round, analyze_round
from malhug.monitor.run import RunConfig, run_once
from malhug.monitor.store import Database, Store
from tests.fakehub import FakeHub
from tests.hub.payloads import benign_pickle, big_legacy_pickle, evil_pickle, sparse_torch_zip, torch_zip


class Counting:
    """A byte source over ``data`` that counts reads and, like the Hub source, refuses reads past
    ``budget`` bytes."""

    def __init__(self, data: bytes, budget: int | None = None):
        self.data = data
        self.budget = budget
        self.reads: list[tuple[int, int, str]] = []
        self._read = 0

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def bytes_read(self) -> int:
        return self._read

    def read_at(self, offset: int, length: int) -> bytes:
        length = clamp_read(offset, length, len(self.data))
        if self.budget is not None and self._read + length > self.budget:
            raise LimitExceeded("download budget for one file (bytes)", self.budget, self._read + length)
        self.reads.append((offset, length, threading.current_thread().name))
        self._read += length
        return self.data[offset : offset + length]


class Recording(Executor):
    """Runs submitted work in a pool and records what was submitted."""

    def __init__(self, pool: Executor):
        self.pool = pool
        self.calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self.lock:
            self.calls.append((fn, args))
        return self.pool.submit(fn, *args, **kwargs)


def _same(a: Any, b: Any) -> None:
    assert a.verdict == b.verdict and a.format == b.format and a.error == b.error
    assert [(f.rule, f.category, f.evidence) for f in a.findings] == [
        (f.rule, f.category, f.evidence) for f in b.findings
    ]


@pytest.mark.parametrize("pkl", [evil_pickle(), benign_pickle()], ids=["evil", "benign"])
def test_a_torch_zip_analyzed_in_rounds_gets_the_report_of_a_direct_analysis(pkl: bytes) -> None:
    data = torch_zip(pkl, prefix="m")
    direct = scan_source(Counting(data), name="pytorch_model.bin", limits=DEFAULT_LIMITS)
    source = Counting(data)
    with ThreadPoolExecutor(1, thread_name_prefix="analysis") as pool:
        recorded = Recording(pool)
        got = Offload(recorded)(source, name="pytorch_model.bin", limits=DEFAULT_LIMITS)
    _same(got, direct)
    assert got.verdict.value == ("malicious" if pkl == evil_pickle() else "clean")
    assert {fn for fn, _ in recorded.calls} == {analyze_round}  # only analysis was shipped
    assert all(isinstance(args[0], Round) for _, args in recorded.calls)
    assert all(not name.startswith("analysis") for _, _, name in source.reads)  # no read in the executor


def _hub_reports(hub: FakeHub, repo: str, sha: str, analyze: Any, max_download: int) -> dict[str, Any]:
    from malhug.hub.client import HubClient

    client = HubClient(
        endpoint=hub.endpoint, offline=False, verdict_cache=None, max_download=max_download, analyze=analyze
    )
    try:
        scan = client.scan_repo(repo, "model", sha)
    finally:
        client.close()
    return {
        f.path: (f.verdict.value, f.error, f.bytes_read, [(x.rule, x.category.value, x.evidence) for x in f.findings])
        for f in scan.files
    } | {"(verdict)": scan.verdict.value}


def test_a_hub_scan_in_rounds_equals_the_scan_that_reads_as_it_analyzes(hub: FakeHub) -> None:
    """Same verdicts, findings and evidence, file by file, and never more bytes read from the Hub: a
    poisoned zip, a 4 GiB sparse zip (ranges only), a plain pickle past the download cap (MH601, its
    prefix analyzed) and a small config."""
    sha = hub.repo("org/mixed").commit(
        {
            "config.json": "{}",
            "pytorch_model.bin": torch_zip(evil_pickle()),
            "huge/pytorch_model.bin": sparse_torch_zip(benign_pickle()),
            "model.pkl": big_legacy_pickle(3 * 2**20),
        }
    )
    direct = _hub_reports(hub, "org/mixed", sha, None, 1 << 20)
    with ThreadPoolExecutor(1) as pool:
        offloaded = Offload(pool)
        got = _hub_reports(hub, "org/mixed", sha, offloaded, 1 << 20)
    assert {k: v[:2] + v[3:] if k != "(verdict)" else v for k, v in got.items()} == {
        k: v[:2] + v[3:] if k != "(verdict)" else v for k, v in direct.items()
    }
    assert all(got[k][2] <= direct[k][2] for k in direct if k != "(verdict)")
    assert direct["(verdict)"] == "malicious" and direct["pytorch_model.bin"][0] == "malicious"
    assert "MH601" in [rule for rule, _, _ in direct["model.pkl"][3]]
    assert direct["huge/pytorch_model.bin"][2] < 1 << 20
    assert offloaded.stats.files >= 4 and offloaded.stats.here == 0


def test_sequential_reads_grow_their_fetch_so_a_long_pickle_costs_few_rounds() -> None:
    data = big_legacy_pickle(4 * 2**20)
    with ThreadPoolExecutor(1) as pool:
        offloaded = Offload(pool)
        source = Counting(data)
        got = offloaded(source, name="model.pkl", limits=DEFAULT_LIMITS)
    _same(got, scan_source(Counting(data), name="model.pkl", limits=DEFAULT_LIMITS))
    # 64 KiB, 128 KiB, ... 4 MiB: about log2(4 MiB / 64 KiB) + 1 fetches, not 64 one-block rounds.
    assert len(source.reads) <= 9 and offloaded.stats.rounds <= 10
    assert source.bytes_read == len(data)


def test_a_file_that_opens_side_files_is_analyzed_in_the_io_thread_with_them(hub: FakeHub) -> None:
    """A checkpoint index naming a poisoned shard and a missing one (the side-file case of the hub
    tests): the index needs the Hub for its shards, so its analysis finishes in the I/O thread."""
    index = json.dumps({"metadata": {}, "weight_map": {"a": "pytorch_model-1.bin", "b": "pytorch_model-2.bin"}})
    sha = hub.repo("org/sharded").commit(
        {"config.json": "{}", "pytorch_model.bin.index.json": index, "pytorch_model-1.bin": torch_zip(evil_pickle())}
    )
    direct = _hub_reports(hub, "org/sharded", sha, None, 1 << 20)
    with ThreadPoolExecutor(1) as pool:
        offloaded = Offload(pool)
        got = _hub_reports(hub, "org/sharded", sha, offloaded, 1 << 20)
    assert got == direct
    # The shard is scanned on its own (reported once, there); the index checks its shards are there.
    verdict, _, _, findings = got["pytorch_model.bin.index.json"]
    assert verdict == "suspicious"
    assert [e for r, _, e in findings if r == "MH211"] == ["pytorch_model-2.bin"]
    assert got["pytorch_model-1.bin"][0] == "malicious"
    assert got["(verdict)"] == "malicious"
    assert offloaded.stats.here == 1  # the index; the shard itself was analyzed in the executor


def test_a_run_reads_the_hub_in_its_threads_and_ships_only_analysis(hub: FakeHub, tmp_path: Path) -> None:
    bad = hub.repo("org/bad").commit({"config.json": "{}", "pytorch_model.bin": torch_zip(evil_pickle())})
    for i in range(5):
        hub.repo(f"org/ok{i}").commit(
            {"config.json": "{}", "pytorch_model.bin": torch_zip(benign_pickle(), prefix=f"b{i}")}
        )
    target = str(tmp_path / "m.sqlite3")
    store = Store(Database(target))
    claimed: list[int] = []
    claim = store.claim

    def spy(owner: str, limit: int, lease_s: float) -> Any:
        got = claim(owner, limit, lease_s)
        claimed.append(len(got))
        return got

    store.claim = spy  # type: ignore[method-assign]
    names = (("model", "org/bad"), *(("model", f"org/ok{i}") for i in range(5)))
    config = RunConfig(store=target, endpoint=hub.endpoint, repos=names, workers=1, io_threads=2)
    with ThreadPoolExecutor(1) as pool:
        recorded = Recording(pool)
        run_once(config, store, recorded)
    assert {r["id"]: (r["sha"] if r["id"] == "org/bad" else None, r["verdict"]) for r in store.repos()} == {
        "org/bad": (bad, "malicious"),
        **{f"org/ok{i}": (None, "clean") for i in range(5)},
    }
    assert recorded.calls and {fn for fn, _ in recorded.calls} == {analyze_round}
    assert max(claimed) <= 2  # never more revisions claimed than I/O threads
    store.close()
