"""Source positions of the user-code analysis: 0-based lines, columns in code points.

``ast`` reports columns as UTF-8 byte offsets; LSP clients want UTF-16 (or UTF-8/32) units. Spans
are converted once from ``ast`` (``SourceLines.span``); the language server converts them to the
client's units when a diagnostic or edit is sent, the CLI reports them 1-based.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, order=True)
class Pos:
    line: int
    col: int


@dataclass(frozen=True)
class Span:
    line: int
    col: int
    end_line: int
    end_col: int

    @property
    def start(self) -> Pos:
        return Pos(self.line, self.col)

    @property
    def end(self) -> Pos:
        return Pos(self.end_line, self.end_col)

    def contains(self, pos: Pos) -> bool:
        return self.start <= pos <= self.end

    def to_json(self) -> list[int]:
        return [self.line, self.col, self.end_line, self.end_col]

    @staticmethod
    def from_json(data: Any) -> Span | None:
        if isinstance(data, list) and len(data) == 4 and all(isinstance(x, int) and x >= 0 for x in data):
            return Span(*data)
        return None


class SourceLines:
    """The lines of one text, with byte-offset to code-point conversion done lazily per line."""

    def __init__(self, text: str):
        self.text = text
        # Python's own line breaks (ast counts lines the same way), not str.splitlines' larger set.
        self.lines: list[str] = _LINE_BREAK.split(text)
        self._ascii = text.isascii()

    def col(self, line0: int, byte_col: int) -> int:
        if self._ascii or line0 >= len(self.lines):
            return byte_col
        raw = self.lines[line0].encode("utf-8")
        return len(raw[:byte_col].decode("utf-8", errors="replace"))

    def span(self, node: ast.AST, line_offset: int = 0) -> Span:
        """The node's span; ``line_offset`` shifts it when these lines are a block of a larger text."""
        line = getattr(node, "lineno", 1) - 1
        end_line = (getattr(node, "end_lineno", None) or line + 1) - 1
        col = self.col(line, getattr(node, "col_offset", 0))
        end_col = self.col(end_line, getattr(node, "end_col_offset", None) or 0)
        return Span(line + line_offset, col, end_line + line_offset, end_col)

    def line_text(self, line0: int) -> str:
        return self.lines[line0] if 0 <= line0 < len(self.lines) else ""
