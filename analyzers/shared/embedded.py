"""Assessment of code embedded in model files: Python code strings and shell commands.

The pickle, Keras and template analyzers hand constant strings that will be executed (``exec``
arguments, ``os.system`` commands, Lambda bytecode constants) to ``ctx.seams.assess_code``;
the script analysis (``malhug.analyzers.scripts.embedded``) implements it with
the same taint analysis and shell heuristics it applies to loading scripts. This module holds what
both sides share: the result (``CodeAssessment``) and the order of categories.
"""

from __future__ import annotations

from dataclasses import dataclass

from malhug.core import categories
from malhug.core.model import Category, Finding, Severity

# The ranking lives in core (the file report and the Hub summary use it too): when a payload shows
# several behaviours, its category is the most dangerous one (docs/CATEGORIES.md).
CATEGORY_PRECEDENCE: tuple[Category, ...] = categories.RANKING


def most_specific(found: list[Category] | set[Category] | tuple[Category, ...]) -> Category | None:
    """The category that heads a payload showing ``found`` (``core.categories.most_dangerous``)."""
    return categories.most_dangerous(found)


@dataclass(frozen=True, slots=True)
class CodeAssessment:
    """What a piece of code would do if it ran.

    ``category`` is the most specific attack category (``None`` when nothing risky was seen),
    ``indicators`` short human-readable reasons ("connects a socket and spawns a pty"),
    ``findings`` the detailed findings with locations relative to the code string (line/column).
    """

    category: Category | None = None
    severity: Severity = Severity.INFO
    indicators: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
