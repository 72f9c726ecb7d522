"""``monitor report`` streams: every format is written as the store is read a page at a time.

The JSON document is byte for byte what one ``json.dumps(..., indent=2)`` of the whole report gives,
SARIF is the document ``malhug.output.sarif.render`` makes of every flagged file at once (and valid
against the OASIS 2.1.0 schema), and no query returns more than a page of rows, whatever the size of
the store (counted, not timed).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from malhug.core.model import FileReport, ScanReport
from malhug.core.rules import finding
from malhug.monitor import report
from malhug.monitor.store import Store
from malhug.monitor.store.db import Cursor
from malhug.output.sarif import render
from tests.output.test_sarif import schema

VERDICTS = ("clean", "malicious", "suspicious", "error", "clean", "clean")
RULES = {"malicious": ("MH101", "echo payload"), "suspicious": ("MH106", "builtins.getattr")}


def _files(verdict: str, i: int) -> list[dict[str, Any]]:
    weights: dict[str, Any] = {"path": "pytorch_model.bin", "verdict": verdict, "findings": [], "format": "pytorch-zip"}
    if verdict in RULES:
        rule, evidence = RULES[verdict]
        weights["findings"] = [finding(rule, f"finding {i}", evidence=evidence).to_dict()]
    if verdict == "error":
        weights["error"] = f"could not read pytorch_model.bin {i}"
    return [{"path": "config.json", "verdict": "clean", "findings": [], "format": "json"}, weights]


def _fill(store: Store, n: int = 23) -> None:
    for i in range(n):
        repo_type = "dataset" if i % 5 == 4 else "model"
        repo_id = f"org{i % 3}/m{i:02}"
        if i % 7 == 6:  # listed, never scanned: gated
            store.note_listed(repo_type, repo_id, None, None, "gated", "gated: ask the authors")
            continue
        store.note_listed(repo_type, repo_id, f"{i:040x}", None, "ok", None)
        (item,) = store.claim("r", 1, 60)
        verdict = VERDICTS[i % len(VERDICTS)]
        scan = {"verdict": verdict, "files": _files(verdict, i), "bytes_read": 10}
        if verdict == "error":
            scan["error"] = f"could not read pytorch_model.bin {i}"
        store.finish(item, "r", scan)


def _reference(store: Store) -> dict[str, Any]:
    """The report as the monitor built it in memory before it streamed (the whole store at once)."""
    repos = sorted(store.repos(), key=lambda r: (report.ORDER.get(r["verdict"], 4), r["type"], r["id"]))
    out, by_verdict = [], {}
    for r in repos:
        by_verdict[r["verdict"] or "unscanned"] = by_verdict.get(r["verdict"] or "unscanned", 0) + 1
        entry = {k: r[k] for k in ("type", "id", "sha", "verdict", "files")}
        entry |= {"first_seen": report.iso(r["first_seen"]), "scanned_at": report.iso(r["scanned_at"])}
        entry["state"] = r["state"]
        entry |= {k: r[k] for k in ("why", "error") if r[k]}
        out.append(entry)
    counts = store.counts()
    stats = {"repos": len(out), "by_verdict": by_verdict, "by_state": counts["states"]}
    stats |= {"backlog": counts["work"].get("pending", 0), "watermarks": store.watermarks()}
    events = [{**e.to_dict(), "at": report.iso(e.at)} for e in store.events()]
    return {"repos": out, "stats": stats, "events": events}


@pytest.fixture
def page_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of rows each query of repositories or events returned (not the GROUP BY counts)."""
    seen: list[int] = []
    execute, fetchall = Cursor.execute, Cursor.fetchall
    last: dict[int, str] = {}

    def remember(self: Cursor, sql: str, params: Any = ()) -> Cursor:
        last[id(self)] = sql
        return execute(self, sql, params)

    def counting(self: Cursor) -> list[Any]:
        rows = fetchall(self)
        if "GROUP BY" not in last.get(id(self), ""):
            seen.append(len(rows))
        return rows

    monkeypatch.setattr(Cursor, "execute", remember)
    monkeypatch.setattr(Cursor, "fetchall", counting)
    return seen


def test_the_json_report_is_byte_identical_and_read_a_page_at_a_time(store: Store, page_rows: list[int]) -> None:
    _fill(store)
    expected = _reference(store)
    assert [r["verdict"] for r in expected["repos"]][:4] == ["malicious", "malicious", "malicious", "suspicious"]
    page_rows.clear()
    out = io.StringIO()
    assert report.write(report.Source(store, page=4), "json", out) is True
    assert out.getvalue() == json.dumps(expected, indent=2) + "\n"
    assert max(page_rows) <= 4 and sum(page_rows) >= len(expected["repos"])  # many small pages, not one


def test_an_empty_store_is_a_valid_report_in_every_format(store: Store) -> None:
    out = io.StringIO()
    assert report.write(report.Source(store), "json", out) is False
    assert json.loads(out.getvalue()) == {
        "repos": [],
        "stats": {"repos": 0, "by_verdict": {}, "by_state": {}, "backlog": 0, "watermarks": {}},
        "events": [],
    }
    sarif = io.StringIO()
    report.write(report.Source(store), "sarif", sarif)
    jsonschema.Draft4Validator(schema()).validate(json.loads(sarif.getvalue()))
    assert json.loads(sarif.getvalue())["runs"][0]["results"] == []


def test_the_sarif_report_is_the_whole_document_made_a_repository_at_a_time(store: Store, page_rows: list[int]) -> None:
    _fill(store)
    files = []
    for r in _reference(store)["repos"]:
        prefix = "hf:" + ("datasets/" if r["type"] == "dataset" else "") + f"{r['id']}@{r['sha']}/"
        files += [
            FileReport.from_dict({**f, "path": prefix + f["path"]})
            for f in r["files"]
            if f["findings"] or f.get("error")
        ]
    expected = render(ScanReport(files=files))
    page_rows.clear()
    out = io.StringIO()
    assert report.write(report.Source(store, page=3), "sarif", out) is True
    got = json.loads(out.getvalue())
    assert got == expected
    assert out.getvalue() == json.dumps(expected, indent=2) + "\n"
    jsonschema.Draft4Validator(schema()).validate(got)
    run = got["runs"][0]
    assert [r["rules"] for r in [run["tool"]["driver"]]][0][1]["id"] == "MH106"
    assert {r["ruleId"] for r in run["results"]} == {"MH101", "MH106"}
    assert run["invocations"][0]["executionSuccessful"] is False  # the files in error
    assert max(page_rows) <= 3


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "html"])
def test_each_repository_is_written_before_the_next_is_read(store: Store, fmt: str) -> None:
    """The output holds repository k before repository k+1 leaves the store: nothing is gathered first
    (HTML and SARIF count in a first pass, then write in a second; SARIF writes the failures'
    notifications in a third)."""
    _fill(store)
    out = io.StringIO()
    src = report.Source(store, page=2)
    passes: list[list[str]] = []
    iter_repos = store.iter_repos

    def watched(since: float | None = None, page: int = 200) -> Iterator[dict[str, Any]]:
        passes.append([])
        for r in iter_repos(since, page):
            passes[-1].append(r["id"])
            yield r

    store.iter_repos = watched  # type: ignore[method-assign]
    lagging: list[tuple[str, str]] = []
    real = src.repos

    def repos() -> Iterator[dict[str, Any]]:
        previous: dict[str, Any] | None = None
        for r in real():
            if previous is not None and len(passes) == (2 if fmt in ("html", "sarif") else 1):
                shown = previous["id"] if fmt != "text" or previous["verdict"] not in (None, "clean") else None
                flagged_only = fmt == "sarif" and previous["verdict"] not in ("malicious", "suspicious")
                if shown and not flagged_only and shown not in out.getvalue():
                    lagging.append((previous["id"], r["id"]))
            previous = r
            yield r

    src.repos = repos  # type: ignore[method-assign]
    report.write(src, fmt, out)
    assert passes and all(p == passes[0] for p in passes) and len(passes[0]) == 23
    assert lagging == []
