"""Phase 1 of the miner: read one module's source with ``ast`` (never import it) and record, per
function and method, the calls it makes as symbolic callee names.

Callee names are resolved within the module only:

- a bare name: the module's own functions and classes, then its imports, then the builtins
  (``eval`` -> ``builtins.eval``); a local variable or parameter shadows all of these;
- an attribute chain rooted at an import (``subprocess.run``, ``np.lib.utils.f``);
- ``self.m`` / ``cls.m`` inside a method: ``SELF:<module.Class>.m``, looked up through the class and
  its bases in phase 2 (``callgraph``);
- ``obj.m`` on anything else (a local, a parameter, a call's result): ``METHOD:<module>:m``, which
  phase 2 resolves only when exactly one class of the same module defines ``m``.

Calls inside nested functions and lambdas count for the enclosing function (over-approximation:
the closure may never run). Module-level code is ignored (importing a module is not a gadget).
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

from tools.gadgets.sinks import OPENERS, is_write_mode

_BUILTINS = frozenset(dir(builtins))
WRITE_OPEN = "WRITE-OPEN:"  # prefix of an opener called with a constant write mode


@dataclass
class ClassInfo:
    name: str  # dotted
    bases: list[str] = field(default_factory=list)  # symbolic, resolved in phase 2
    methods: set[str] = field(default_factory=set)
    attrs: dict[str, str] = field(default_factory=dict)  # class attribute -> symbolic callable


@dataclass
class ModuleInfo:
    name: str
    imports: dict[str, str] = field(default_factory=dict)  # bound name -> dotted target
    stars: list[str] = field(default_factory=list)  # modules star-imported
    defs: dict[str, str] = field(default_factory=dict)  # module-level function/class name -> dotted
    classes: dict[str, ClassInfo] = field(default_factory=dict)  # dotted -> info
    # function dotted -> [(callee, line, fed)]: ``fed`` when an argument (or the receiver) mentions a
    # parameter or a local computed from one (``self`` included: a pickle sets the instance's state)
    calls: dict[str, list[tuple[str, int, bool]]] = field(default_factory=dict)


def _package_of(module: str, is_package: bool) -> str:
    return module if is_package else module.rpartition(".")[0]


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = _package_of(module, is_package)
    for _ in range(level - 1):
        base = base.rpartition(".")[0]
    return f"{base}.{target}" if target else base


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` -> ["a", "b", "c"]; None for anything that is not a plain chain."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _fed_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Parameters, and locals assigned from expressions that mention them (a few passes)."""
    fed = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    for extra in (fn.args.vararg, fn.args.kwarg):
        if extra is not None:
            fed.add(extra.arg)
    assigns: list[tuple[list[ast.expr], ast.expr]] = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            assigns.append((node.targets, node.value))
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            assigns.append(([node.target], node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            assigns.append(([node.target], node.iter))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            assigns.append(([node.optional_vars], node.context_expr))
    for _ in range(3):
        before = len(fed)
        for targets, value in assigns:
            if _mentions(value, fed):
                fed.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        if len(fed) == before:
            break
    return fed


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _locals(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Parameters and names assigned anywhere in the function (they shadow module names)."""
    names = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    for extra in (fn.args.vararg, fn.args.kwarg):
        if extra is not None:
            names.add(extra.arg)
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


class _Reader:
    def __init__(self, info: ModuleInfo, is_package: bool) -> None:
        self.info = info
        self.is_package = is_package

    def symbol(self, name: str) -> str | None:
        info = self.info
        if name in info.defs:
            return info.defs[name]
        if name in info.imports:
            return info.imports[name]
        if name in _BUILTINS:
            return f"builtins.{name}"
        return None

    def imports(self, tree: ast.Module) -> None:
        for node in tree.body:
            self._import(node)
            if isinstance(node, (ast.If, ast.Try)):  # try: import x / except ImportError
                for sub in ast.walk(node):
                    self._import(sub)

    def _import(self, node: ast.AST) -> None:
        info = self.info  # a star import inside a function is a SyntaxError, so stars stay module-level
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    info.imports[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    info.imports.setdefault(head, head)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(info.name, self.is_package, node.level, node.module)
            for alias in node.names:
                if alias.name == "*":
                    info.stars.append(source)
                else:
                    info.imports[alias.asname or alias.name] = f"{source}.{alias.name}"

    def definitions(self, tree: ast.Module) -> None:
        info = self.info
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                info.defs[node.name] = f"{info.name}.{node.name}"

    def bodies(self, tree: ast.Module) -> None:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(node, f"{self.info.name}.{node.name}", None)
            elif isinstance(node, ast.ClassDef):
                self._class(node)

    def _class(self, node: ast.ClassDef) -> None:
        dotted = f"{self.info.name}.{node.name}"
        cls = ClassInfo(dotted)
        for base in node.bases:
            parts = _dotted(base)
            root = self.symbol(parts[0]) if parts else None
            if parts and root:
                cls.bases.append(".".join([root, *parts[1:]]))
        self.info.classes[dotted] = cls
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                cls.methods.add(item.name)
                self._function(item, f"{dotted}.{item.name}", dotted)
            elif isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                value = item.value
                if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.args:
                    if value.func.id in ("staticmethod", "classmethod"):
                        value = value.args[0]
                parts = _dotted(value)
                root = self.symbol(parts[0]) if parts else None
                if parts and root:
                    cls.attrs[item.targets[0].id] = ".".join([root, *parts[1:]])

    def _function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, dotted: str, owner: str | None) -> None:
        local = _locals(fn)
        saved = dict(self.info.imports)
        for node in ast.walk(fn):  # imports inside the function bind for the whole body
            self._import(node)
        fed = _fed_names(fn)
        found: list[tuple[str, int, bool]] = []
        for node in ast.walk(fn):
            if isinstance(node, ast.Call):
                callee = self._callee(node, local, owner)
                if callee is not None:
                    args = [*node.args, *(k.value for k in node.keywords), node.func]
                    found.append((callee, node.lineno, any(_mentions(a, fed) for a in args)))
        self.info.imports = saved
        self.info.calls[dotted] = found

    def _callee(self, call: ast.Call, local: set[str], owner: str | None) -> str | None:
        func = call.func
        parts = _dotted(func)
        if parts is None:
            if isinstance(func, ast.Attribute):
                return f"METHOD:{self.info.name}:{func.attr}"
            return None
        root = parts[0]
        if owner is not None and root in ("self", "cls") and len(parts) == 2:
            return f"SELF:{owner}.{parts[1]}"
        if root in local:
            return f"METHOD:{self.info.name}:{parts[-1]}" if len(parts) > 1 else None
        base = self.symbol(root)
        if base is None:
            return None
        name = ".".join([base, *parts[1:]])
        if name in OPENERS and _write_mode(call):
            return WRITE_OPEN + name
        return name


def _write_mode(call: ast.Call) -> bool:
    mode: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for kw in call.keywords:
        if kw.arg == "mode":
            mode = kw.value
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and is_write_mode(mode.value)


def read_module(name: str, source: str, is_package: bool) -> ModuleInfo | None:
    """The module's imports, definitions and call sites; None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None
    info = ModuleInfo(name)
    reader = _Reader(info, is_package)
    reader.imports(tree)
    reader.definitions(tree)
    reader.bodies(tree)
    return info
