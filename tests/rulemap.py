"""Where each rule id is written in the product code, found by parsing it (never by importing it).

A rule id is written as a plain string literal (``"MH106"``) in exactly one place: the table row or
the function that emits that rule's findings; code that needs to recognise a rule imports the name
given to it there. :func:`emitters` maps every id to the places its literal occurs (file, line and
the enclosing function or class), :func:`computed_ids` lists code that would build an id at run time
(``f"MH{n}"``, ``"MH1" + x``, ``"MH%03d" % n``), which no search for the id could find.
Docstrings and comments do not count.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_DIRS = ("analyzers", "server", "src/malhug")

RULE_LITERAL = re.compile(r"^MH\d{3}$")
# The start of an id completed at run time: "MH", "MH1", "MH10" on its own or before a format field.
ID_PREFIX = re.compile(r"^MH\d{0,2}$|^MH\d{0,2}(%|\{)")


@dataclass(frozen=True, slots=True)
class Site:
    """One occurrence in the product code: repo-relative path, 1-based line, enclosing qualname."""

    path: str
    line: int
    qualname: str  # "judge._mh106", "Judge.call", "<module>"
    text: str  # the literal, or the source of the expression that computes an id

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.qualname})"


def product_files(root: Path = ROOT) -> list[Path]:
    return sorted(p for d in PRODUCT_DIRS for p in (root / d).rglob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of the module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _walk(node: ast.AST, scope: tuple[str, ...]) -> Iterator[tuple[ast.AST, tuple[str, ...]]]:
    """Every node below ``node`` with the names of the functions and classes around it."""
    for child in ast.iter_child_nodes(node):
        yield child, scope
        inner = scope
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            inner = (*scope, child.name)
        yield from _walk(child, inner)


def _is_str(node: ast.AST, pattern: re.Pattern[str]) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(pattern.match(node.value))


def _computes_id(node: ast.AST) -> bool:
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        if first is not None and _is_str(first, re.compile(r"^MH\d{0,2}$")):
            return len(node.values) > 1
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _is_str(node.left, ID_PREFIX)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _is_str(node.func.value, ID_PREFIX)
    return False


def _scan(path: Path, root: Path) -> tuple[list[tuple[str, Site]], list[Site]]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    docs = _docstrings(tree)
    rel = path.relative_to(root).as_posix()
    literals: list[tuple[str, Site]] = []
    computed: list[Site] = []
    for node, scope in _walk(tree, ()):
        qualname = ".".join(scope) or "<module>"
        if _is_str(node, RULE_LITERAL) and id(node) not in docs:
            assert isinstance(node, ast.Constant)
            literals.append((node.value, Site(rel, node.lineno, qualname, node.value)))
        elif _computes_id(node):
            segment = ast.get_source_segment(source, node) or ""
            computed.append(Site(rel, getattr(node, "lineno", 0), qualname, segment))
    return literals, computed


@dataclass(frozen=True, slots=True)
class RuleMap:
    emitters: dict[str, list[Site]]  # rule id -> every place its literal is written, in file order
    computed: list[Site]  # expressions that build a rule id at run time (there must be none)


def scan(root: Path = ROOT) -> RuleMap:
    """Parse every product file once: where each id is written, and where ids are computed."""
    found: dict[str, list[Site]] = {}
    computed: list[Site] = []
    for path in product_files(root):
        literals, built = _scan(path, root)
        for rule, site in literals:
            found.setdefault(rule, []).append(site)
        computed.extend(built)
    return RuleMap(dict(sorted(found.items())), computed)


def emitters(root: Path = ROOT) -> dict[str, list[Site]]:
    """Rule id -> every place of the product code where its literal is written, in file order."""
    return scan(root).emitters


def computed_ids(root: Path = ROOT) -> list[Site]:
    """Expressions of the product code that build a rule id at run time (there must be none)."""
    return scan(root).computed
