"""One analysis' resource budget, shared with the payloads it decodes and analyzes in turn.

Hostile scripts nest ``exec(zlib.decompress(b64decode(…)))`` many times over, each layer bounded
but their number not; the budget bounds the whole: wall-clock time, nested analyses, decoded bytes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from malhug.analyzers.limits import DEFAULT_LIMITS
from malhug.core.record import MutableRecord

if TYPE_CHECKING:
    from malhug.analyzers.scripts.indicators import Indicator

DEFAULT_SECONDS = 20.0
MAX_NESTED = 32
MAX_DECODED_TOTAL = 16 << 20
DEFAULT_STATEMENTS = DEFAULT_LIMITS.max_source_statements


class BudgetExceeded(Exception):
    """The analysis ran out of time; what was found so far is still reported."""


class Budget(MutableRecord):
    """The remaining time, nested analyses and decoded bytes of one analysis.

    A ``MutableRecord`` rather than a dataclass: the shell analysis of a pickle's command creates
    one, and creating a dataclass compiles its methods.
    """

    _fields = ("seconds", "nested", "decoded", "deadline", "memo", "max_statements")

    def __init__(
        self,
        seconds: float = DEFAULT_SECONDS,
        nested: int = MAX_NESTED,
        decoded: int = MAX_DECODED_TOTAL,
        deadline: float = 0.0,
        memo: dict[tuple[str, int], list[Indicator]] | None = None,
        max_statements: int = DEFAULT_STATEMENTS,
    ):
        self.seconds = seconds
        self.nested = nested
        self.decoded = decoded
        self.deadline = deadline or time.monotonic() + seconds
        # Indicators of payloads already analyzed in this analysis (the fixpoint meets them again).
        self.memo: dict[tuple[str, int], list[Indicator]] = {} if memo is None else memo
        # Statements a source (or a payload decoded from it) may hold to be analyzed (size.py).
        self.max_statements = max_statements

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
