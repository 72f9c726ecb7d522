"""``monitor report --format html``: one self-contained page from the monitor's JSON report.

No external resource (inline CSS and a few lines of inline JavaScript), malicious and suspicious repos
first, each with its revision, first-seen and scanned times, files, findings (rule, category, severity,
location, evidence). Check boxes filter the rows by verdict and by category. Everything that comes from
the report is escaped with :func:`html.escape` (evidence is attacker-controlled text), and the page's
Content-Security-Policy allows only its own inline script and style, so a payload that slipped through
would still not load or run anything else.
"""

from __future__ import annotations

import html
import io
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TextIO

VERDICT_ORDER = {"malicious": 0, "suspicious": 1, "error": 2, "clean": 3}
EVIDENCE_LIMIT = 2000  # characters of evidence shown per finding (the JSON report keeps all of it)
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'none'"

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f24;background:#fff}
h1{font-size:1.4em;margin:0 0 .3em}
.stats span{margin-right:1.2em}
fieldset{display:inline-block;margin:.6em 1em .6em 0;border:1px solid #ccd;padding:.3em .8em}
label{margin-right:.8em;white-space:nowrap}
.repo{border:1px solid #d0d7de;border-radius:6px;margin:.7em 0;padding:.5em .8em}
.repo[hidden]{display:none}
.repo h2{font-size:1.05em;margin:0;display:flex;gap:.8em;align-items:baseline;flex-wrap:wrap}
.verdict{font-weight:700;text-transform:uppercase;font-size:.8em;padding:.1em .5em;border-radius:4px}
.v-malicious{background:#ffd7d5;color:#82071e}.v-suspicious{background:#fff1c2;color:#7d4e00}
.v-error{background:#e6e6fa;color:#3b3b8f}.v-clean{background:#dafbe1;color:#116329}.v-unscanned{background:#eee}
.meta{color:#57606a;font-size:.85em}
table{border-collapse:collapse;width:100%;margin-top:.4em;font-size:.9em}
th,td{border-top:1px solid #eaeef2;padding:.25em .4em;text-align:left;vertical-align:top}
td.evidence{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all;max-width:60em}
.empty{color:#57606a}
"""

SCRIPT = """
(function(){
  function checked(name){
    return Array.prototype.filter.call(document.querySelectorAll('input[name="'+name+'"]'),
      function(b){return b.checked;}).map(function(b){return b.value;});
  }
  function apply(){
    var verdicts = checked('verdict'), cats = checked('category'), shown = 0;
    document.querySelectorAll('.repo').forEach(function(row){
      var rowCats = (row.dataset.categories || '').split(' ').filter(Boolean);
      var catOk = rowCats.length === 0 ? cats.indexOf('(none)') >= 0
        : rowCats.some(function(c){return cats.indexOf(c) >= 0;});
      var ok = verdicts.indexOf(row.dataset.verdict) >= 0 && catOk;
      row.hidden = !ok;
      if (ok) shown++;
    });
    document.getElementById('shown').textContent = String(shown);
  }
  document.querySelectorAll('input[type=checkbox]').forEach(function(b){b.addEventListener('change', apply);});
  apply();
})();
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _verdict(repo: dict[str, Any]) -> str:
    return str(repo.get("verdict") or "unscanned")


def _categories(repo: dict[str, Any]) -> list[str]:
    found = {str(f.get("category")) for file in repo.get("files") or [] for f in file.get("findings") or []}
    return sorted(c for c in found if c and c != "None")


def _location(loc: dict[str, Any] | None) -> str:
    if not loc:
        return ""
    parts = []
    if loc.get("member"):
        parts.append(str(loc["member"]))
    if loc.get("offset") is not None:
        parts.append(f"@{loc['offset']}")
    if loc.get("line") is not None:
        parts.append(f"line {loc['line']}" + (f":{loc['column']}" if loc.get("column") is not None else ""))
    return " ".join(parts)


def _evidence(text: Any) -> str:
    raw = "" if text is None else str(text)
    if len(raw) > EVIDENCE_LIMIT:
        raw = raw[:EVIDENCE_LIMIT] + f"… ({len(raw) - EVIDENCE_LIMIT} more characters in the JSON report)"
    return _e(raw)


def _files_table(repo: dict[str, Any]) -> str:
    rows = []
    for file in repo.get("files") or []:
        findings = file.get("findings") or []
        path = _e(file.get("path"))
        fverdict = _e(file.get("verdict"))
        if file.get("error"):
            rows.append(
                f'<tr class="file-error"><td>{path}</td><td>{fverdict}</td><td colspan="5">error: '
                f"{_e(file.get('error'))}</td></tr>"
            )
        for f in findings:
            rows.append(
                f'<tr class="finding" data-category="{_e(f.get("category"))}"><td>{path}</td><td>{fverdict}</td>'
                f"<td>{_e(f.get('rule'))}</td><td>{_e(f.get('severity'))}</td><td>{_e(f.get('category'))}</td>"
                f"<td>{_e(f.get('message'))}<div class=meta>{_e(_location(f.get('location')))}</div></td>"
                f'<td class="evidence">{_evidence(f.get("evidence"))}</td></tr>'
            )
    if not rows:
        count = len(repo.get("files") or [])
        return f'<p class="empty">{count} file(s), no findings.</p>'
    head = "<tr><th>file</th><th>verdict</th><th>rule</th><th>severity</th><th>category</th><th>message</th><th>evidence</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _repo(repo: dict[str, Any]) -> str:
    verdict = _verdict(repo)
    cats = _categories(repo)
    kind = "dataset" if repo.get("type") == "dataset" else "model"
    sha = repo.get("sha")
    why = repo.get("why") or repo.get("error")
    state = repo.get("state")
    meta = [
        f"revision <code>{_e(sha)}</code>" if sha else "not scanned",
        f"first seen {_e(repo.get('first_seen'))}",
        f"scanned {_e(repo.get('scanned_at'))}" if repo.get("scanned_at") else "",
        f"state {_e(state)}" if state and state != "ok" else "",
        f"why: {_e(why)}" if why else "",
    ]
    return (
        f'<section class="repo" data-verdict="{_e(verdict)}" data-categories="{_e(" ".join(cats))}" '
        f'data-id="{_e(repo.get("id"))}">'
        f'<h2><span class="verdict v-{_e(verdict)}">{_e(state if verdict == "unscanned" and state and state != "ok" else verdict)}</span>'
        f'<span class="kind">{kind}</span><span class="id">{_e(repo.get("id"))}</span>'
        f'<span class="cats">{_e(", ".join(cats))}</span></h2>'
        f'<div class="meta">{" · ".join(m for m in meta if m)}</div>{_files_table(repo)}</section>'
    )


def _checkboxes(name: str, values: list[str], counts: Counter[str], on: set[str]) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="{name}" value="{_e(v)}"{" checked" if v in on else ""}> '
        f"{_e(v)} ({counts[v]})</label>"
        for v in values
    )
    return f'<fieldset id="filter-{name}"><legend>{name}</legend>{boxes}</fieldset>'


def write_html(
    repos: Callable[[], Iterable[dict[str, Any]]],
    stats: Callable[[], dict[str, Any]],
    events: int,
    out: TextIO,
) -> None:
    """The page, written as it is read: ``repos()`` (entries of the JSON report, malicious first) is
    iterated twice, once for the filters' counts, once for the rows; ``stats()`` after the first."""
    verdicts: Counter[str] = Counter()
    cats: Counter[str] = Counter()
    for r in repos():
        verdicts[_verdict(r)] += 1
        cats.update(_categories(r) or ["(none)"])
    total = sum(verdicts.values())
    verdict_values = [v for v in (*VERDICT_ORDER, "unscanned") if verdicts[v]]
    cat_values = sorted(c for c in cats if c != "(none)") + (["(none)"] if cats["(none)"] else [])
    stat_line = "".join(
        f"<span>{_e(k)}: {_e(v)}</span>" for k, v in stats().items() if k != "repos" and not isinstance(v, (dict, list))
    )
    out.write(
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>MalHug monitor report</title><style>{STYLE}</style></head><body>"
        "<h1>MalHug monitor report</h1>"
        f'<div class="stats"><span>repositories: {total}</span>{stat_line}'
        f"<span>events: {events}</span><span>shown: <b id=shown>{total}</b></span></div>"
        f"{_checkboxes('verdict', verdict_values, verdicts, set(verdict_values))}"
        f"{_checkboxes('category', cat_values, cats, set(cat_values))}"
        '<main id="repos">'
    )
    for r in repos():
        out.write(_repo(r))
    if not total:
        out.write('<p class="empty">No repositories in this report.</p>')
    out.write(f"</main><script>{SCRIPT}</script></body></html>\n")


def render_html(report: dict[str, Any]) -> str:
    """The page for ``report`` (the monitor's JSON report contract, docs/MONITOR.md) as one string."""
    repos = sorted(
        report.get("repos") or [],
        key=lambda r: (VERDICT_ORDER.get(_verdict(r), 4), str(r.get("type")), str(r.get("id"))),
    )
    out = io.StringIO()
    write_html(lambda: repos, lambda: report.get("stats") or {}, len(report.get("events") or []), out)
    return out.getvalue()
