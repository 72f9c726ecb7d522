"""The core model and the rule catalog."""

from __future__ import annotations

import pytest

from malhug.core.model import Category, FileReport, Finding, Location, Severity, Verdict
from malhug.core.rules import CATALOG, RuleCatalogError, _parse, finding


def test_every_rule_is_complete_and_in_its_area() -> None:
    assert len(CATALOG) > 0
    for rid in CATALOG:
        rule = CATALOG[rid]
        assert rule.title and rule.rationale and rule.remediation
        assert isinstance(rule.category, Category)


def test_rule_in_wrong_file_is_refused() -> None:
    text = '[[rule]]\nid="MH101"\ntitle="t"\ncategory="code-exec"\nseverity="high"\nrationale="r"\nremediation="m"\n'
    with pytest.raises(RuleCatalogError, match="does not belong"):
        _parse("limits", text)


def test_unknown_category_is_refused() -> None:
    text = '[[rule]]\nid="MH999"\ntitle="t"\ncategory="mischief"\nseverity="high"\nrationale="r"\nremediation="m"\n'
    with pytest.raises(RuleCatalogError):
        _parse("limits", text)


def test_unknown_rule_id_fails_loudly() -> None:
    with pytest.raises(KeyError):
        finding("MH000")


@pytest.mark.parametrize(
    ("severities", "error", "expected"),
    [
        ([], None, Verdict.CLEAN),
        ([Severity.LOW, Severity.INFO], None, Verdict.CLEAN),
        ([Severity.MEDIUM], None, Verdict.SUSPICIOUS),
        ([Severity.LOW, Severity.HIGH], None, Verdict.MALICIOUS),
        ([], "cannot read", Verdict.ERROR),
        ([Severity.CRITICAL], "truncated", Verdict.MALICIOUS),
    ],
)
def test_file_verdict(severities: list[Severity], error: str | None, expected: Verdict) -> None:
    findings = [Finding("MH901", s, Category.MALFORMED, "m") for s in severities]
    assert FileReport(path="p", format="pickle", findings=findings, error=error).verdict is expected


def test_finding_round_trips_through_json_and_nests() -> None:
    f = finding("MH902", "too deep", location=Location(member="data.pkl", offset=7), evidence="e")
    assert Finding.from_dict(f.to_dict()) == f
    nested = f.inside("outer.zip")
    assert nested.location.member == "outer.zip:data.pkl"
    assert nested.location.offset == 7
