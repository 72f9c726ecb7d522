"""Incremental parsing by top-level block, so one keystroke re-parses one block, not the file.

A document is split at lines that start a new top-level statement (column 0, not a comment, not a
closing bracket, not ``else:``/``except``/... and not right after a decorator). Each block is parsed
on its own and what the reference finder needs from it (imports, module-level assignments, calls
that may matter) is kept in a cache keyed by the block's text; positions are block-relative and
shifted when used. A block that does not parse is merged with the next ones (a multi-line string
spanning blocks); one that still does not parse is "broken" and scanned line by line.
"""

from __future__ import annotations

import ast
from collections import OrderedDict
from dataclasses import dataclass, field

from malhug.analyzers.usercode.callsites import INTERESTING, dotted
from malhug.analyzers.usercode.spans import SourceLines

_CONTINUATION = ("else", "elif", "except", "finally", "case")
_MAX_MERGE = 8


@dataclass
class BlockInfo:
    """What one block holds, positions relative to its first line."""

    src: SourceLines
    imports: list[tuple[str, str, bool]] = field(default_factory=list)  # (local, dotted, plain "import a.b")
    assigns: list[tuple[str, ast.expr]] = field(default_factory=list)  # module-level NAME = value
    # (call, written dotted name, worth a look whatever the imports say); the rest is kept because an
    # import alias ("from torch import load as tl") can make any name interesting.
    calls: list[tuple[ast.Call, str, bool]] = field(default_factory=list)
    fs_assigns: list[tuple[str, str]] = field(default_factory=list)  # (name, written) for NAME = X(...)
    broken: bool = False


@dataclass(frozen=True)
class Block:
    start: int
    info: BlockInfo


def _written(node: ast.Call) -> str | None:
    written = dotted(node.func)
    if written is None and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call):
        base = dotted(node.func.value.func)  # HfFileSystem().open(...): a method on a call's result
        if base is not None:
            written = f"{base}().{node.func.attr}"
    return written


def _interesting(node: ast.Call, written: str) -> bool:
    if written.rsplit(".", 1)[-1] in INTERESTING:
        return True
    for kw in node.keywords:
        if kw.arg == "trust_remote_code":
            return True
    for arg in node.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("hf"):
            return True
    return False


def scan_tree(tree: ast.Module, src: SourceLines) -> BlockInfo:
    info = BlockInfo(src=src)
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            info.assigns.extend((t.id, stmt.value) for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None and isinstance(stmt.target, ast.Name):
            info.assigns.append((stmt.target.id, stmt.value))
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Call):
            written = _written(node)
            if written is not None:
                info.calls.append((node, written, _interesting(node, written)))
        elif isinstance(node, ast.Import):
            info.imports.extend(
                (a.asname or a.name.split(".", 1)[0], a.name if a.asname else a.name.split(".", 1)[0], not a.asname)
                for a in node.names
            )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            info.imports.extend(
                (a.asname or a.name, f"{node.module}.{a.name}", False) for a in node.names if a.name != "*"
            )
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            name = dotted(node.value.func)
            if name is not None:
                info.fs_assigns.extend((t.id, name) for t in node.targets if isinstance(t, ast.Name))
        stack.extend(ast.iter_child_nodes(node))
    info.calls.sort(key=lambda c: (c[0].lineno, c[0].col_offset))
    return info


def split(lines: list[str]) -> list[tuple[int, int]]:
    """``[start, end)`` line ranges of top-level blocks."""
    starts = []
    previous = ""
    for number, line in enumerate(lines):
        first = line[:1]
        if first and not first.isspace() and first not in "#)]}":
            word = line.split(None, 1)[0].rstrip(":")
            if word not in _CONTINUATION and not previous.startswith("@"):
                starts.append(number)
        if line.strip():
            previous = line
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return [(s, e) for s, e in zip(starts, [*starts[1:], len(lines)], strict=True)]


class BlockCache:
    """Parsed blocks of one document, keyed by their text.

    Bounded: after each analysis only the blocks of the current text and the ``spare`` most recently
    used others stay (editing one big block must not pile up a syntax tree per keystroke).
    """

    def __init__(self, spare: int = 32):
        self.spare = spare
        self._cache: OrderedDict[str, BlockInfo | None] = OrderedDict()

    def _parse(self, text: str) -> BlockInfo | None:
        if text in self._cache:
            self._cache.move_to_end(text)
            return self._cache[text]
        src = SourceLines(text)
        try:
            info: BlockInfo | None = scan_tree(ast.parse(text), src)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            info = None
        self._cache[text] = info
        return info

    def blocks(self, lines: list[str]) -> list[Block]:
        ranges = split(lines)
        out: list[Block] = []
        index = 0
        while index < len(ranges):
            start = ranges[index][0]
            info = None
            for extra in range(min(_MAX_MERGE, len(ranges) - index)):
                end = ranges[index + extra][1]
                info = self._parse("\n".join(lines[start:end]))
                if info is not None:
                    index += extra + 1
                    break
            if info is None:  # broken even with the following blocks: scan its own lines only
                end = ranges[index][1]
                info = BlockInfo(src=SourceLines("\n".join(lines[start:end])), broken=True)
                index += 1
            out.append(Block(start, info))
        while len(self._cache) > len(ranges) + self.spare:
            self._cache.popitem(last=False)
        return out
