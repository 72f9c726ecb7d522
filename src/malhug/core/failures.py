"""The findings that say a file was not fully analyzed: malformed (MH901), over a limit (MH902), failed (MH903).

An analyzer raises ``MalformedInput`` or ``LimitExceeded`` and the dispatcher's guard reports it;
code that reports a failure and goes on (one zip member, one pickle call, the editor's worker, the
hub scan) builds the finding here. Code that recognises these findings compares with the names below.
"""

from __future__ import annotations

from malhug.core.model import Finding, Location
from malhug.core.rules import finding

MALFORMED = "MH901"
OVER_LIMIT = "MH902"
FAILED = "MH903"
FAILURE_RULES = frozenset({MALFORMED, OVER_LIMIT, FAILED})


def malformed(message: str, *, location: Location | None = None, evidence: str = "") -> Finding:
    """Input the analyzer could not parse (from here on, or in one part of the file)."""
    return finding(MALFORMED, message, location=location, evidence=evidence)


def over_limit(message: str, *, location: Location | None = None, evidence: str = "") -> Finding:
    """A resource limit (size, depth, time, memory) stopped the analysis of the file or a part of it."""
    return finding(OVER_LIMIT, message, location=location, evidence=evidence)


def failed(message: str, *, location: Location | None = None, evidence: str = "") -> Finding:
    """The analysis itself failed (an analyzer error, a dead worker process)."""
    return finding(FAILED, message, location=location, evidence=evidence)
