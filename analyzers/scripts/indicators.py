"""What one piece of code was seen to do, before it becomes a located finding."""

from __future__ import annotations

from malhug.core.model import Category, Severity
from malhug.core.record import Record


class Indicator(Record):
    """One behaviour: the rule (mechanism), the attack category and a one-line reason.

    A ``Record`` (immutable, compared by value) rather than a frozen dataclass: the shell analysis
    of a pickle's command imports this, and creating a dataclass compiles its methods.
    """

    rule: str
    category: Category
    severity: Severity
    message: str
    evidence: str

    __slots__ = ("rule", "category", "severity", "message", "evidence")

    def __init__(self, rule: str, category: Category, severity: Severity, message: str, evidence: str = ""):
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "category", category)
        object.__setattr__(self, "severity", severity)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "evidence", evidence)


def worst_severity(indicators: list[Indicator] | tuple[Indicator, ...]) -> Severity:
    return max((i.severity for i in indicators), key=lambda s: s.rank, default=Severity.INFO)


def clip(text: str, limit: int = 200) -> str:
    """Evidence text: one line, bounded."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
