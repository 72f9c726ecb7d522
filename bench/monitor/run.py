"""``make bench-monitor``: ``malhug monitor`` against a generated fake hub (tests/fakehub/generated.py).

All in one run, on this machine, against the fake hub on 127.0.0.1 (it counts every API call, file call
and byte it serves):

1. backfill of ``--models`` + ``--datasets`` repos (default 10,000 + 2,000) with the 100 real-world
   cases among them: wall time, repos/s, API calls per repo, file bytes per repo and as a share of the
   repos' bytes, peak RSS; every case found with its class; no benign repo flagged;
2. the same backfill on a small hub (``--small``, default 2,000 repos) for peak RSS against hub size;
3. incremental: 1% of the repos get a new commit, ``monitor run`` again: what it fetched;
4. ``monitor rescan --verdict all``: re-analysis from kept bytes, hub bytes and calls (must be zero);
5. the backfill on ``--executor dask-local --workers 2``: same verdicts, time (``--skip-dask``);
6. peers on a ``--peer-repos`` (200) hub with small weights: ``snapshot_download`` + picklescan /
   modelscan / fickling, against ``monitor run`` on the same hub (``--skip-peers``).

Usage: ``.venv/bin/python -m bench.monitor.run [--models N --datasets M] [--write-results]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.monitor.hubrun import Measured, Session, check, hub_bytes, incremental_check  # noqa: E402
from bench.monitor.report import write_results  # noqa: E402
from tests.fakehub import FakeHub, HubSpec  # noqa: E402


def _m(m: Measured, repos: int) -> dict[str, Any]:
    t = m.totals
    return {
        "argv": " ".join(m.argv),
        "rc": m.rc,
        "seconds": round(m.wall, 2),
        "repos_per_s": round(repos / m.wall, 1) if m.wall else None,
        "api_calls": t["api_calls"],
        "api_calls_per_repo": round(t["api_calls"] / repos, 3) if repos else None,
        "file_calls": t["file_calls"] + t["cdn_calls"],
        "file_bytes": t["file_bytes"],
        "file_bytes_per_repo": round(t["file_bytes"] / repos) if repos else None,
        "rate_limited": t["rate_limited"],
        "peak_rss_mb": round(m.peak_rss_kb / 1024, 1),
        "stderr_tail": m.stderr_tail[-600:] if m.rc else "",
    }


# API and resolver calls per 5 minutes the fake hub announces: a mirror's, ten times the Hub's Enterprise
# Plus plan (10,000 / 100,000). With the Hub's own 10,000 API calls and the default --api-budget 0.5, a
# backfill is held to 5,000 revisions per window (16.7 repos/s) whatever the machine: the full-size run
# would measure the budget, not the monitor.
HUB_LIMITS = (100_000, 1_000_000)


def _hub(spec: HubSpec, root: Path) -> FakeHub:
    """The fake hub announces its limits (RateLimit headers) like the Hub; without them the monitor
    budgets for a free account (1,000 / 5,000 per 5 minutes) and waits for windows."""
    hub = FakeHub(root, generated=spec).start()
    hub.keep_log(False)
    hub.rate_limit(api=HUB_LIMITS[0], resolvers=HUB_LIMITS[1], window=300)
    return hub


def backfill(spec: HubSpec, label: str, work: Path, workers: int, executor: str | None, full: bool) -> dict[str, Any]:
    hub = _hub(spec, work / f"hub-{label}")
    try:
        session = Session.create(hub, label)
        listed = spec.models + spec.datasets
        extra = ["--workers", str(workers)] + (["--executor", executor] if executor else [])
        print(f"[{label}] backfill of {listed} repos ({executor or 'local'}, {workers} workers)", flush=True)
        first = session.run(*extra)
        out: dict[str, Any] = {"repos": listed, "backfill": _m(first, listed)}
        report = session.report()
        checked = check(report, hub.generated)  # type: ignore[arg-type]
        out["check"] = {k: v for k, v in checked.items() if k != "verdicts"}
        out["verdicts"] = checked["verdicts"]
        if full:
            total = hub_bytes(hub.generated)  # type: ignore[arg-type]
            out["hub_bytes"] = total
            out["backfill"]["file_bytes_share"] = first.totals["file_bytes"] / total if total else None
            print(f"[{label}] incremental after 1% new commits", flush=True)
            touched = hub.commit_share(0.01, seed=11)
            hub.clear_log()
            hub.keep_log(True)  # the incremental run's requests one by one: which repos were fetched
            second = session.run(*extra)
            hub.keep_log(False)
            after = session.report()
            out["incremental"] = {
                **_m(second, len(touched)),
                **incremental_check(touched, after, hub.requests()),
            }
            hub.clear_log()
            print(f"[{label}] rescan from kept bytes", flush=True)
            third = session.monitor("rescan", "--verdict", "all", "--workers", str(workers))
            scanned = sum(1 for r in after["repos"] if r["sha"])
            out["rescan"] = _m(third, scanned)
        shutil.rmtree(session.folder, ignore_errors=True)
        return out
    finally:
        hub.stop()


def peers(seed: int, repos: int, work: Path, workers: int) -> dict[str, Any]:
    from bench.monitor.peers import download_all, run_peers

    models = int(repos * 0.85)
    spec = HubSpec(seed=seed, models=models, datasets=repos - models, sizes=(4 << 20, 16 << 20, 48 << 20))
    hub = _hub(spec, work / "hub-peers")
    try:
        session = Session.create(hub, "peers")
        print(f"[peers] monitor run on {repos} repos", flush=True)
        mine = _m(session.run("--workers", str(workers)), repos)
        listed = [(t, s.repo_id) for t in ("model", "dataset") for s in hub.generated.summaries(t, "last_modified")]  # type: ignore[union-attr]
        folder = Path(tempfile.mkdtemp(prefix="bench-monitor-peers-dl-"))
        print(f"[peers] snapshot_download of {len(listed)} repos", flush=True)
        download = download_all(hub, listed, folder)
        print("[peers] picklescan / modelscan / fickling over the downloads", flush=True)
        tools = run_peers(folder)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(session.folder, ignore_errors=True)
        return {"repos": repos, "malhug": mine, "download": download, "tools": tools}
    finally:
        hub.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.monitor.run", description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=int, default=10_000)
    ap.add_argument("--datasets", type=int, default=2_000)
    ap.add_argument("--small", type=int, default=2_000, help="repos of the small hub (RSS against hub size)")
    ap.add_argument("--peer-repos", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--skip-small", action="store_true")
    ap.add_argument("--write-results", action="store_true", help="write RESULTS.md and RESULTS.json")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "monitor", help="folder for --write-results")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-monitor-"))
    started = time.monotonic()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "args": {k: v for k, v in vars(args).items() if k != "out"},
        "hub_limits": {"api": HUB_LIMITS[0], "resolvers": HUB_LIMITS[1], "window_s": 300},
    }
    partial = work.parent / f"{work.name}-partial.json"

    def save() -> None:  # after each stage, so a run cut short still leaves what it measured
        plain = {
            k: ({kk: vv for kk, vv in v.items() if kk != "verdicts"} if isinstance(v, dict) else v)
            for k, v in results.items()
        }
        partial.write_text(json.dumps(plain, indent=2, default=str))
        print(f"[partial results in {partial}]", flush=True)

    spec = HubSpec(seed=args.seed, models=args.models, datasets=args.datasets)
    results["large"] = big = backfill(spec, "large", work, args.workers, None, True)
    save()
    if not args.skip_small:
        small_models = int(args.small * args.models / max(1, args.models + args.datasets))
        small = HubSpec(seed=args.seed, models=small_models, datasets=args.small - small_models)
        results["small"] = backfill(small, "small", work, args.workers, None, False)
        save()
    if not args.skip_dask:
        dask = backfill(spec, "dask", work, 2, "dask-local", False)
        same = dask.pop("verdicts") == big["verdicts"]
        dask["same_verdicts"] = same
        results["dask"] = dask
        save()
    big.pop("verdicts", None)
    results.get("small", {}).pop("verdicts", None)
    if not args.skip_peers:
        results["peers"] = peers(args.seed, args.peer_repos, work, args.workers)
    results["seconds"] = round(time.monotonic() - started, 1)
    shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(results, indent=2, default=str)
    if args.write_results:
        write_results(results, args.out)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
