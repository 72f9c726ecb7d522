"""Helpers shared by the script-analysis tests."""

from __future__ import annotations

from malhug.analyzers.shared.embedded import most_specific
from malhug.core.model import Category, Finding, Severity


def line_of(code: str, needle: str, nth: int = 0) -> int:
    """1-based line of the ``nth`` occurrence of ``needle``."""
    index = -1
    for _ in range(nth + 1):
        index = code.index(needle, index + 1)
    return code.count("\n", 0, index) + 1


def column_of(code: str, needle: str) -> int:
    """1-based column of the first occurrence of ``needle`` on its line."""
    index = code.index(needle)
    return index - (code.rfind("\n", 0, index) + 1) + 1


def top_category(findings: list[Finding]) -> Category | None:
    """The file's attack category: the most specific over findings that affect the verdict."""
    cats = [f.category for f in findings if f.severity >= Severity.MEDIUM]
    return most_specific(cats) if cats else None


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}
