"""Small helpers for messages people read: a count with its noun in the right number."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 commit``, ``2 commits``, ``0 commits`` (``plural`` for irregular nouns: ``1 entry``/``2 entries``)."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
