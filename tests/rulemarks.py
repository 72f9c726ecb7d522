"""Which tests prove which rule, read from the tests' markers without running them.

A test declares the rules it proves with two markers (registered in ``pyproject.toml``):

- ``@pytest.mark.fires("MH106", ...)``: the test asserts that the rule fires on a malicious or
  relevant input;
- ``@pytest.mark.quiet("MH106", ...)``: the test asserts that the rule does not fire on a benign
  look-alike of that input.

A marker goes on the test function, in a module's ``pytestmark``, or on one parametrized case
(``pytest.param(..., marks=pytest.mark.fires("MH106"))``). Its arguments are string literals, so
``tests/test_rule_catalog.py`` and ``tools/rules_doc.py`` find them with ``ast`` alone. A marked
test must name the id itself (a string literal in its body or in its parametrization), so a marker
cannot claim a rule the test never looks at.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

KINDS = ("fires", "quiet")


@dataclass(frozen=True, slots=True)
class Mark:
    """One (rule, kind) claim of one test."""

    kind: str  # "fires" or "quiet"
    rule: str
    test: str  # the node id without parameters: "tests/pickle/test_gadgets.py::test_marshal"
    line: int  # where the marker is written
    mentions: bool  # the rule id's literal appears in the test's code or in its parametrization


@dataclass(frozen=True, slots=True)
class BadMark:
    """A marker the scanner cannot read statically: an argument that is not a string literal, or a
    marker it cannot attach to a test (in a variable, a class, a helper)."""

    where: str  # "path:line"
    text: str


def _marker(node: ast.AST) -> tuple[str, list[ast.expr]] | None:
    """``pytest.mark.fires(...)`` -> ("fires", args); anything else -> None."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in KINDS
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "mark"
        and isinstance(func.value.value, ast.Name)
        and func.value.value.id == "pytest"
    ):
        return func.attr, list(node.args)
    return None


def _markers(node: ast.expr | None) -> list[ast.expr]:
    """The marker expressions of a ``marks=`` value or a ``pytestmark`` (one, a list or a tuple)."""
    if node is None:
        return []
    if isinstance(node, (ast.List, ast.Tuple)):
        return list(node.elts)
    return [node]


def _strings(nodes: Iterable[ast.AST]) -> str:
    """Every string literal under ``nodes``, one per line, except inside fires/quiet markers and the
    ``marks=``/``id=`` of a ``pytest.param`` (a marker or a case name proves nothing)."""
    out: list[str] = []
    todo = list(nodes)
    while todo:
        node = todo.pop()
        if _marker(node) is not None:
            continue
        if isinstance(node, ast.keyword) and node.arg in ("marks", "id"):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
        todo.extend(ast.iter_child_nodes(node))
    return "\n".join(out)


def _mentions(rule: str, text: str) -> bool:
    return re.search(rf"\b{rule}\b", text) is not None


def _body(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    """The function's statements without its docstring (a docstring asserts nothing)."""
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]
    return body


def _params(decorator: ast.expr) -> Iterator[ast.Call]:
    """The ``pytest.param(...)`` cases of a ``@pytest.mark.parametrize(names, [...])`` decorator."""
    if isinstance(decorator, ast.Call) and len(decorator.args) >= 2:
        values = decorator.args[1]
        if isinstance(values, (ast.List, ast.Tuple)):
            for case in values.elts:
                if isinstance(case, ast.Call) and isinstance(case.func, ast.Attribute) and case.func.attr == "param":
                    yield case


def scan_source(source: str, path: str) -> tuple[list[Mark], list[BadMark]]:
    """The marks of one test module (``path`` is its repo-relative name, used in node ids)."""
    tree = ast.parse(source, filename=path)
    marks: list[Mark] = []
    bad: list[BadMark] = []
    read: set[int] = set()  # the marker nodes attached to a test

    def claim(marker: ast.expr, test: str, said: str) -> None:
        found = _marker(marker)
        if found is None:
            return
        read.add(id(marker))
        kind, args = found
        for arg in args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                marks.append(Mark(kind, arg.value, test, marker.lineno, _mentions(arg.value, said)))
            else:
                bad.append(BadMark(f"{path}:{marker.lineno}", ast.unparse(marker)))

    tests = [
        n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
    ]
    module_marks: list[ast.expr] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            module_marks += _markers(node.value)

    for func in tests:
        test = f"{path}::{func.name}"
        own = _body(func)
        plain = [d for d in func.decorator_list if _marker(d) is None]
        said = _strings([*own, *plain])
        for marker in [*module_marks, *func.decorator_list]:
            claim(marker, test, said)
        for decorator in plain:
            for case in _params(decorator):
                case_said = _strings([*own, *case.args])
                for keyword in case.keywords:
                    if keyword.arg == "marks":
                        for marker in _markers(keyword.value):
                            claim(marker, test, case_said)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _marker(node) is not None and id(node) not in read:
            bad.append(BadMark(f"{path}:{node.lineno}", "not attached to a test: " + ast.unparse(node)))
    return marks, bad


def scan_tests(root: Path) -> tuple[list[Mark], list[BadMark]]:
    """The marks of every ``tests/**/test_*.py`` under the repository ``root``."""
    marks: list[Mark] = []
    bad: list[BadMark] = []
    for file in sorted((root / "tests").rglob("test_*.py")):
        rel = file.relative_to(root).as_posix()
        found, wrong = scan_source(file.read_text(encoding="utf-8"), rel)
        marks += found
        bad += wrong
    return marks, bad


def claims_by_rule(marks: Iterable[Mark]) -> dict[str, dict[str, list[str]]]:
    """rule -> kind -> the node ids of the tests that claim it (sorted, each once)."""
    out: dict[str, dict[str, set[str]]] = {}
    for mark in marks:
        out.setdefault(mark.rule, {k: set() for k in KINDS})[mark.kind].add(mark.test)
    return {rule: {kind: sorted(tests) for kind, tests in kinds.items()} for rule, kinds in out.items()}
