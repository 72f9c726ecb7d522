"""Which parts of a module the taint analysis can learn anything from.

libcst's parse is most of the cost of analyzing a large file, and most of a large modeling file is
``nn.Module`` code that touches nothing the analysis knows. Before libcst sees a module, CPython's
tree (parsed only, never compiled) splits it into *units* — each top-level statement, except that
a class is split into its methods and the rest of it — and the units that cannot change the result
are hollowed out: their lines become one string statement (or ``pass``) on the same lines, so
every kept line keeps its number and its columns.

A unit is a *seed* when its code mentions something the analysis gives meaning to: a dotted name
of the knowledge tables (reached directly, through an import alias, or inside a longer chain such
as ``torch.os.system``), a builtin with meaning (``exec``, ``open``, ``__import__``, ``chr`` …), a
dunder used in sandbox escapes, a method the engine gives meaning on paths, a string naming a
credential store, an ``import``/``global``/``nonlocal`` statement, or a call of a module-level
name bound to any of those. Module-level statements other than definitions run on import and are
always kept. A definition is kept when it is a seed or when data can flow between it and kept code
(to a fixpoint):

- kept code uses what it defines (its name as a name, an attribute or a string, as
  ``globals()["f"]`` and ``getattr(self, "m")`` do), or it calls a function, constructor or method
  that kept code defines (its arguments flow in); Python calls the other dunders of a class that
  kept code uses;
- it stores an attribute that kept code loads (also with ``setattr``), or loads one that kept code
  stores; ``self.x`` of a class meets ``self.x`` of the same class only, as the engine keeps them;
  names bound in a class body are attributes;
- it changes in place (``x.append``, ``x[k] = v``) a module-level variable that kept code reads.

A definition that is none of these runs no sink and feeds no kept code, so the analysis of the
module without it reports the same findings (the tests compare both on every fixture). A module with
a star import, or whose strings name a credential store only once joined across statements, keeps
everything. The same test over a whole embedded payload (``print('owned')``) tells that the
analysis would find nothing, without importing libcst at all.
"""

from __future__ import annotations

import ast
import copy
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from malhug.analyzers.knowledge import families as F
from malhug.analyzers.limits import DEFAULT_LIMITS
from malhug.analyzers.scripts import knowledge as K
from malhug.analyzers.scripts import patterns
from malhug.analyzers.scripts.size import TooLarge, check_size

# Builtins whose use alone can be a finding or reach code and files, and the ones strings are
# hidden with (``chr`` lists, ``bytes``). ``getattr``, ``str``, ``len`` and the like only compute
# values: they matter when their result flows into kept code (the closure below) or when their
# operand is itself known (``getattr(os, "system")`` mentions ``os``).
BUILTIN_SEEDS = frozenset(
    "exec eval compile execfile open __import__ globals locals vars breakpoint input exit quit "
    "__builtins__ __builtin__ __loader__ __spec__ chr bytes bytearray".split()
)
# Dunder attributes of everyday code; any other dunder access (``__globals__``, ``__subclasses__``,
# ``__dict__``, ``__code__``) makes a unit a seed.
_PLAIN_DUNDERS = frozenset(
    "__init__ __name__ __class__ __doc__ __qualname__ __module__ __len__ __repr__ __str__ __eq__ __hash__ "
    "__version__ __post_init__ __enter__ __exit__ __iter__ __next__ __getitem__ __contains__".split()
)
# Qualified names the engine's code tests for by value (not from a table). The tests check that every
# such literal in the engine is covered here or by the tables.
EXTRA_NAMES = frozenset(
    {"os.dup2", "sys.modules", "pathlib.Path.home", "httpx.Request", "requests.Request", "sqlite3.connect"}
)
# Builtins the engine folds or passes values through: no finding by themselves (see BUILTIN_SEEDS).
VALUE_BUILTINS = frozenset("getattr setattr delattr memoryview str len print dict map reversed".split())
# Methods the engine gives meaning on a path value (``Path(p).write_text``): path values come from
# path builders, which are everyday code, so these method names make a unit a seed.
PATH_METHODS = frozenset("read_text read_bytes open write_text write_bytes unlink rglob glob iterdir walk".split())
_MAX_TEXT = 4096  # string constants checked against the credential-store patterns
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IMPORTS = (ast.Import, ast.ImportFrom)
_MAX_NAME = 256  # a string constant that is a (dotted) identifier up to this long may name code


@lru_cache(maxsize=1)
def known_names() -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]:
    """(dotted names of the knowledge tables as tuples, every proper prefix of them and the
    modules whose mere use as a value matters)."""
    names: set[str] = set()
    propagators = K.PATH_BUILDERS - K.FILE_OPENERS  # they only pass values through
    # Aliases are expanded (_unalias), not names in themselves; the others are not qualified names.
    skip = ("ALIASES", "MODULE_ALIASES", "BUILDER_BASES", "BUILDER_METHODS", "BUILTINS", "HTTP_FUNCS", "PATH_BUILDERS")
    for module in (F, K):
        for key, value in vars(module).items():
            if key.startswith("_") or key in skip:
                continue
            items: Iterable[object]
            if isinstance(value, dict):
                items = [*value.keys(), *value.values()]
            elif isinstance(value, (frozenset, set, tuple, list)):
                items = value
            else:
                continue
            names.update(i for i in items if isinstance(i, str) and "." in i and i not in propagators and _dotted(i))
    names |= {f"{m}.{f}" for m in K.HTTP_MODULES for f in K.HTTP_FUNCS} | EXTRA_NAMES
    full = frozenset(tuple(n.split(".")) for n in names)
    modules = K.DANGEROUS_IMPORTS | F.SYSTEM_MODULES | set(K.HTTP_MODULES) | F.HTTP_CLIENT_MODULES
    prefixes = frozenset(parts[:i] for parts in full for i in range(1, len(parts))) | {
        tuple(m.split(".")) for m in modules
    }
    return full, prefixes


# Modules any member of which matters (``importlib.import_module``, ``subprocess.anything``);
# ``os``, ``sys`` and ``shutil`` are everyday modules whose dangerous members the tables list.
DANGER_ROOTS = (K.DANGEROUS_IMPORTS | F.SYSTEM_MODULES | {"importlib", "builtins", "__builtins__", "__builtin__"}) - {
    "os",
    "sys",
    "posix",
    "nt",
    "shutil",
}


def _dotted(text: str) -> bool:
    return all(_IDENT.fullmatch(part) for part in text.split("."))


_MODULE_ALIASES = tuple((tuple(k.split(".")), tuple(v.split("."))) for k, v in K.ALIASES.items())


def _unalias(parts: tuple[str, ...]) -> tuple[str, ...]:
    """``posix.system`` -> ``os.system``: the module aliases the engine normalizes, anywhere in a chain."""
    out: list[str] = []
    i = 0
    while i < len(parts):
        for alias, real in _MODULE_ALIASES:
            if parts[i : i + len(alias)] == alias:
                out.extend(real)
                i += len(alias)
                break
        else:
            out.append(parts[i])
            i += 1
    return tuple(out)


def chain_is_known(parts: tuple[str, ...]) -> bool:
    """Does the dotted chain ``parts`` (import aliases expanded) reach a known name?

    True when a known name occurs in it (``torch.os.system`` holds ``os.system``), or when a tail of
    it starts a known name (``self.os``, or ``torch.hub`` stored to be called later)."""
    full, prefixes = known_names()
    longest = _longest_known()
    parts = _unalias(parts)
    n = len(parts)
    for i in range(n):
        if parts[i] in DANGER_ROOTS or (n - i < longest and parts[i:] in prefixes):
            return True
        for j in range(i + 2, min(n, i + longest) + 1):  # bounded: chains in hostile code can be long
            if parts[i:j] in full:
                return True
        if i + 1 < n and f"{parts[i]}.{parts[i + 1]}".startswith(F.PROCESS_SPAWN_PREFIXES):  # os.exec*, os.spawn*
            return True
    return False


@lru_cache(maxsize=1)
def _longest_known() -> int:
    full, _ = known_names()
    return max(len(parts) for parts in full)


def _chain(node: ast.expr) -> tuple[str, ...] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return tuple(reversed(parts))


@dataclass
class Unit:
    """A top-level statement, or a method of a top-level class (``cls`` then names the class)."""

    node: ast.stmt
    cls: ast.ClassDef | None = None
    names: set[str] = field(default_factory=set)  # every identifier used as a name
    bare: set[str] = field(default_factory=set)  # names not at the root of a dotted chain
    words: set[str] = field(default_factory=set)  # string constants that are (dotted) identifiers
    chains: list[tuple[str, ...]] = field(default_factory=list)  # dotted chains rooted at a name
    loads: set[str] = field(default_factory=set)  # attribute names read (not through `self`)
    stores: set[str] = field(default_factory=set)  # attribute names written (not through `self`)
    self_loads: set[str] = field(default_factory=set)  # `self.x` read in a method
    self_stores: set[str] = field(default_factory=set)  # `self.x` written in a method
    super_loads: set[str] = field(default_factory=set)  # `super().m` in a method
    mutated: set[str] = field(default_factory=set)  # names changed in place
    special: bool = False  # global / nonlocal / unusual dunder
    imports: bool = False  # holds an import statement
    defines: set[str] = field(default_factory=set)  # module-level names (or method names) it binds
    self_name: str | None = None  # a method's first parameter (``self``, ``cls``)
    methods: set[str] = field(default_factory=set)  # names of methods called (x.m(...))
    valued: set[str] = field(default_factory=set)  # names used for their value, not only as a condition
    texts: list[tuple[int, int, str]] = field(default_factory=list)  # string constants, with positions
    bound: set[str] = field(default_factory=set)  # names assigned or deleted anywhere in it
    import_nodes: list[ast.Import | ast.ImportFrom] = field(default_factory=list)
    _names_a_store: bool | None = field(default=None, repr=False, compare=False)  # names_a_store, once

    def names_a_store(self) -> bool:
        """Do its string constants name a credential or browser store (names_a_secret_store)? Asked
        by the seed test, the hot-name pass and the split-path test; computed once."""
        if self._names_a_store is None:
            self._names_a_store = bool(self.texts) and names_a_secret_store(self.texts)
        return self._names_a_store

    @property
    def is_method(self) -> bool:
        return self.cls is not None

    @property
    def cls_member(self) -> str:
        """A method's name."""
        return getattr(self.node, "name", "")

    def attr(self, base: ast.expr, name: str, *, store: bool) -> None:
        """Record ``base.name`` read or written, in the set its base decides."""
        if type(base) is ast.Name and base.id == self.self_name:
            (self.self_stores if store else self.self_loads).add(name)
        elif (
            not store
            and type(base) is ast.Call
            and type(base.func) is ast.Name
            and base.func.id == "super"
            and self.cls is not None
        ):
            self.super_loads.add(name)
        else:
            (self.stores if store else self.loads).add(name)


def _collect(unit: Unit, roots: Iterable[ast.AST], depth: int) -> int:
    """Record what the nodes under ``roots`` (at ``depth`` in the module) mention; returns the
    depth of the deepest node (iterative, any depth; the same count as parsing's depth check)."""
    inner: set[int] = set()  # Attribute nodes inside a longer chain (parents are visited first)
    starts: set[int] = set()  # Name nodes at the root of a chain
    tested: set[int] = set()  # Name nodes whose only use is their truth (`if flag:`, `a == "1" and b`)
    deepest = depth
    stack: list[tuple[ast.AST, int]] = [(root, depth) for root in roots]
    pop, push, node_type = stack.pop, stack.append, ast.AST
    while stack:
        node, level = pop()
        if level > deepest:
            deepest = level
        level += 1
        for field_name in node._fields:
            child = getattr(node, field_name, None)
            if isinstance(child, node_type):
                push((child, level))
            elif type(child) is list:
                for item in child:
                    if isinstance(item, node_type):
                        push((item, level))
        kind = type(node)
        if kind is ast.Name:
            name = node.id  # type: ignore[attr-defined]
            unit.names.add(name)
            if id(node) not in starts:
                unit.bare.add(name)
            if id(node) not in tested:
                unit.valued.add(name)
            if not isinstance(node.ctx, ast.Load):  # type: ignore[attr-defined]
                unit.bound.add(name)
        elif kind is ast.Attribute:
            attr = node.attr  # type: ignore[attr-defined]
            if attr.startswith("__") and attr.endswith("__") and attr not in _PLAIN_DUNDERS:
                unit.special = True
            value = node.value  # type: ignore[attr-defined]
            unit.attr(value, attr, store=not isinstance(node.ctx, ast.Load))  # type: ignore[attr-defined]
            if type(value) is ast.Attribute:
                inner.add(id(value))
            elif type(value) is ast.Name:
                starts.add(id(value))
            if id(node) not in inner:
                chain = _chain(node)  # type: ignore[arg-type]
                if chain is not None:
                    unit.chains.append(chain)
        elif kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if isinstance(value, str):
                if len(value) <= _MAX_NAME and _dotted(value):
                    unit.words.update(value.split("."))
                if len(value) <= _MAX_TEXT:
                    unit.texts.append((node.lineno, node.col_offset, value))  # type: ignore[attr-defined]
        elif kind in (ast.Import, ast.ImportFrom):
            unit.imports = True
            unit.import_nodes.append(node)  # type: ignore[arg-type]
        elif kind in (ast.Global, ast.Nonlocal):
            unit.special = True
        elif kind in _TESTS:
            _mark_tested(node.test, tested)  # type: ignore[attr-defined]
        elif kind is ast.Subscript:
            # A constant string sliced with a step ("hss./~"[::-1]) is folded by the engine.
            sl, value = node.slice, node.value  # type: ignore[attr-defined]
            if type(sl) is ast.Slice and sl.step is not None and type(value) is ast.Constant:
                unit.special = True
        elif kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is ast.Attribute:
                unit.methods.add(func.attr)
            if type(func) is ast.Attribute and func.attr in K.MUTATORS:
                if type(func.value) is ast.Name:
                    unit.mutated.add(func.value.id)
                elif type(func.value) is ast.Attribute:  # self.items.append(x) changes items
                    unit.attr(func.value.value, func.value.attr, store=True)
        elif kind in (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete):
            targets = node.targets if kind in (ast.Assign, ast.Delete) else [node.target]  # type: ignore[attr-defined]
            for target in targets:
                while type(target) in (ast.Attribute, ast.Subscript):
                    target = target.value
                    if type(target) is ast.Name:
                        unit.mutated.add(target.id)
                    elif type(target) is ast.Attribute:  # self.d[k] = v changes d
                        unit.attr(target.value, target.attr, store=True)
        elif kind in _DEFS and node is not unit.node:
            unit.defines.add(node.name)  # type: ignore[attr-defined]
    return deepest


_TESTS = (ast.If, ast.While, ast.IfExp, ast.Assert)


def _mark_tested(test: ast.expr, tested: set[int]) -> None:
    """The Name nodes of a condition whose value only decides the branch: the condition itself,
    operands of ``and``/``or``/``not`` in it, and the operands of comparisons."""
    todo = [test]
    while todo:
        node = todo.pop()
        if type(node) is ast.Name:
            tested.add(id(node))
        elif type(node) is ast.BoolOp:
            todo.extend(node.values)
        elif type(node) is ast.UnaryOp and type(node.op) is ast.Not:
            todo.append(node.operand)
        elif type(node) is ast.Compare:
            todo.extend(n for n in (node.left, *node.comparators) if type(n) is ast.Name)


def _units(tree: ast.Module) -> tuple[list[Unit], int]:
    """The units of ``tree``, and the depth of its deepest node."""
    units: list[Unit] = []
    deepest = 0
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            shell = Unit(stmt)
            shell.defines.add(stmt.name)
            rest: list[ast.AST] = [*stmt.decorator_list, *stmt.bases, *stmt.keywords]
            for item in stmt.body:
                if isinstance(item, _FUNCS):
                    params = [*item.args.posonlyargs, *item.args.args]
                    method = Unit(item, cls=stmt, self_name=params[0].arg if params else None)
                    method.defines.add(item.name)
                    deepest = max(deepest, _collect(method, [item], 2))
                    units.append(method)
                else:
                    rest.append(item)
            deepest = max(deepest, _collect(shell, rest, 2))
            # A name bound in the class body is an attribute of the class and its instances
            # (`run = os.system` … `self.run(c)`), read through `self` or from outside.
            shell.stores |= shell.bound
            units.append(shell)
        else:
            unit = Unit(stmt)
            if isinstance(stmt, _FUNCS):
                unit.defines.add(stmt.name)
            deepest = max(deepest, _collect(unit, [stmt], 1))
            if not isinstance(stmt, _FUNCS):
                unit.defines |= unit.bound
            units.append(unit)
    # `super().m()` reaches a method of this module only when a base class is defined here.
    local = {s.name for s in tree.body if isinstance(s, ast.ClassDef)}
    for unit in units:
        if unit.super_loads and unit.cls is not None:
            bases = {c[0] for c in map(_chain_or_name, unit.cls.bases) if c}
            if bases & local:
                unit.loads |= unit.super_loads
    return units, deepest


def _chain_or_name(node: ast.expr) -> tuple[str, ...] | None:
    return (node.id,) if isinstance(node, ast.Name) else _chain(node)


class Module:
    def __init__(self, tree: ast.Module):
        self.units, self.depth = _units(tree)
        self.aliases: dict[str, tuple[str, ...]] = {}
        self.star = False
        module_level = (n for u in self.units if u.imports and not isinstance(u.node, _DEFS) for n in u.import_nodes)
        for stmt in module_level:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    top = alias.name.split(".")[0]
                    self.aliases[alias.asname or top] = tuple((alias.name if alias.asname else top).split("."))
            elif isinstance(stmt, ast.ImportFrom):
                for alias in stmt.names:
                    if alias.name == "*":
                        self.star = True
                    elif stmt.module and not stmt.level:
                        self.aliases[alias.asname or alias.name] = (*stmt.module.split("."), alias.name)
        # Module-level names bound to something known (`run = os.system`) are known themselves.
        self.hot: set[str] = set()
        plain = [u for u in self.units if not u.is_method and not isinstance(u.node, (*_DEFS, *_IMPORTS))]
        users: dict[str, list[Unit]] = {}  # a name -> the module-level statements that use it
        for unit in plain:
            for name in unit.names:
                users.setdefault(name, []).append(unit)
        todo = list(plain)  # a statement is tested again only when a name it uses becomes hot
        while todo:
            unit = todo.pop()
            if not unit.defines <= self.hot and self.mentions_known(unit, imports=False):
                fresh = unit.defines - self.hot
                self.hot |= fresh
                todo += [u for name in fresh for u in users.get(name, ())]

    def mentions_known(self, unit: Unit, *, imports: bool = True) -> bool:
        """Is ``unit`` a seed? A module-level name bound to something known counts as known
        (``run = os.system`` … ``x = run; x(c)``) wherever its value is used; a flag read from the
        environment and only tested in an ``if`` is no reason to keep a method."""
        if unit.special or (imports and unit.imports) or unit.methods & PATH_METHODS:
            return True
        if unit.names_a_store():
            return True
        hot, aliases = self.hot, self.aliases
        if hot and unit.valued & hot:
            return True
        for name in unit.names:
            if name in BUILTIN_SEEDS:
                return True
        for name in unit.bare:
            if chain_is_known(aliases.get(name, (name,))):
                return True
        for chain in unit.chains:
            real = aliases.get(chain[0])
            if chain_is_known(real + chain[1:] if real is not None else chain):
                return True
        return False


def names_a_secret_store(texts: list[tuple[int, int, str]]) -> bool:
    """Do these string constants name a credential or browser store, one by one, reversed, or joined
    in source order (a path split into pieces)? The engine reports a read of such a path by any call."""
    ordered = [t for _, _, t in sorted(texts)]
    joined = "".join(ordered)
    if not patterns.may_name_a_store(joined):  # every text is a part of this one
        return False
    for text in [*patterns.texts_naming_a_store(ordered), joined]:
        for variant in (text, text[::-1]):
            if patterns.is_credential_path(variant) or patterns.is_browser_store(variant):
                return True
    return False


# Methods through which arguments of a class call flow in (``C(x)``), and the ones Python calls on
# an instance without naming them.
_INIT_DUNDERS = frozenset({"__init__", "__new__", "__post_init__"})


Key = tuple[object, str]  # (what kept code has: "used", "methods", ("self_loads", class id), …; a name)


class _Kept:
    """What the kept units define and use, grown one unit at a time for the closure test of the
    others. ``add`` returns the keys that were new, so only the units that mention them are tested
    again (the closure costs in proportion to the facts, not to units × rounds)."""

    def __init__(self) -> None:
        self.used: set[str] = set()  # names and string words kept code uses
        self.attrs_used: set[str] = set()  # attribute names kept code reads (any base)
        self.funcs: set[str] = set()  # top-level functions kept
        self.methods: set[str] = set()  # methods kept (any class)
        self.inits: set[str] = set()  # classes whose constructor code is kept
        self.names: set[str] = set()
        self.loads: set[str] = set()  # attributes read / written not through `self`
        self.stores: set[str] = set()
        self.all_loads: set[str] = set()  # ... and through `self`
        self.all_stores: set[str] = set()
        self.self_loads: dict[int, set[str]] = {}  # `self.x` read / written by kept methods of a class
        self.self_stores: dict[int, set[str]] = {}
        self.classes: set[int] = set()  # classes with a kept method or a kept shell

    def add(self, unit: Unit) -> list[Key]:
        new: list[Key] = []

        def put(target: set[str], space: object, keys: Iterable[str]) -> None:
            for key in keys:
                if key not in target:
                    target.add(key)
                    new.append((space, key))

        put(self.used, "used", unit.names | unit.words)
        put(self.attrs_used, "attrs_used", unit.loads | unit.self_loads)
        put(self.names, "names", unit.names)
        put(self.loads, "loads", unit.loads)
        put(self.stores, "stores", unit.stores)
        put(self.all_loads, "all_loads", unit.loads | unit.self_loads)
        put(self.all_stores, "all_stores", unit.stores | unit.self_stores)
        node = unit.node
        if unit.cls is not None:
            own = id(unit.cls)
            if own not in self.classes:
                self.classes.add(own)
                new.append(("classes", str(own)))
            put(self.methods, "methods", [unit.cls_member])
            put(self.self_loads.setdefault(own, set()), ("self_loads", own), unit.self_loads)
            put(self.self_stores.setdefault(own, set()), ("self_stores", own), unit.self_stores)
            if unit.cls_member in _INIT_DUNDERS:
                put(self.inits, "callees", [unit.cls.name])
        elif isinstance(node, ast.ClassDef):
            if id(node) not in self.classes:
                self.classes.add(id(node))
                new.append(("classes", str(id(node))))
        elif isinstance(node, _FUNCS):
            put(self.funcs, "callees", [node.name])
        return new

    def needs(self, unit: Unit, variables: set[str]) -> bool:
        """Can data flow between ``unit`` and kept code?"""
        node = unit.node
        own = id(unit.cls) if unit.cls is not None else 0
        # Kept code calls or reads what the unit defines.
        if unit.cls is not None:
            name = unit.cls_member
            if name in self.attrs_used or name in self.used:
                return True
            if _is_dunder(node) and name not in _INIT_DUNDERS and own in self.classes and unit.cls.name in self.used:
                return True  # called by Python on instances kept code uses
        elif isinstance(node, ast.ClassDef):
            if id(node) in self.classes or node.name in self.used:
                return True
        elif unit.defines & self.used:
            return True  # a function kept code calls, or a statement binding a name kept code reads
        # The unit calls kept code: its arguments flow in.
        # (no unions of the kept sets here: they grow with the module, this runs once per key added)
        for mine in (unit.names, unit.words):
            if not mine.isdisjoint(self.funcs) or not mine.isdisjoint(self.inits):
                return True
        if not unit.words.isdisjoint(self.methods):
            return True
        if not unit.loads.isdisjoint(self.methods) or not unit.self_loads.isdisjoint(self.methods):
            return True
        # Attributes: `self.x` of a class meets `self.x` of the same class only (the engine keeps
        # them per class); any other access meets every access.
        if unit.stores & self.all_loads or unit.loads & self.all_stores:
            return True
        if unit.self_stores and (
            not unit.self_stores.isdisjoint(self.loads) or not unit.self_stores.isdisjoint(self.self_loads.get(own, ()))
        ):
            return True
        if unit.self_loads and (
            not unit.self_loads.isdisjoint(self.stores) or not unit.self_loads.isdisjoint(self.self_stores.get(own, ()))
        ):
            return True
        if "setattr" in unit.names and unit.words & self.all_loads:
            return True
        # A module-level variable changed in place that kept code reads.
        return bool(unit.mutated & variables & self.names)


def _index(units: list[Unit], variables: set[str]) -> dict[Key, list[int]]:
    """For each key kept code may come to have, the units whose ``_Kept.needs`` test reads it."""
    index: dict[Key, list[int]] = {}

    def on(space: object, keys: Iterable[str], i: int) -> None:
        for key in keys:
            index.setdefault((space, key), []).append(i)

    for i, unit in enumerate(units):
        node = unit.node
        if unit.cls is not None:
            own = id(unit.cls)
            on("used", [unit.cls_member], i)
            on("attrs_used", [unit.cls_member], i)
            if _is_dunder(node):
                on("classes", [str(own)], i)
                on("used", [unit.cls.name], i)
            on(("self_loads", own), unit.self_stores, i)
            on(("self_stores", own), unit.self_loads, i)
        elif isinstance(node, ast.ClassDef):
            on("classes", [str(id(node))], i)
            on("used", [node.name], i)
        else:
            on("used", unit.defines, i)
        on("callees", unit.names | unit.words, i)
        on("methods", unit.words | unit.loads | unit.self_loads, i)
        on("all_loads", unit.stores, i)
        if "setattr" in unit.names:
            on("all_loads", unit.words, i)
        on("all_stores", unit.loads, i)
        on("loads", unit.self_stores, i)
        on("stores", unit.self_loads, i)
        on("names", unit.mutated & variables, i)
    return index


def kept_units(tree: ast.Module, module: Module | None = None) -> tuple[list[Unit], list[bool]]:
    """The units of ``tree`` and, for each, whether the analysis may learn anything from it."""
    module = module or Module(tree)
    units = module.units
    if module.star:
        return units, [True] * len(units)
    # Module-level statements other than definitions run on import: they are where execution
    # starts, and cheap to parse; they are always kept.
    keep = [_runs_on_import(u) or module.mentions_known(u) for u in units]
    # A store path split over several statements: no unit names it, the module does. Keep all.
    texts = [t for u in units for t in u.texts]
    if texts and not any(u.names_a_store() for u in units) and names_a_secret_store(texts):
        return units, [True] * len(units)
    _keep_shared_lines(tree, units, keep)
    variables: set[str] = set()  # module-level variables
    for unit in units:
        if not unit.is_method and not isinstance(unit.node, (*_DEFS, *_IMPORTS)):
            variables |= unit.defines
    kept = _Kept()
    index = _index(units, variables)
    todo: list[int] = []
    for i, unit in enumerate(units):
        if keep[i]:
            todo += [j for key in kept.add(unit) for j in index.get(key, ())]
    while todo:
        i = todo.pop()
        if not keep[i] and kept.needs(units[i], variables):
            keep[i] = True
            todo += [j for key in kept.add(units[i]) for j in index.get(key, ())]
    return units, keep


def _runs_on_import(unit: Unit) -> bool:
    return not unit.is_method and not isinstance(unit.node, _DEFS)


def _is_dunder(node: ast.stmt) -> bool:
    name = getattr(node, "name", "")
    return name.startswith("__") and name.endswith("__")


def _parse(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


class Survey:
    """A text, CPython's tree of it and what this module learned from the tree: parsed once, for
    the question below and then for the pruning of the same text."""

    def __init__(self, text: str, tree: ast.Module):
        self.text = text
        self.tree = tree
        self.module = Module(tree)

    @property
    def nothing_to_find(self) -> bool:
        """The analysis of the text is sure to find nothing: no part of it mentions anything the
        analysis knows (``print('owned')``, arithmetic, plain data)."""
        module = self.module
        return not module.star and not any(module.mentions_known(u) for u in module.units)


def survey(text: str, max_statements: int = DEFAULT_LIMITS.max_source_statements) -> Survey | None:
    """The survey of ``text``; None when CPython cannot parse it (the engine then repairs it) or
    when it is over the size bounds (the engine's parse then refuses it, see size.py)."""
    try:
        check_size(text, max_statements)
        tree = _parse(text)
        if tree is not None:
            check_size(text, max_statements, tree)
    except TooLarge:
        return None  # not surveyed: parsing.parse reports the same bound
    return None if tree is None else Survey(text, tree)


def nothing_to_find(text: str) -> bool:
    """True when the analysis of ``text`` is sure to find nothing (see ``Survey``)."""
    found = survey(text)
    return found is not None and found.nothing_to_find


def _first_line(stmt: ast.stmt) -> int:
    first = stmt.lineno
    for dec in getattr(stmt, "decorator_list", ()):
        first = min(first, dec.lineno)
    return first


def _keep_shared_lines(tree: ast.Module, units: list[Unit], keep: list[bool]) -> None:
    """Keep top-level statements that share a line with another (``import os; os.system(c); x = 1``):
    blanking works on whole lines."""
    shared: set[int] = set()
    body = tree.body
    for before, after in zip(body, body[1:], strict=False):
        if (before.end_lineno or before.lineno) >= _first_line(after):
            shared.add(id(before))
            shared.add(id(after))
    if shared:
        for i, unit in enumerate(units):
            if not unit.is_method and id(unit.node) in shared:
                keep[i] = True


@dataclass
class Pruned:
    """What ``prune`` gives the parser."""

    depth: int  # of CPython's tree (the module is 0), measured on the way
    text: str | None = None  # the text libcst should parse; None: the original (everything kept)
    tree: ast.Module | None = None  # CPython's tree of the kept statements, as ``text`` reads


def _hollow(lines: list[str], first: int, end: int, indent: str) -> ast.stmt:
    """Turn lines ``first..end`` (1-based) into one string statement spanning the same lines (a
    single libcst token: blank lines each cost a node), or a ``pass`` when it is one line.
    Returns CPython's node for what the lines now hold."""
    for index in range(first - 1, end):
        line = lines[index]
        lines[index] = line[len(line.rstrip("\r\n")) :]
    if first == end:
        lines[first - 1] = indent + "pass" + lines[first - 1]
        return ast.Pass(lineno=first, col_offset=len(indent), end_lineno=first, end_col_offset=len(indent) + 4)
    lines[first - 1] = indent + '"""' + lines[first - 1]
    lines[end - 1] = '"""' + lines[end - 1]
    body = ast.Constant(value="\n" * (end - first))
    return ast.Expr(value=body, lineno=first, col_offset=len(indent), end_lineno=end, end_col_offset=3)


def prune(text: str, tree: ast.Module, module: Module | None = None) -> Pruned:
    """``text`` with every unit nothing can be learned from hollowed out: a dropped statement or
    method becomes a string (or ``pass``) on the same lines, so every kept line keeps its number
    and columns. Also CPython's tree of the result, and the depth of ``tree``."""
    module = module or Module(tree)
    units, keep = kept_units(tree, module)
    if all(keep):
        return Pruned(module.depth)
    lines = text.splitlines(keepends=True)
    last = len(lines)
    replaced: dict[int, ast.stmt] = {}  # id of a dropped statement -> what stands in its place
    dropped_classes = {id(u.node) for u, k in zip(units, keep, strict=True) if not k and not u.is_method}
    for unit, kept in zip(units, keep, strict=True):
        if kept or (unit.cls is not None and id(unit.cls) in dropped_classes):
            continue
        node = unit.node
        first = _first_line(node)
        end = min(node.end_lineno if node.end_lineno is not None else node.lineno, last)
        if first > last:
            continue
        indent = lines[first - 1][: node.col_offset]
        replaced[id(node)] = _hollow(lines, first, end, indent)
    body: list[ast.stmt] = []
    for stmt in tree.body:
        if id(stmt) in replaced:
            body.append(replaced[id(stmt)])
            continue
        if isinstance(stmt, ast.ClassDef) and any(id(item) in replaced for item in stmt.body):
            inner = [replaced.get(id(item), item) for item in stmt.body]
            stmt = copy.copy(stmt)  # the caller's tree stays as it was
            stmt.body = inner
            stmt.end_lineno, stmt.end_col_offset = inner[-1].end_lineno, inner[-1].end_col_offset
        body.append(stmt)
    return Pruned(module.depth, "".join(lines), ast.Module(body=body, type_ignores=tree.type_ignores))
