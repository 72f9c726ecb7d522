"""Shared test configuration. Each area keeps its fixtures in its own folder (tests/<area>/)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from malhug.core.rules import CATEGORY_MISMATCH


class _Mismatches(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == CATEGORY_MISMATCH:
            self.seen.append(record.getMessage())


@pytest.fixture(autouse=True)
def _finding_categories_are_catalogued() -> Iterator[None]:
    """Every finding made in any test carries a category its rule's catalog entry lists."""
    handler = _Mismatches()
    logger = logging.getLogger("malhug.core.rules")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not handler.seen, f"finding categories missing from the rule catalog: {sorted(set(handler.seen))}"
