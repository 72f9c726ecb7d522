"""``monitor report``: the store as a report (JSON contract, text, SARIF; HTML by ``malhug.monitor.html``).

JSON: ``{"repos": [{"type", "id", "sha", "verdict", "files", "first_seen", "scanned_at"}], "stats":
{...}, "events": [...]}`` with one entry per repository known to the store (its newest scanned commit;
``sha``/``verdict`` null while unscanned), malicious first. ``state``/``why`` say why a repository is not
scanned (gated, private, disabled, vanished). Times are ISO 8601 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from malhug.monitor.store import Store

ORDER = {"malicious": 0, "suspicious": 1, "error": 2, "clean": 3, None: 4}


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def build(store: Store, since: float | None = None) -> dict[str, Any]:
    repos = store.repos(since)
    repos.sort(key=lambda r: (ORDER.get(r["verdict"], 4), r["type"], r["id"]))
    out = []
    by_verdict: dict[str, int] = {}
    for r in repos:
        by_verdict[r["verdict"] or "unscanned"] = by_verdict.get(r["verdict"] or "unscanned", 0) + 1
        entry = {
            "type": r["type"],
            "id": r["id"],
            "sha": r["sha"],
            "verdict": r["verdict"],
            "files": r["files"],
            "first_seen": iso(r["first_seen"]),
            "scanned_at": iso(r["scanned_at"]),
            "state": r["state"],
        }
        if r["why"]:
            entry["why"] = r["why"]
        if r["error"]:
            entry["error"] = r["error"]
        out.append(entry)
    counts = store.counts()
    events = [{**e.to_dict(), "at": iso(e.at)} for e in store.events(since)]
    return {
        "repos": out,
        "stats": {
            "repos": len(out),
            "by_verdict": by_verdict,
            "by_state": counts["states"],
            "backlog": counts["work"].get("pending", 0),
            "watermarks": store.watermarks(),
        },
        "events": events,
    }


def render_text(report: dict[str, Any]) -> str:
    lines = []
    for r in report["repos"]:
        if r["verdict"] in (None, "clean") and r["state"] == "ok":
            continue
        label = f"{r['type']} {r['id']}" + (f"@{r['sha'][:12]}" if r["sha"] else "")
        lines.append(f"{(r['verdict'] or r['state']).upper():<10} {label}  first seen {r['first_seen']}")
        if r.get("why"):
            lines.append(f"    {r['why']}")
        for f in r["files"]:
            for finding in f.get("findings", []):
                lines.append(f"    {f['path']}: {finding.get('rule')} {finding.get('message', '')}")
    stats = report["stats"]
    counts = ", ".join(f"{k} {v}" for k, v in sorted(stats["by_verdict"].items()))
    lines.append(f"{stats['repos']} repositories ({counts}); backlog {stats['backlog']}")
    return "\n".join(lines) + "\n"


def render_sarif(report: dict[str, Any]) -> dict[str, Any]:
    """One SARIF run over every flagged file, paths as ``hf:ORG/NAME@SHA/FILE`` (datasets: ``hf:datasets/``)."""
    from malhug.core.model import FileReport, ScanReport
    from malhug.output.sarif import render

    files = []
    for r in report["repos"]:
        prefix = "hf:" + ("datasets/" if r["type"] == "dataset" else "") + f"{r['id']}@{r['sha']}/"
        for raw in r["files"]:
            if raw.get("findings") or raw.get("error"):
                files.append(FileReport.from_dict({**raw, "path": prefix + raw["path"]}))
    return render(ScanReport(files=files))


def render_html(report: dict[str, Any]) -> str:
    import importlib

    html = importlib.import_module("malhug.monitor.html")  # the page renderer (heavier; loaded when asked)
    page: str = html.render_html(report)
    return page
