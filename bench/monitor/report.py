"""bench/monitor/RESULTS.md and RESULTS.json from one run of ``bench.monitor.run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _mb(n: float | None) -> str:
    return "-" if n is None else f"{n / 2**20:,.1f} MiB"


def _row(name: str, m: dict[str, Any]) -> str:
    return (
        f"| {name} | {m['seconds']} s | {m['repos_per_s']} | {m['api_calls_per_repo']} | {m['file_calls']} "
        f"| {m['file_bytes_per_repo']:,} B | {m['peak_rss_mb']} MB | {m['rate_limited']} | {m['rc']} |"
    )


def render(r: dict[str, Any]) -> str:
    big = r["large"]
    b = big["backfill"]
    lines = [
        "# `malhug monitor` on a generated hub",
        "",
        f"Run {r['when']} on {r['machine']} by `make bench-monitor` (`bench/monitor/run.py`, arguments "
        f"`{json.dumps(r['args'])}`), {r['seconds']} s in all. The hub is `tests/fakehub/generated.py` on "
        "127.0.0.1 (it counts the calls and bytes below itself); the machine is shared, so times are indicative.",
        "",
    ]
    a = r["args"]
    if (a["models"], a["datasets"]) != (10_000, 2_000):
        lines += [
            f"**Scale of this run: {a['models']:,} models + {a['datasets']:,} datasets**, not the 10,000 + 2,000 that "
            "`make bench-monitor` runs by default (`--models`/`--datasets`): the committed numbers come from a "
            "machine shared with other jobs, where the full size did not fit the time available.",
            "",
        ]
    lines += [
        "| run | wall | repos/s | API calls/repo | file calls | file bytes/repo | peak RSS | 429s | exit |",
        "|---|---|---|---|---|---|---|---|---|",
        _row(f"backfill, {big['repos']:,} repos", b),
    ]
    if "small" in r:
        lines.append(_row(f"backfill, {r['small']['repos']:,} repos", r["small"]["backfill"]))
    if "incremental" in big:
        lines.append(_row(f"incremental, {big['incremental']['touched']} new commits", big["incremental"]))
    if "rescan" in big:
        lines.append(_row("rescan --verdict all (kept bytes)", big["rescan"]))
    if "dask" in r:
        lines.append(_row("backfill on dask-local, 2 workers", r["dask"]["backfill"]))
    c = big["check"]
    share = b.get("file_bytes_share")
    lines += [
        "",
        "Targets of issue #11: >= 50 repos/s, <= 1.2 API calls per repo, file bytes < 0.1% of the repos' bytes, "
        "peak RSS < 400 MB and flat as the hub grows, every case found, no benign repo flagged.",
        "",
        f"- Bytes: the backfill read {_mb(b['file_bytes'])} of file content out of {_mb(big.get('hub_bytes'))} "
        f"in the repos' head revisions ({share:.5%} of them)."
        if share is not None
        else "",
        f"- Cases: {c['cases_found']} of {len(c['cases'])} real-world cases malicious; "
        f"{c['cases_class_ok']} with the expected category on every file.",
        f"- Benign: {len(c['benign_flagged'])} of {c['benign_repos']} ordinary repos flagged; "
        f"{len(c['benign_errors'])} in error. Repository states: {c['states']}.",
    ]
    if "incremental" in big:
        inc = big["incremental"]
        lines.append(
            f"- Incremental: {inc['touched']} repos got a commit; {inc['touched_rescanned_at_new_sha']} are at "
            f"their new sha after the run, with {inc['api_calls']} API calls and {inc['file_calls']} file calls. "
            f"Checked per repo from the hub's request log: {inc.get('touched_fetched', '?')} of the touched repos were "
            f"fetched, and {len(inc.get('untouched_fetched', []))} untouched repos were"
            + (f" ({', '.join(inc['untouched_fetched'][:10])})" if inc.get("untouched_fetched") else "")
            + "."
        )
        for miss in inc.get("not_at_new_sha", []):
            lines.append(
                f"  - {miss['type']} {miss['id']} is not at its new sha: state {miss['state']}, fetched "
                f"{miss['fetched']}; {miss['why'] or 'no reason recorded'}"
            )
    if "small" in r:
        lines.append(
            f"- Peak RSS against hub size: {r['small']['repos']:,} repos {r['small']['backfill']['peak_rss_mb']} MB, "
            f"{big['repos']:,} repos {b['peak_rss_mb']} MB (the runner's largest process, `/usr/bin/time`)."
        )
    if "hub_limits" in r:
        hl = r["hub_limits"]
        lines.append(
            f"- Rate limits: the fake hub announces {hl['api']:,} API and {hl['resolvers']:,} resolver calls per "
            f"{hl['window_s']} s (`RateLimit` headers; a mirror's, ten times the Hub's Enterprise Plus plan). With "
            "the Hub's own 10,000 API calls and the default `--api-budget 0.5`, a backfill is held to 5,000 "
            "revisions per 5 minutes (16.7 repos/s): an earlier full-size run with those limits measured that."
        )
    if "rescan" in big:
        rs = big["rescan"]
        lines.append(f"- Rescan: {rs['api_calls']} API calls and {rs['file_bytes']} file bytes from the hub.")
    if "dask" in r:
        lines.append(f"- dask-local: same verdicts as the local executor: {r['dask']['same_verdicts']}.")
    if "peers" in r:
        p = r["peers"]
        mine, dl = p["malhug"], p["download"]
        tool_s = sum(t["seconds"] for t in p["tools"].values())
        lines += [
            "",
            f"## Peers on a {p['repos']}-repo hub (weights 4-48 MiB)",
            "",
            f"`monitor run`: {mine['seconds']} s, {_mb(mine['file_bytes'])} of files. The user's way: "
            f"`snapshot_download` of every repo ({dl['seconds']:.1f} s, {_mb(dl['file_bytes'])}, "
            f"{dl['failed']} refused), then "
            + ", ".join(f"{k} {v['seconds']:.1f} s" for k, v in p["tools"].items())
            + ".",
            "",
            f"- bytes: {dl['file_bytes'] / max(1, mine['file_bytes']):,.0f}x what `malhug monitor` read;",
            f"- time (download + the three tools): {(dl['seconds'] + tool_s) / max(0.001, mine['seconds']):.1f}x.",
        ]
    bad = [c2 for c2 in c["cases"] if not (c2["found"] and c2["class_ok"])]
    if bad:
        lines += ["", "## Cases not found or with another category", ""]
        lines += [f"- {x['type']} {x['id']}: {x['verdict']}; {x['files']}" for x in bad]
    if c["benign_flagged"] or c["benign_errors"]:
        lines += ["", "## Ordinary repos flagged or in error", ""]
        lines += [f"- {x}" for x in (c["benign_flagged"] + c["benign_errors"])[:50]]
    return "\n".join(x for x in lines if x is not None) + "\n"


def write_results(results: dict[str, Any], folder: Path) -> None:
    (folder / "RESULTS.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (folder / "RESULTS.md").write_text(render(results))
