"""One analysis' resource budget, shared with the payloads it decodes and analyzes in turn.

Hostile scripts nest ``exec(zlib.decompress(b64decode(…)))`` many times over, each layer bounded
but their number not; the budget bounds the whole: wall-clock time, nested analyses, decoded bytes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from malhug.analyzers.limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from malhug.analyzers.scripts.indicators import Indicator

DEFAULT_SECONDS = 20.0
MAX_NESTED = 32
MAX_DECODED_TOTAL = 16 << 20
DEFAULT_STATEMENTS = DEFAULT_LIMITS.max_source_statements


class BudgetExceeded(Exception):
    """The analysis ran out of time; what was found so far is still reported."""


@dataclass(slots=True)
class Budget:
    """The remaining time, nested analyses and decoded bytes of one analysis."""

    seconds: float = DEFAULT_SECONDS
    nested: int = MAX_NESTED
    decoded: int = MAX_DECODED_TOTAL
    deadline: float = 0.0  # 0: ``seconds`` from now
    # Indicators of payloads already analyzed in this analysis (the fixpoint meets them again).
    memo: dict[tuple[str, int], list[Indicator]] = field(default_factory=dict)
    # Statements a source (or a payload decoded from it) may hold to be analyzed (size.py).
    max_statements: int = DEFAULT_STATEMENTS

    def __post_init__(self) -> None:
        self.deadline = self.deadline or time.monotonic() + self.seconds

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"analysis time budget of {self.seconds:g} s exceeded")

    def take_nested(self) -> bool:
        """Whether one more nested payload may be analyzed (and count it)."""
        if self.nested <= 0:
            return False
        self.nested -= 1
        return True

    def take_decoded(self, size: int) -> bool:
        """Whether ``size`` more decoded bytes may be kept as a constant (and count them)."""
        if size > self.decoded:
            return False
        self.decoded -= size
        return True
