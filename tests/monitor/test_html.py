"""``render_html``: one self-contained, escaped page from the monitor's JSON report (docs/MONITOR.md).

Evidence is attacker-controlled text (OWASP XSS prevention cheat sheet, rule 1: HTML-escape untrusted
data in element content and attributes)."""

from __future__ import annotations

import re

from malhug.monitor.html import render_html
from tests.monitor.html_report import XSS_ATTR, XSS_SCRIPT, sample_report


def test_hostile_evidence_and_ids_are_escaped() -> None:
    page = render_html(sample_report())
    assert XSS_SCRIPT not in page and XSS_ATTR not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;" in page
    assert "evil/xss-&lt;b&gt;name&lt;/b&gt;" in page and "<b>name</b>" not in page
    assert len(re.findall(r"<script>", page)) == 1  # only the page's own filter script
    assert "<img" not in page


def test_page_is_self_contained() -> None:
    page = render_html(sample_report())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # CSP: nothing else may load


def test_malicious_then_suspicious_then_the_rest_with_details() -> None:
    page = render_html(sample_report())
    order = re.findall(r'<section class="repo" data-verdict="(\w+)"[^>]*data-id="([^"]*)"', page)
    assert order == [
        ("malicious", "evil/creds"),
        ("malicious", "evil/xss-&lt;b&gt;name&lt;/b&gt;"),
        ("suspicious", "org/script-data"),
        ("error", "org/broken"),
        ("clean", "org/clean-model"),
        ("unscanned", "org/gated"),
    ]
    assert "revision <code>c0ffee" in page and "first seen 2026-12-06T10:00:00Z" in page
    assert "archive/data.pkl @42" in page and "reverse-shell" in page and "MH101" in page
    assert "why: gated: manual approval" in page and "error: timeout: slow body" in page
    assert 'name="category" value="credential-theft"' in page and 'name="verdict" value="suspicious"' in page


def test_long_evidence_is_cut_and_an_empty_report_still_renders() -> None:
    report = sample_report()
    report["repos"][3]["files"][0]["findings"][0]["evidence"] = "A" * 5000
    page = render_html(report)
    assert "A" * 2000 + "… (3000 more characters in the JSON report)" in page and "A" * 2001 not in page
    empty = render_html({"repos": [], "stats": {}, "events": []})
    assert "No repositories in this report." in empty
