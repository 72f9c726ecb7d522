"""``monitor report``: the store as a report (JSON contract, text, SARIF; HTML by ``malhug.monitor.html``).

JSON: ``{"repos": [{"type", "id", "sha", "verdict", "files", "first_seen", "scanned_at"}], "stats":
{...}, "events": [...]}`` with one entry per repository known to the store (its newest scanned commit;
``sha``/``verdict`` null while unscanned), malicious first. ``state``/``why`` say why a repository is not
scanned (gated, private, disabled, vanished). Times are ISO 8601 UTC.

Every format is written as it is read (``write``): repositories and events come from the store a page
at a time (``store/pages.py``) and go to the output one by one, so memory does not grow with the store.
What must come before the entries (SARIF's rule list, the HTML filters' counts) is counted in a first
pass over the store. ``build`` gives the same report as one value, for small stores and tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from malhug.monitor.store import Store
from malhug.monitor.store.ops import Event
from malhug.monitor.store.pages import PAGE

ORDER = {"malicious": 0, "suspicious": 1, "error": 2, "clean": 3, None: 4}
FLAGGED = ("malicious", "suspicious")


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _entry(r: dict[str, Any]) -> dict[str, Any]:
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
    return entry


@dataclass
class Source:
    """The report's parts, each read from the store anew and a page at a time."""

    store: Store
    since: float | None = None
    page: int = PAGE
    by_verdict: dict[str, int] = field(default_factory=dict)  # of the last pass over repos()
    flagged: bool = False

    def repos(self) -> Iterator[dict[str, Any]]:
        self.by_verdict, self.flagged = {}, False
        for r in self.store.iter_repos(self.since, self.page):
            key = r["verdict"] or "unscanned"
            self.by_verdict[key] = self.by_verdict.get(key, 0) + 1
            self.flagged = self.flagged or r["verdict"] in FLAGGED
            yield _entry(r)

    def events(self) -> Iterator[dict[str, Any]]:
        for row in self.store.iter_events(self.since, self.page):
            event = Event(int(row[0]), *row[1:])
            yield {**event.to_dict(), "at": iso(event.at)}

    def stats(self) -> dict[str, Any]:
        """After a pass over ``repos()``: its counts, and the store's."""
        counts = self.store.counts()
        return {
            "repos": sum(self.by_verdict.values()),
            "by_verdict": self.by_verdict,
            "by_state": counts["states"],
            "backlog": counts["work"].get("pending", 0),
            "watermarks": self.store.watermarks(),
        }


def json_items(out: TextIO, items: Iterable[Any], indent: str) -> None:
    """A JSON array written an item at a time, laid out as ``json.dumps(..., indent=2)`` lays it out."""
    first = True
    for item in items:
        out.write(("[\n" if first else ",\n") + indent + "  ")
        out.write(json.dumps(item, indent=2).replace("\n", "\n" + indent + "  "))
        first = False
    out.write("[]" if first else "\n" + indent + "]")


def write_json(src: Source, out: TextIO) -> None:
    out.write('{\n  "repos": ')
    json_items(out, src.repos(), "  ")
    out.write(',\n  "stats": ' + json.dumps(src.stats(), indent=2).replace("\n", "\n  "))
    out.write(',\n  "events": ')
    json_items(out, src.events(), "  ")
    out.write("\n}\n")


def write_text(src: Source, out: TextIO) -> None:
    for r in src.repos():
        if r["verdict"] in (None, "clean") and r["state"] == "ok":
            continue
        label = f"{r['type']} {r['id']}" + (f"@{r['sha'][:12]}" if r["sha"] else "")
        lines = [f"{(r['verdict'] or r['state']).upper():<10} {label}  first seen {r['first_seen']}"]
        if r.get("why"):
            lines.append(f"    {r['why']}")
        for f in r["files"]:
            for finding in f.get("findings", []):
                lines.append(f"    {f['path']}: {finding.get('rule')} {finding.get('message', '')}")
        out.write("\n".join(lines) + "\n")
    stats = src.stats()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(stats["by_verdict"].items()))
    out.write(f"{stats['repos']} repositories ({counts}); backlog {stats['backlog']}\n")


def write(src: Source, fmt: str, out: TextIO) -> bool:
    """``src`` as ``fmt`` (text, json, sarif, html) to ``out``; whether a repository is flagged."""
    if fmt == "json":
        write_json(src, out)
    elif fmt == "sarif":
        from malhug.monitor.sarif import write_sarif

        write_sarif(src, out)
    elif fmt == "html":
        import importlib

        html = importlib.import_module("malhug.monitor.html")  # the page renderer (loaded when asked)
        html.write_html(src.repos, src.stats, sum(1 for _ in src.events()), out)
    else:
        write_text(src, out)
    return src.flagged


def build(store: Store, since: float | None = None) -> dict[str, Any]:
    """The whole report as one value (small stores, tests): what ``write_json`` writes."""
    src = Source(store, since)
    repos = list(src.repos())
    return {"repos": repos, "stats": src.stats(), "events": list(src.events())}
