"""``# malhug: ignore[MH5xx]`` comments: suppress findings on one line.

``# malhug: ignore`` suppresses every rule on its line; ``# malhug: ignore[MH501, MH505]`` only the
listed ones. The language server uses the same helper for its own rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_IGNORE = re.compile(r"#\s*malhug:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)


def suppressed_rules(line_text: str) -> frozenset[str] | None:
    """Rules a line suppresses: ``None`` for none, an empty set for all."""
    m = _IGNORE.search(line_text)
    if m is None:
        return None
    if m.group(1) is None:
        return frozenset()
    return frozenset(r.strip().upper() for r in m.group(1).split(",") if r.strip())


def is_suppressed(lines: Sequence[str], line: int | None, rule: str) -> bool:
    """Whether ``rule`` is suppressed on 1-based ``line`` of ``lines`` (the file split into lines)."""
    if line is None or not 1 <= line <= len(lines):
        return False
    rules = suppressed_rules(lines[line - 1])
    if rules is None:
        return False
    return not rules or rule.upper() in rules
