"""Source positions for a few nodes, computed in one cheap code-generation pass.

libcst's ``PositionProvider`` records a range for every node of the module, which costs more than
parsing on a 2,000-line file. The analysis needs positions only for the handful of nodes it
reports, so this state records syntactic ranges (the same ones ``PositionProvider`` gives) for a
target set and only counts lines and columns for everything else. Positions are 1-based lines and
0-based columns here; ``Location`` conversion adds one to columns (the report's columns are 1-based, ``docs/REPORT.md``).
"""

from __future__ import annotations

import ast
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

    def __init__(self, module: cst.Module, targets: set[int], line: int = 1):
        self.default_indent = module.default_indent
        self.default_newline = module.default_newline
        self.provider = None
        self.indent_tokens: list[str] = []
        self.tokens: list[str] = []
        self.line = line
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


def statement_starts(module: cst.Module, tree: ast.Module) -> list[int] | None:
    """The line where the code of each top-level statement of ``module`` starts (its leading blank and
    comment lines included), from CPython's tree of the same text; None when the two do not line up.
    A simple statement line holds as many CPython statements as it has ``;``-separated parts."""
    body = tree.body
    starts: list[int] = []
    i = 0
    for stmt in module.body:
        if i >= len(body):
            return None
        node = body[i]
        first = node.lineno
        for dec in getattr(node, "decorator_list", ()):
            first = min(first, dec.lineno)
        starts.append(first - len(stmt.leading_lines))
        i += len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
    return starts if i == len(body) else None


def resolve_in_statements(
    module: cst.Module, nodes: Iterable[cst.CSTNode], tops: dict[int, cst.CSTNode], tree: ast.Module | None
) -> dict[int, Range] | None:
    """``resolve`` that generates code only for the top-level statements holding ``nodes`` (``tops``),
    each started at its line from CPython's tree. None (use ``resolve``) when a node's statement is
    unknown, when the trees do not line up, or when a statement's code does not end where the next
    one starts: the result is then exactly what the full pass gives."""
    targets = {id(n) for n in nodes}
    if tree is None or not targets or not targets <= tops.keys():
        return None
    index = {id(stmt): i for i, stmt in enumerate(module.body)}
    wanted = sorted({index.get(id(tops[t]), -1) for t in targets})
    if not wanted or wanted[0] < 0:
        return None
    starts = statement_starts(module, tree)
    if starts is None:
        return None
    found: dict[int, Range] = {}
    for i in wanted:
        state = _RecordingState(module, targets, line=starts[i])
        module.body[i]._codegen(cast(CodegenState, state))
        if state.column != 0 or (i + 1 < len(starts) and state.line != starts[i + 1]):
            return None
        if i + 1 == len(starts) and state.line != _end_line(tree.body[-1]) + 1:
            return None
        found.update(state.found)
    return found if targets <= found.keys() else None


def _end_line(node: ast.stmt) -> int:
    return node.end_lineno if node.end_lineno is not None else node.lineno
