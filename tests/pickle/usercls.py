"""A user-defined class for whole-object pickles in the tests (its module is not allowlisted)."""

from __future__ import annotations


class Block:
    def __init__(self, i: int) -> None:
        self.i = i
        self.name = f"block-{i}"
