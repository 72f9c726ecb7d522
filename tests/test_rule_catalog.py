"""Every rule is traceable: a test proves it fires, a test proves it stays quiet, and docs/RULES.md says where.

The tests are found by their ``fires``/``quiet`` markers (``tests/rulemarks.py``), read with ``ast``
without running them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from malhug.core.rules import CATALOG
from tests.rulemarks import BadMark, Mark, claims_by_rule, scan_source, scan_tests
from tests.tooling import load_tool

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scanned() -> tuple[list[Mark], list[BadMark]]:
    return scan_tests(ROOT)


@pytest.fixture(scope="module")
def marks(scanned: tuple[list[Mark], list[BadMark]]) -> list[Mark]:
    return scanned[0]


def _live_rules() -> list[str]:
    return [rid for rid in CATALOG if not CATALOG[rid].deprecated]


def test_every_rule_has_a_fires_test_and_a_quiet_test(marks: list[Mark]) -> None:
    tests = claims_by_rule(marks)
    no_fires = [rid for rid in _live_rules() if not tests.get(rid, {}).get("fires")]
    no_quiet = [rid for rid in _live_rules() if not tests.get(rid, {}).get("quiet")]
    assert not no_fires and not no_quiet, (
        f"rules without a @pytest.mark.fires test: {no_fires}; "
        f"rules without a @pytest.mark.quiet test (a benign look-alike): {no_quiet}"
    )


def test_markers_name_catalogued_rules(marks: list[Mark]) -> None:
    unknown = sorted({f"{m.test}: {m.rule}" for m in marks if m.rule not in CATALOG})
    assert not unknown, f"markers naming no catalogued rule: {unknown}"


def test_marked_tests_name_their_rule(marks: list[Mark]) -> None:
    silent = sorted({f"{m.test}: {m.kind}({m.rule})" for m in marks if not m.mentions})
    assert not silent, f"marked tests whose code and parametrization never name the rule id: {silent}"


def test_markers_are_readable(scanned: tuple[list[Mark], list[BadMark]]) -> None:
    bad = scanned[1]
    assert not bad, (
        "fires/quiet markers are read without running the tests: give them string-literal ids, on a test "
        f"function, in pytestmark or in a literal parametrize list: {bad}"
    )


SAMPLE = '''
import pytest
pytestmark = [pytest.mark.e2e, pytest.mark.quiet("MH902")]

@pytest.mark.fires("MH101", "MH105")
def test_decorated():
    """MH999 in a docstring names nothing."""
    assert {"MH101", "MH902"} <= rules()

@pytest.mark.fires("MH502")
@pytest.mark.parametrize("rule", [
    pytest.param("MH501", marks=pytest.mark.fires("MH501")),
    pytest.param("x", marks=[pytest.mark.quiet("MH502"), pytest.mark.slow], id="MH502"),
    "MH503",
])
def test_cases(rule):
    assert rule in "MH902"

@pytest.mark.fires(RULE)
def helper_is_not_a_test():
    pass

@pytest.mark.quiet(RULE)
def test_computed(): ...

CASES = [pytest.param("MH101", marks=pytest.mark.fires("MH101"))]
'''


def test_the_scanner_reads_every_form_and_catches_a_lie() -> None:
    marks, bad = scan_source(SAMPLE, "tests/x/test_sample.py")
    got = {(m.kind, m.rule, m.test.split("::")[1], m.mentions) for m in marks}
    assert got == {
        ("quiet", "MH902", "test_decorated", True),
        ("fires", "MH101", "test_decorated", True),
        ("fires", "MH105", "test_decorated", False),  # a marker naming a rule the test never looks at
        ("quiet", "MH902", "test_cases", True),
        ("fires", "MH501", "test_cases", True),
        ("quiet", "MH502", "test_cases", False),  # its id is a name, not an assertion
        ("fires", "MH502", "test_cases", False),  # the cases' markers do not count as mentions
        ("quiet", "MH902", "test_computed", False),
    }
    assert all(m.test.startswith("tests/x/test_sample.py::") for m in marks)
    assert [b.text for b in bad] == [
        "pytest.mark.quiet(RULE)",  # not a literal
        "not attached to a test: pytest.mark.fires(RULE)",  # on a helper
        "not attached to a test: pytest.mark.fires('MH101')",  # in a variable
    ]


@pytest.fixture(scope="module")
def doc() -> str:
    return str(load_tool("rules_doc").render(ROOT))


def test_rules_doc_is_current(doc: str) -> None:
    committed = (ROOT / "docs" / "RULES.md").read_text(encoding="utf-8")
    assert committed == doc, "docs/RULES.md is stale: run `make rules-doc` to regenerate it"


def test_rules_doc_links_each_rule_to_its_code_and_tests(doc: str) -> None:
    row = next(line for line in doc.splitlines() if line.startswith("| [MH111](#mh111) |"))
    assert "[analyzers/pickle/" in row and "](../analyzers/pickle/" in row, "where the rule fires in the product code"
    assert (
        "fires: [tests/pickle/test_streams.py::test_trailing_bytes_are_a_low_note](../tests/pickle/test_streams.py)"
        in row
    )
    assert "\n## MH111\n" in doc, "the per-rule sections stay"


def test_every_repository_file_a_rule_names_exists() -> None:
    """Rule texts are shown in reports and docs/RULES.md: a ``docs/…`` or ``src/…`` path they name
    must be a file of the repository (a rationale once pointed at a page that was never written)."""
    import re

    named = re.compile(r"\b((?:docs|src|analyzers|server|tools)/[\w./-]+\.(?:md|py|toml|jsonl?))\b")
    missing = sorted(
        (rule.id, path)
        for rule in CATALOG.values()
        for path in named.findall(f"{rule.rationale} {rule.remediation}")
        if not (ROOT / path).is_file()
    )
    assert missing == []
