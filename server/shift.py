"""Keep findings of an older text in place after an edit, until fresh ones arrive.

The script analyzer is slow on big files, so its findings are recomputed in the background. Until
they are, the previous ones are carried over: unchanged lines before the edit keep their
positions, lines after it shift by the number of lines inserted or removed, and findings that touch
the edited region are dropped (they will come back with the fresh analysis if still there).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from malhug.core.model import Finding, Location


def _changed_region(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """(common prefix lines, common suffix lines), not overlapping."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    return prefix, suffix


def _move(loc: Location, prefix: int, first_moved: int, delta: int) -> Location | None:
    """``loc`` (1-based lines) in the new text, or None when it is inside the edited region."""
    if loc.line is None:
        return loc
    end = loc.end_line if loc.end_line is not None else loc.line
    if end <= prefix:
        return loc
    if loc.line > first_moved:
        return dataclasses.replace(
            loc, line=loc.line + delta, end_line=None if loc.end_line is None else loc.end_line + delta
        )
    return None


def shift_findings(old: Sequence[str], new: Sequence[str], findings: Sequence[Finding]) -> list[Finding]:
    if list(old) == list(new):
        return list(findings)
    prefix, suffix = _changed_region(old, new)
    first_moved = len(old) - suffix  # 1-based lines above this are moved, if not in the prefix
    delta = len(new) - len(old)
    out = []
    for finding in findings:
        loc = _move(finding.location, prefix, first_moved, delta)
        steps = [(_move(s.location, prefix, first_moved, delta), s) for s in finding.trace]
        if loc is None or any(moved is None for moved, _ in steps):
            continue
        trace = tuple(dataclasses.replace(s, location=moved) for moved, s in steps if moved is not None)
        out.append(dataclasses.replace(finding, location=loc, trace=trace))
    return out
