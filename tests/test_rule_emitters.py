"""From a rule id to the code that emits it in one step: each id's literal is written in exactly one
place of the product code (``analyzers/``, ``server/``, ``src/malhug/``; a deprecated rule's in none), never computed.

The place is the table row or the function that emits the rule; code that needs to recognise a rule
imports the name given to it there. ``tests/rulemap.py`` finds the places by parsing the code.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from malhug.core.rules import CATALOG
from tests.rulemap import RuleMap, computed_ids, emitters, scan


@pytest.fixture(scope="module")
def product() -> RuleMap:
    return scan()


def _places(sites: list) -> str:
    return ", ".join(str(s) for s in sites)


def test_every_rule_id_is_written_in_exactly_one_place(product: RuleMap) -> None:
    found = product.emitters
    problems = []
    for rule in sorted(CATALOG.values(), key=lambda r: r.id):
        sites = found.get(rule.id, [])
        if rule.deprecated and sites:  # docs/RULE-IDS.md: a retired rule is no longer emitted
            problems.append(f"{rule.id} is deprecated but still written at {_places(sites)}")
        elif len(sites) > 1:
            problems.append(f"{rule.id} is written in {len(sites)} places: {_places(sites)}")
        elif not sites and not rule.deprecated:
            problems.append(f"{rule.id} ({rule.title}) is emitted nowhere")
    assert not problems, (
        "each rule id is written once, where its findings are emitted; elsewhere import that name:\n"
        + "\n".join(problems)
    )


def test_every_rule_id_in_the_code_is_catalogued(product: RuleMap) -> None:
    unknown = {rule: sites for rule, sites in product.emitters.items() if rule not in CATALOG}
    assert not unknown, "ids not in src/malhug/core/rules/*.toml: " + "; ".join(
        f"{rule} at {_places(sites)}" for rule, sites in unknown.items()
    )


def test_no_rule_id_is_computed(product: RuleMap) -> None:
    computed = product.computed
    assert not computed, "write rule ids as literals: " + "; ".join(f"{s} {s.text!r}" for s in computed)


def test_the_scan_finds_literals_names_and_computed_ids_and_skips_docstrings(tmp_path: Path) -> None:
    (tmp_path / "analyzers").mkdir()
    (tmp_path / "server").mkdir()
    (tmp_path / "analyzers" / "a.py").write_text(
        textwrap.dedent(
            '''
            """MH101 in a docstring does not count."""
            RULE = "MH101"  # "MH102" in a comment does not count

            class Judge:
                def decide(self, n):
                    """MH103 here neither."""
                    emit("MH104")
                    return f"MH10{n}", "MH1" + str(n), "MH%03d" % n, "MH{}".format(n), "not MH105"

            def rule_finding(message):
                """Only returns a finding of RULE: calling it uses RULE."""
                return finding(RULE, message)
            '''
        )
    )
    (tmp_path / "analyzers" / "api.py").write_text("from malhug.analyzers.a import RULE\n")  # passed on
    (tmp_path / "server" / "b.py").write_text(
        textwrap.dedent(
            """
            import malhug.analyzers.a as rules_a
            from malhug.analyzers.api import RULE as R

            CHECK = {"MH104"}

            def check(f):
                return f.rule == R or f.rule == rules_a.RULE

            def report():
                return rules_a.rule_finding("x")
            """
        )
    )
    found = emitters(tmp_path)
    assert sorted(found) == ["MH101", "MH104"]
    assert [(s.path, s.line, s.qualname) for s in found["MH101"]] == [("analyzers/a.py", 3, "<module>")]
    assert [(s.path, s.line, s.qualname) for s in found["MH104"]] == [
        ("analyzers/a.py", 8, "Judge.decide"),
        ("server/b.py", 5, "<module>"),
    ]
    uses = scan(tmp_path).uses
    assert sorted(uses) == ["MH101"]
    assert [(s.path, s.line, s.qualname, s.text) for s in uses["MH101"]] == [
        ("analyzers/a.py", 13, "rule_finding", "RULE"),
        ("server/b.py", 8, "check", "RULE"),
        ("server/b.py", 8, "check", "RULE"),
        ("server/b.py", 11, "report", "rule_finding"),
    ]
    assert [str(s) for s in scan(tmp_path).fires_in("MH101")] == [
        "analyzers/a.py:3 (<module>)",
        "analyzers/a.py:13 (rule_finding)",
        "server/b.py:8 (check)",
        "server/b.py:11 (report)",
    ]
    computed = computed_ids(tmp_path)
    assert [s.text for s in computed] == ['f"MH10{n}"', '"MH1" + str(n)', '"MH%03d" % n', '"MH{}".format(n)']
    assert {(s.line, s.qualname) for s in computed} == {(9, "Judge.decide")}
