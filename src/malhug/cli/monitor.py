"""``malhug monitor``: watch a hub, an organisation or a list of repositories (``docs/MONITOR.md``).

Sub-commands: ``run`` (discover and scan, once or every ``--interval``), ``status``, ``report``,
``rescan`` (re-analyze kept bytes, no Hub traffic) and ``webhook`` (Hub webhooks enqueue repo@sha).
Everything heavy is imported inside the functions: ``malhug --version`` stays cheap.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from malhug.cli.status import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS

log = logging.getLogger(__name__)

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")


def duration(value: str) -> float:
    """``90``, ``30s``, ``10m``, ``2h``, ``1d`` as seconds."""
    m = _DURATION.match(value.strip())
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a duration: {value!r} (e.g. 30s, 10m, 2h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def fraction(value: str) -> float:
    try:
        f = float(value)
    except ValueError:
        f = -1.0
    if not 0 < f <= 1:
        raise argparse.ArgumentTypeError(f"--api-budget is a fraction in (0, 1], not {value!r}")
    return f


def since_date(value: str) -> float:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (YYYY-MM-DD or ISO 8601)") from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        metavar="PATH|URL",
        help="SQLite file or postgresql://… URL (default: $XDG_DATA_HOME/malhug/monitor.sqlite3)",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("monitor", help="watch a hub, an organisation or a list of repositories")
    msub = p.add_subparsers(dest="monitor_command", required=True)

    r = msub.add_parser("run", help="discover changed repositories and scan them")
    _store_option(r)
    what = r.add_argument_group("what to watch (default: models and datasets)")
    what.add_argument("--models", action="store_true", help="watch models")
    what.add_argument("--datasets", action="store_true", help="watch datasets")
    what.add_argument("--author", action="append", default=[], metavar="ORG", help="only this user or organisation")
    what.add_argument("--repos", metavar="FILE", help="a list of repositories (one a line) instead of the listings")
    when = r.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one pass, then exit (the default)")
    when.add_argument("--interval", type=duration, metavar="DURATION", help="a pass every DURATION (10m, 1h)")
    r.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2)), metavar="N", help="analysis workers")
    r.add_argument(
        "--executor", default="local", metavar="KIND", help="local (process pool), dask-local or dask://HOST:PORT"
    )
    r.add_argument("--api-budget", type=fraction, default=0.5, metavar="FRACTION", help="share of the rate limits")
    r.add_argument("--endpoint", metavar="URL", help="the Hub (default: HF_ENDPOINT or huggingface.co)")
    r.add_argument("--events", metavar="FILE", help="append verdict-change events as JSON lines")
    r.add_argument("--on-event", metavar="CMD", help="run CMD per event (no shell) with the event JSON on stdin")
    r.add_argument("--io-threads", type=int, default=0, metavar="N", help="Hub-reading threads (default 4 per worker)")
    r.add_argument(
        "--lease", type=duration, default=60.0, metavar="DURATION", help="lease of claimed work, renewed (default 60s)"
    )
    r.set_defaults(run=run_command)

    s = msub.add_parser("status", help="watermark, backlog, repositories by verdict, API budget, last errors")
    _store_option(s)
    s.add_argument("--json", action="store_true", help="as JSON")
    s.set_defaults(run=status_command)

    rep = msub.add_parser("report", help="every repository with its newest verdict")
    _store_option(rep)
    rep.add_argument("--since", type=since_date, metavar="DATE", help="only repositories scanned since DATE")
    rep.add_argument("--format", choices=("text", "json", "sarif", "html"), default="text")
    rep.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    rep.set_defaults(run=report_command)

    res = msub.add_parser("rescan", help="re-analyze the kept bytes (after a rule change): no Hub traffic")
    _store_option(res)
    res.add_argument("--verdict", choices=("suspicious", "all"), default="all", help="which repositories")
    res.add_argument(
        "--workers", type=int, default=1, metavar="N", help="analysis workers (default 1: in this process)"
    )
    res.add_argument("--executor", default="local", metavar="KIND", help="local, dask-local or dask://HOST:PORT")
    res.set_defaults(run=rescan_command)

    w = msub.add_parser("webhook", help="receive Hub webhooks and queue repo@sha")
    _store_option(w)
    w.add_argument("--listen", required=True, metavar="HOST:PORT", help="e.g. 127.0.0.1:8765 (loopback only)")
    w.add_argument("--secret-env", required=True, metavar="NAME", help="environment variable holding the secret")
    w.set_defaults(run=webhook_command)


def _open(args: argparse.Namespace) -> Any:
    from malhug.monitor.store import default_store_path, open_store

    return open_store(args.store or default_store_path())


def run_command(args: argparse.Namespace) -> int:
    from malhug.hub.settings import HubSettings
    from malhug.monitor.discover import read_repo_list
    from malhug.monitor.executor import ExecutorError, check_kind, open_executor
    from malhug.monitor.progress import Progress
    from malhug.monitor.run import RunConfig, run_once
    from malhug.monitor.store import default_store_path

    try:
        check_kind(args.executor)
    except ExecutorError as exc:
        print(f"malhug monitor: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.workers < 1 or args.io_threads < 0:
        print("malhug monitor: --workers must be at least 1 and --io-threads not negative", file=sys.stderr)
        return EXIT_ERROR
    repos = None
    if args.repos:
        try:
            repos = tuple(read_repo_list(Path(args.repos).read_text(encoding="utf-8")))
        except OSError as exc:
            print(f"malhug monitor: cannot read --repos {args.repos}: {exc}", file=sys.stderr)
            return EXIT_ERROR
    types = tuple(t for t, on in (("model", args.models), ("dataset", args.datasets)) if on) or ("model", "dataset")
    settings = HubSettings.resolve(endpoint=args.endpoint, offline=False)
    config = RunConfig(
        store=str(args.store or default_store_path()),
        endpoint=settings.endpoint,
        token=settings.token,
        repo_types=types,
        authors=tuple(args.author),
        repos=repos,
        workers=args.workers,
        api_budget=args.api_budget,
        events_file=Path(args.events) if args.events else None,
        on_event=args.on_event,
        io_threads=args.io_threads,
        lease_s=args.lease,
    )
    store = _open(args)
    flagged = False
    try:
        with open_executor(args.executor, args.workers) as executor:
            while True:
                result = run_once(config, store, executor, Progress())
                flagged = flagged or any(e["new_verdict"] in ("malicious", "suspicious") for e in result.events)
                if not args.interval:
                    break
                time.sleep(args.interval)
    except ExecutorError as exc:
        print(f"malhug monitor: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:  # the way to stop --interval: claimed work is given back (run_once)
        print("malhug monitor: stopped (work in progress stays queued)", file=sys.stderr)
    finally:
        store.close()
    return EXIT_FINDINGS if flagged else EXIT_CLEAN


def status_command(args: argparse.Namespace) -> int:
    from malhug.monitor.budget import SharedBudget

    store = _open(args)
    try:
        counts = store.counts()
        data = {
            "store": store.db.safe_target,
            "watermarks": store.watermarks(),
            "backlog": counts["work"].get("pending", 0),
            "repos_by_verdict": counts["verdicts"],
            "repos_by_state": counts["states"],
            "api_budget": {b.bucket: b.to_dict() for b in SharedBudget(store).state()},
            "last_errors": store.last_errors(5),
        }
    finally:
        store.close()
    if args.json:
        print(json.dumps(data, indent=2))
        return EXIT_CLEAN
    print(f"store      {data['store']}")
    for name, value in sorted(data["watermarks"].items()) or [("-", "none yet")]:
        print(f"watermark  {name} {value}")
    print(f"backlog    {data['backlog']}")
    print("verdicts   " + ", ".join(f"{k} {v}" for k, v in sorted(data["repos_by_verdict"].items())))
    print("states     " + ", ".join(f"{k} {v}" for k, v in sorted(data["repos_by_state"].items())))
    for bucket, b in sorted(data["api_budget"].items()):
        if b["quota"] < 0:
            print(f"budget     {bucket}: no limit announced by the Hub yet; {b['used']} calls this window")
        else:
            print(f"budget     {bucket}: {b['left']} of {b['quota']} left, window resets in {b['resets_in_s']}s")
    for e in data["last_errors"]:
        print(f"error      {e['what']}: {e['message']}")
    return EXIT_CLEAN


def report_command(args: argparse.Namespace) -> int:
    from malhug.monitor import report

    store = _open(args)
    try:
        src = report.Source(store, args.since)
        if args.output:  # written beside, then moved in place: a report cut short never looks whole
            target = Path(args.output)
            partial = target.with_name(f".{target.name}.partial")
            with open(partial, "w", encoding="utf-8") as out:
                flagged = report.write(src, args.format, out)
            os.replace(partial, target)
        else:
            flagged = report.write(src, args.format, sys.stdout)
    finally:
        store.close()
    return EXIT_FINDINGS if flagged else EXIT_CLEAN


def rescan_command(args: argparse.Namespace) -> int:
    from malhug.monitor.executor import ExecutorError, check_kind, open_executor
    from malhug.monitor.rescan import rescan

    try:
        check_kind(args.executor)
    except ExecutorError as exc:
        print(f"malhug monitor: {exc}", file=sys.stderr)
        return EXIT_ERROR
    store = _open(args)
    try:
        if args.workers <= 1 and args.executor == "local":
            result = rescan(store, args.verdict)
        else:
            with open_executor(args.executor, max(1, args.workers)) as executor:
                result = rescan(store, args.verdict, executor)
    except ExecutorError as exc:
        print(f"malhug monitor: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        store.close()
    print(
        f"rescanned {result.repos} repositories, {result.files} files from kept bytes"
        f" ({result.not_kept} files without kept bytes kept their verdict); {len(result.events)} verdict changes"
    )
    return EXIT_FINDINGS if any(e.new_verdict in ("malicious", "suspicious") for e in result.events) else EXIT_CLEAN


def webhook_command(args: argparse.Namespace) -> int:
    from malhug.monitor.webhook import WebhookError, make_server, parse_listen

    secret = os.environ.get(args.secret_env)
    if not secret:
        print(f"malhug monitor webhook: the environment variable {args.secret_env} is empty or unset", file=sys.stderr)
        return EXIT_ERROR
    try:
        host, port = parse_listen(args.listen)
    except WebhookError as exc:
        print(f"malhug monitor webhook: {exc}", file=sys.stderr)
        return EXIT_ERROR
    store = _open(args)
    server = make_server(store, secret, host, port)
    print(f"listening on http://{host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("malhug monitor webhook: stopped", file=sys.stderr)
    finally:
        server.server_close()
        store.close()
    return EXIT_CLEAN
