"""Script analysis bounded in memory and time on the pathological shapes of #15.

A 1.2 MB loading script of 200,000 trivial statements cost ~19 s and ~2 GB (libcst keeps every
statement). Sources over the statement bound (``Limits.max_source_statements``) are refused with
MH902 before CPython or libcst build a tree; deep nesting is refused before libcst; an implicit
concatenation libcst cannot parse is reported, never left clean. Work is counted (parser calls,
profiled calls for N and 4N), never timed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import libcst
import pytest

from malhug.analyzers.api import scan_bytes
from malhug.analyzers.limits import Limits
from malhug.analyzers.scripts import parsing, relevance
from malhug.analyzers.scripts.analyzer import analyze_text
from malhug.analyzers.scripts.size import count_statements, count_tokens
from malhug.core.model import FileReport, Verdict
from tests.scripts.helpers import rules

PAYLOAD = "import os\nos.system('echo malhug')\n"


def among(statements: list[str], payload: str = PAYLOAD) -> str:
    """``payload`` in the middle of ``statements`` (one per line)."""
    half = len(statements) // 2
    return "".join(s + "\n" for s in statements[:half]) + payload + "".join(s + "\n" for s in statements[half:])


def scan_script(text: str, limits: Limits | None = None) -> FileReport:
    if limits is None:
        return scan_bytes(text.encode(), name="loader.py")
    return scan_bytes(text.encode(), name="loader.py", limits=limits)


class Counter:
    """Counts calls of a function it replaces (and still calls it)."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.real(*args, **kwargs)


@pytest.fixture
def parsers(monkeypatch: pytest.MonkeyPatch) -> dict[str, Counter]:
    """Counters on libcst's parse and on the CPython-tree survey (relevance.Module)."""
    cst_parse = Counter(libcst.parse_module)
    module = Counter(relevance.Module)
    monkeypatch.setattr(parsing.cst, "parse_module", cst_parse)
    monkeypatch.setattr(relevance, "Module", module)
    return {"libcst": cst_parse, "survey": module}


TRIVIAL = {
    "assignments": lambda n: [f"x{i} = {i}" for i in range(n)],
    "pass": lambda n: ["pass"] * n,
    "constants": lambda n: ["1"] * n,
    "docstrings": lambda n: ['"""x"""'] * n,
}


@pytest.mark.parametrize("shape", sorted(TRIVIAL))
def test_payload_among_200000_trivial_statements_is_refused_before_any_tree(
    shape: str, parsers: dict[str, Counter]
) -> None:
    report = scan_script(among(TRIVIAL[shape](200_000)))
    limit = [f for f in report.findings if f.rule == "MH902"]
    assert limit and "source too large to analyze" in limit[0].message, rules(report.findings)
    assert report.verdict is not Verdict.CLEAN
    assert parsers["libcst"].calls == 0 and parsers["survey"].calls == 0


def test_statements_over_the_limit_counted_in_the_tree() -> None:
    """Dense statements (``a=1;b=2;…`` on a few lines) pass the line and token counts, not the
    statement count of CPython's tree."""
    text = "\n".join(";".join(f"a{i}={i}" for i in range(100)) for _ in range(30)) + "\n" + PAYLOAD
    refused = analyze_text(text, "loader.py", report_syntax_errors=True, budget=None)
    assert "MH505" in rules(refused)  # under the default limit: analyzed
    report = scan_script(text, Limits(max_source_statements=2_000))
    limit = [f for f in report.findings if f.rule == "MH902"]
    assert limit and "more than 2000 statements" in limit[0].message
    assert report.verdict is not Verdict.CLEAN


@pytest.mark.quiet("MH902")
def test_real_sized_scripts_are_analyzed_whole() -> None:
    """5,000 statements (more than real loading scripts hold) are under the bound: the payload is found."""
    report = scan_script(among(TRIVIAL["assignments"](5_000)))
    assert "MH902" not in {f.rule for f in report.findings}
    assert report.verdict is Verdict.MALICIOUS and "MH505" in {f.rule for f in report.findings}


def _profiled_calls(action: Callable[[], Any]) -> int:
    calls = 0

    def hook(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(hook)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


def test_work_is_linear_in_the_number_of_statements() -> None:
    def analyze(n: int) -> Callable[[], Any]:
        text = among(TRIVIAL["assignments"](n))
        return lambda: analyze_text(text, "loader.py", load_time=True)

    analyze(50)()  # imports and caches warmed up outside the counts
    small, large = _profiled_calls(analyze(1_000)), _profiled_calls(analyze(4_000))
    assert large < 6 * small, (small, large)


DEEP = {
    "parentheses": "x = " + "(" * 1000 + "1" + ")" * 1000,
    "attribute chain": "x = os" + ".path" * 5000,
    "string concatenation": "x = " + " + ".join(['"a"'] * 3000),
    "nested calls": "x = " + "f(" * 1000 + "1" + ")" * 1000,
    "subscripts": "x = y" + "[0]" * 2000,
}


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_deep_nesting_is_refused_before_libcst(shape: str, parsers: dict[str, Counter]) -> None:
    report = scan_script("import os\n" + DEEP[shape] + "\nos.system(x)\n")
    limit = [f for f in report.findings if f.rule == "MH902"]
    assert limit, rules(report.findings)
    assert report.verdict is not Verdict.CLEAN
    assert parsers["libcst"].calls == 0


def test_deep_if_nesting_is_analyzed() -> None:
    """CPython allows 100 levels of indentation: a payload at the bottom is found."""
    nested = "".join(" " * i + "if x:\n" for i in range(90)) + " " * 90 + "os.system('echo malhug')\n"
    report = scan_script("import os\nx = 1\n" + nested)
    assert report.verdict is Verdict.MALICIOUS


def test_implicit_concatenation_libcst_cannot_parse_is_never_clean(parsers: dict[str, Counter]) -> None:
    """``("a" "a" … "a")`` 20,000 times: CPython reads one string, libcst's parser refuses it. The
    statement is not analyzed; the file says so (MH902) instead of being clean."""
    text = "import os\nx = (" + " ".join(['"echo "'] * 20_000) + ")\nos.system(x)\n"
    report = scan_script(text)
    limit = [f for f in report.findings if f.rule == "MH902"]
    assert limit and "CPython accepts" in limit[0].message, rules(report.findings)
    assert report.verdict is not Verdict.CLEAN
    assert parsers["libcst"].calls <= parsing.MAX_REPAIRS


def test_short_implicit_concatenation_is_analyzed() -> None:
    text = "import os\nx = (" + " ".join(['"echo "'] * 50) + '"malhug")\nos.system(x)\n'
    report = scan_script(text)
    assert report.verdict is Verdict.MALICIOUS and "MH902" not in {f.rule for f in report.findings}


def test_size_counters_stop_at_their_bound() -> None:
    assert count_tokens("a b c d e f", stop=3) == 4
    assert count_tokens("x = 1\n", stop=100) == 3
    import ast

    tree = ast.parse("if a:\n    b\n    c\nelse:\n    d\ntry:\n    e\nexcept E:\n    f\n")
    assert count_statements(tree, stop=100) == 7
    assert count_statements(tree, stop=1) == 2


def test_one_line_of_too_many_tokens_is_refused_before_cpython_parses(
    parsers: dict[str, Counter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One statement, one line, 600,000 tokens (``x = [1,1,…]``): the line and statement counts
    cannot see it, the token count can, before CPython builds its tree."""
    import ast

    cpython = Counter(ast.parse)
    monkeypatch.setattr(parsing.ast, "parse", cpython)
    text = "import os\nx = [" + ",".join(["1"] * 300_000) + "]\nos.system('echo malhug')\n"
    findings = analyze_text(text, "loader.py", report_syntax_errors=True)
    limit = [f for f in findings if f.rule == "MH902"]
    assert limit and "tokens" in limit[0].message, rules(findings)
    assert cpython.calls == 0 and parsers["libcst"].calls == 0
