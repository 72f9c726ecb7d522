"""What one piece of code was seen to do, before it becomes a located finding."""

from __future__ import annotations

from dataclasses import dataclass

from malhug.core.model import Category, Severity


@dataclass(frozen=True, slots=True)
class Indicator:
    """One behaviour: the rule (mechanism), the attack category and a one-line reason."""

    rule: str
    category: Category
    severity: Severity
    message: str
    evidence: str = ""


def worst_severity(indicators: list[Indicator] | tuple[Indicator, ...]) -> Severity:
    return max((i.severity for i in indicators), key=lambda s: s.rank, default=Severity.INFO)


def clip(text: str, limit: int = 200) -> str:
    """Evidence text: one line, bounded."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
