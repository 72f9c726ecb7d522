"""Source positions for a few nodes, computed in one cheap code-generation pass.

libcst's ``PositionProvider`` records a range for every node of the module, which costs more than
parsing on a 2,000-line file. The analysis needs positions only for the handful of nodes it
reports, so this state records syntactic ranges (the same ones ``PositionProvider`` gives) for a
target set and only counts lines and columns for everything else. Positions are 1-based lines and
0-based columns here; ``Location`` conversion adds one to columns (DESIGN.md: 1-based).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import cast

import libcst as cst
from libcst._nodes.internal import CodegenState

Range = tuple[int, int, int, int]
_NO_RECORD: contextlib.AbstractContextManager[None] = (
    contextlib.nullcontext()
)  # stateless, reusable  # line, column, end_line, end_column (column 0-based, end exclusive)


class _RecordingState:
    """Duck-typed ``CodegenState``: tracks line/column, records ranges of target nodes only."""

    def __init__(self, module: cst.Module, targets: set[int]):
        self.default_indent = module.default_indent
        self.default_newline = module.default_newline
        self.provider = None
        self.indent_tokens: list[str] = []
        self.tokens: list[str] = []
        self.line = 1
        self.column = 0
        self.targets = targets
        self.found: dict[int, Range] = {}
        self._stack: list[tuple[int, int]] = []

    def increase_indent(self, value: str) -> None:
        self.indent_tokens.append(value)

    def decrease_indent(self) -> None:
        self.indent_tokens.pop()

    def add_indent_tokens(self) -> None:
        for tok in self.indent_tokens:
            self.add_token(tok)

    def add_token(self, value: str) -> None:
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
            return
        self.line += value.count("\n") + value.count("\r") - value.count("\r\n")
        self.column = len(value) - max(value.rfind("\n"), value.rfind("\r")) - 1

    def pop_trailing_newline(self) -> None:
        return None

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.targets:
            self._stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.targets:
            line, col = self._stack.pop()
            self.found.setdefault(id(node), (line, col, self.line, self.column))

    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> contextlib.AbstractContextManager[None]:
        if id(node) not in self.targets:
            return _NO_RECORD
        return self._record(node, start_node, end_node)

    @contextlib.contextmanager
    def _record(
        self, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None
    ) -> Iterator[None]:
        start = (self.line, self.column)
        try:
            yield
        finally:
            end = (self.line, self.column)
            if start_node is not None and id(start_node) in self.found:
                start = self.found[id(start_node)][:2]
            if end_node is not None and id(end_node) in self.found:
                end = self.found[id(end_node)][2:]
            self.found[id(node)] = (start[0], start[1], end[0], end[1])


def resolve(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, Range]:
    """Ranges of ``nodes`` (keyed by ``id(node)``), in one pass over the module."""
    targets = {id(n) for n in nodes}
    if not targets:
        return {}
    state = _RecordingState(module, targets)
    module._codegen(cast(CodegenState, state))
    return state.found
