"""Where each rule id is written and used in the product code, found by parsing it (never importing it).

A rule id is written as a plain string literal (``"MH106"``) in exactly one place: the table row or
the function that emits that rule's findings; code that needs to recognise a rule imports the name
given to it there. :func:`scan` returns, for every id, the places its literal occurs (file, line and
the enclosing function or class), the places that read the name bound to it (``UNKNOWN_USED =
"MH106"`` in ``judge.py``, read by ``Judge._decide``...: where the rule fires), and the code that
would build an id at run time (``f"MH{n}"``, ``"MH1" + x``, ``"MH%03d" % n``), which no search for
the id could find. Docstrings and comments do not count. ``RuleMap.fires_in(id)`` puts the first
two together: the line that names the rule, then each function that reads the name or calls a
function that only returns that rule's finding (``failures.malformed``).
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


def module_name(rel: str) -> str:
    """The import name of a product file: ``analyzers/pickle/judge.py`` -> ``malhug.analyzers.pickle.judge``."""
    parts = rel.removesuffix(".py").split("/")
    parts = parts[1:] if parts[0] == "src" else ["malhug", *parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@dataclass(frozen=True, slots=True)
class _File:
    rel: str
    module: str
    source: str
    tree: ast.Module


def _literals(file: _File) -> tuple[list[tuple[str, Site]], list[Site]]:
    docs = _docstrings(file.tree)
    literals: list[tuple[str, Site]] = []
    computed: list[Site] = []
    for node, scope in _walk(file.tree, ()):
        qualname = ".".join(scope) or "<module>"
        if _is_str(node, RULE_LITERAL) and id(node) not in docs:
            assert isinstance(node, ast.Constant)
            literals.append((node.value, Site(file.rel, node.lineno, qualname, node.value)))
        elif _computes_id(node):
            segment = ast.get_source_segment(file.source, node) or ""
            computed.append(Site(file.rel, getattr(node, "lineno", 0), qualname, segment))
    return literals, computed


def _names(file: _File) -> dict[tuple[str, str], str]:
    """(module, NAME) -> rule id for each module-level ``NAME = "MH..."``, and for each module-level
    function that only returns a finding of one named rule (``def malformed(...): return
    finding(MALFORMED, ...)``): calling it is using the name."""
    found = {}
    for stmt in file.tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            if _is_str(stmt.value, RULE_LITERAL):
                assert isinstance(stmt.value, ast.Constant)
                found[(file.module, stmt.targets[0].id)] = stmt.value.value
    for stmt in file.tree.body:
        if isinstance(stmt, ast.FunctionDef):
            body = [s for s in stmt.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            if len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Call):
                args = body[0].value.args
                if args and isinstance(args[0], ast.Name) and (file.module, args[0].id) in found:
                    found[(file.module, stmt.name)] = found[(file.module, args[0].id)]
    return found


def _uses(file: _File, names: dict[tuple[str, str], str]) -> list[tuple[str, Site]]:
    """Where ``file`` reads a rule's name: its own, one it imports, or ``module.NAME``."""
    local = {key[1]: key for key in names if key[0] == file.module}
    modules: dict[str, str] = {}
    for node in ast.walk(file.tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                as_name = alias.asname or alias.name
                if (node.module, alias.name) in names:
                    local[as_name] = (node.module, alias.name)
                modules[as_name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            modules.update({alias.asname: alias.name for alias in node.names if alias.asname})
    found = []
    for node, scope in _walk(file.tree, ()):
        key = None
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            key = local.get(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            key = (modules[node.value.id], node.attr)
        if key in names:
            assert key is not None
            found.append((names[key], Site(file.rel, node.lineno, ".".join(scope) or "<module>", key[1])))
    return found


def _add_reexports(files: list[_File], names: dict[tuple[str, str], str]) -> None:
    """A module that imports a rule's name at its top level passes it on (``api.SYNTAX_ERROR``)."""
    changed = True
    while changed:
        changed = False
        for file in files:
            for stmt in file.tree.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                    for alias in stmt.names:
                        rule = names.get((stmt.module, alias.name))
                        key = (file.module, alias.asname or alias.name)
                        if rule is not None and key not in names:
                            names[key] = rule
                            changed = True


@dataclass(frozen=True, slots=True)
class RuleMap:
    emitters: dict[str, list[Site]]  # rule id -> every place its literal is written, in file order
    uses: dict[str, list[Site]]  # rule id -> where the name bound to it (``NAME = "MH106"``) is read
    computed: list[Site]  # expressions that build a rule id at run time (there must be none)

    def fires_in(self, rule: str) -> list[Site]:
        """Where ``rule`` fires: the line that names it, then each function that reads that name
        (its first read there), for the "fires in" column of docs/RULES.md."""
        out = list(self.emitters.get(rule, []))
        seen = {(site.path, site.qualname) for site in out}
        for site in self.uses.get(rule, []):
            if (site.path, site.qualname) not in seen:
                seen.add((site.path, site.qualname))
                out.append(site)
        return out


def scan(root: Path = ROOT) -> RuleMap:
    """Parse every product file once: where each id is written, where its name is used, where ids
    are computed."""
    files = []
    for path in product_files(root):
        source = path.read_text(encoding="utf-8")
        rel = path.relative_to(root).as_posix()
        files.append(_File(rel, module_name(rel), source, ast.parse(source, filename=rel)))
    found: dict[str, list[Site]] = {}
    uses: dict[str, list[Site]] = {}
    computed: list[Site] = []
    names: dict[tuple[str, str], str] = {}
    for file in files:
        literals, built = _literals(file)
        for rule, site in literals:
            found.setdefault(rule, []).append(site)
        computed.extend(built)
        names.update(_names(file))
    _add_reexports(files, names)
    for file in files:
        for rule, site in _uses(file, names):
            uses.setdefault(rule, []).append(site)
    return RuleMap(dict(sorted(found.items())), dict(sorted(uses.items())), computed)


def emitters(root: Path = ROOT) -> dict[str, list[Site]]:
    """Rule id -> every place of the product code where its literal is written, in file order."""
    return scan(root).emitters


def computed_ids(root: Path = ROOT) -> list[Site]:
    """Expressions of the product code that build a rule id at run time (there must be none)."""
    return scan(root).computed
