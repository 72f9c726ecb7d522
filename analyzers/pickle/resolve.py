"""What a symbolic value is at run time: a module, a named callable, an object, a bound method…

``Resolver.target(call)`` answers "what does this call invoke, with which arguments", following
indirection: ``getattr(__import__('os'), 'system')``, ``operator.attrgetter``/``methodcaller``,
``functools.partial``, ``importlib.import_module``, ``pydoc.locate``, ``globals()['__builtins__']``,
``sys.modules['os']``, dotted names through modules (``posixpath.os.system``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from malhug.analyzers.knowledge.names import MODULE_TOKENS, canonical
from malhug.analyzers.limits import LimitExceeded
from malhug.analyzers.pickle.fold import NOT_CONST, Folder, const_kwargs
from malhug.analyzers.pickle.values import Call, Global, PDict

# Attribute names that escape to interpreter internals (sandbox-escape gadgets).
GADGETS = frozenset(
    {
        "__subclasses__",
        "__globals__",
        "__code__",
        "__class__",
        "__bases__",
        "__base__",
        "__mro__",
        "__getattribute__",
        "__import__",
        "__loader__",
        "__spec__",
        "__func__",
        "__self__",
        "__closure__",
        "__reduce__",
        "__reduce_ex__",
        "__init_subclass__",
        "__setattr__",
        "__delattr__",
    }
)

_IMPORTERS = frozenset(
    {
        "builtins.__import__",
        "importlib.import_module",
        "importlib.__import__",
        "dill._dill._import_module",
        "unittest.mock._importer",
        "test.support.import_helper.import_module",
    }
)
_LOCATORS = frozenset({"pydoc.locate", "pkgutil.resolve_name"})
_NAMESPACES = frozenset({"builtins.globals", "builtins.locals", "builtins.vars"})
_RECONSTRUCTORS = frozenset({"copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__"})
# Builtins that call a function on each item of an iterable: ``map(os.system, ['echo x'])`` calls
# os.system once the iterator is consumed (by list, tuple, set… which are allowed).
MAPPERS: dict[str, bool] = {"builtins.map": False, "builtins.filter": False, "itertools.starmap": True}
GETATTRS = frozenset(
    {"builtins.getattr", "builtins.object.__getattribute__", "builtins.type.__getattribute__", "inspect.getattr_static"}
)
# Allowed rebuild helpers that call one argument with another: ``_rebuild_from_type_v2(func, new_type,
# args, state)`` runs ``func(*args)`` (an allow-listed name that invokes whatever it is given).
APPLIERS: dict[str, tuple[int, int]] = {
    "torch._tensor._rebuild_from_type_v2": (0, 2),
    "torch._tensor._rebuild_from_type": (0, 2),
}
# Callables whose result can be a module (the only objects BUILD can turn into a module hijack).
MODULE_PRODUCERS = (
    _IMPORTERS
    | _LOCATORS
    | {
        "builtins.getattr",
        "operator.getitem",
        "operator.attrgetter",
        "operator.itemgetter",
        "functools.reduce",
    }
)
KNOWN_MODULES = frozenset(
    {canonical(m, "")[0].rstrip(".") for m in MODULE_TOKENS}
    | {"os.path", "urllib.request", "http.client", "importlib.util"}
)

# A chain of N lookups (``getattr(getattr(…, 'a'), 'b')``, N calls through one memoized callable)
# builds one Ref per step; copying every step's whole history into the next made the analysis
# quadratic in N. The histories are kept bounded: ``via`` (shown in messages) keeps its head, where
# "attribute chain"/"computed name" are recorded, and its tail; ``roots`` and ``inner`` are deduplicated
# by identity and capped (an import or call beyond the cap is judged on its own instead).
MAX_VIA = 24
MAX_REFS = 128


def cat_via(*parts: tuple[str, ...]) -> tuple[str, ...]:
    """The steps of ``parts`` in order, bounded to ``MAX_VIA`` (head and tail kept around a "…")."""
    steps: tuple[str, ...] = ()
    for part in parts:
        if part:
            steps = steps + part if steps else part
            if len(steps) > MAX_VIA:
                half = MAX_VIA // 2
                steps = (*steps[:half], "…", *steps[len(steps) - half + 1 :])
    return steps


def cat_refs(*parts: tuple[Any, ...], tail: bool = False) -> tuple[Any, ...]:
    """The objects of ``parts``, each once (by identity), at most ``MAX_REFS``: the first ones, or
    with ``tail`` (calls) the ones at the highest offsets, in offset order (a chain's latest calls,
    whose own references lead back to the earlier ones)."""
    nonempty = [p for p in parts if p]
    if not nonempty:
        return ()
    if len(nonempty) == 1 and len(nonempty[0]) <= MAX_REFS:
        return nonempty[0]
    out: list[Any] = []
    seen: set[int] = set()
    for part in nonempty:
        for item in part:
            if id(item) not in seen:
                seen.add(id(item))
                out.append(item)
    if len(out) <= MAX_REFS:
        return tuple(out)
    if tail:
        out.sort(key=lambda c: c.offset)
        return tuple(out[len(out) - MAX_REFS :])
    return tuple(out[:MAX_REFS])


@dataclass(frozen=True, slots=True)
class Ref:
    """What a value is. ``kind``: name (a module attribute: function or class), module, namespace
    (a dict of names: ``globals()``, ``sys.modules``, a module ``__dict__``), object (an instance or
    call result), method (``base``.``name`` bound), partial, attrgetter, itemgetter, methodcaller, gadget,
    const, unknown."""

    kind: str
    name: str = ""
    via: tuple[str, ...] = ()
    base: Ref | None = None
    args: tuple[Any, ...] = ()
    roots: tuple[Global, ...] = ()  # the imports this reference was built from
    inner: tuple[Call, ...] = ()  # the calls evaluated to build it (getattr, __import__, partial…)


@dataclass(frozen=True, slots=True)
class Target:
    """What a call invokes: the callable's reference and the effective arguments."""

    fn: Ref
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class Resolver:
    def __init__(self, folder: Folder, max_depth: int, extensions: dict[int, tuple[str, str]] | None = None):
        self.folder = folder
        self.max_depth = max_depth
        self.extensions = extensions or {}  # codes the stream registers itself (copyreg.add_extension)
        self._values: dict[int, Ref] = {}  # Global/Call id -> what it is (a call: what it returns)
        self._targets: dict[int, Target] = {}

    def const(self, value: Any, depth: int = 0) -> Any:
        return self.folder.fold(value, depth)[0]

    def target(self, call: Call, depth: int = 0) -> Target:
        cached = self._targets.get(id(call))
        if cached is not None:
            return cached
        if depth > self.max_depth:
            raise LimitExceeded("pickle expression depth", self.max_depth, depth)
        args = call.args if isinstance(call.args, tuple) else (call.args,)
        kwargs = const_kwargs(call.kwargs)
        fn = self.value(call.func, depth + 1)
        if fn.kind == "partial" and fn.base is not None:
            for _ in range(self.max_depth):  # partial(partial(f, a), b)() calls f(a, b)
                fn, args = _extend(fn.base, fn), fn.args + args
                if fn.kind != "partial" or fn.base is None:
                    break
        elif fn.kind == "methodcaller" and args:
            obj = self.value(args[0], depth + 1)
            fn, args = _extend(self.attr(obj, fn.name, ("methodcaller",)), fn), fn.args
        elif fn.kind == "name" and fn.name in APPLIERS and len(args) > max(APPLIERS[fn.name]):
            func_at, args_at = APPLIERS[fn.name]
            applied = args[args_at] if isinstance(args[args_at], tuple) else self.const(args[args_at], depth + 1)
            step = fn.name.rpartition(".")[2]
            fn = _with_via(_extend(self.value(args[func_at], depth + 1), fn), step)
            args = applied if isinstance(applied, tuple) else (args[args_at],)
        elif fn.kind == "name" and fn.name in MAPPERS and len(args) >= 2:
            items = self.const(args[1], depth + 1)
            first = items[0] if isinstance(items, (list, tuple)) and items else args[1]
            star = MAPPERS[fn.name] and isinstance(first, tuple)
            step = fn.name.removeprefix("builtins.")
            fn, args = _with_via(_extend(self.value(args[0], depth + 1), fn), step), first if star else (first,)
        elif fn.kind == "name" and fn.name == "operator.call" and args:
            fn, args = _with_via(_extend(self.value(args[0], depth + 1), fn), "operator.call"), args[1:]
        elif fn.kind == "name" and fn.name in _RECONSTRUCTORS and args:
            # copyreg._reconstructor(cls, base, state) runs base.__init__(obj, state) unless base is object
            base = self.value(args[1], depth + 1) if fn.name == "copyreg._reconstructor" and len(args) > 1 else None
            if base is not None and base.kind == "name" and base.name != "builtins.object":
                cls = self.value(args[0], depth + 1)  # the class is part of this call, not an import of its own
                ext = _extend(base, fn)
                roots = cat_refs(base.roots, fn.roots, cls.roots)
                fn, args = Ref(ext.kind, ext.name, ext.via, ext.base, ext.args, roots, ext.inner), args[2:3]
        found = Target(fn, args, kwargs)
        self._targets[id(call)] = found
        return found

    def value(self, value: Any, depth: int = 0) -> Ref:
        if isinstance(value, Global):
            ref = self._values.get(id(value))
            if ref is None:
                ref = self._values[id(value)] = self._global(value)
            return ref
        if isinstance(value, Call):
            key = id(value)
            cached = self._values.get(key)
            if cached is None:
                self._values[key] = Ref("unknown", "<cycle>")
                cached = self._call_result(value, depth)
                self._values[key] = cached
            return cached
        folded = self.const(value, depth)
        if folded is not NOT_CONST:
            return Ref("const", type(folded).__name__, args=(folded,))
        if isinstance(value, PDict):
            return Ref("object", "builtins.dict")
        return Ref("unknown", type(value).__name__)

    def result_of(self, call: Call) -> Ref | None:
        """What ``call`` returns, if it was resolved already."""
        return self._values.get(id(call))

    def _global(self, glob: Global) -> Ref:
        if glob.module == "<extension>":
            registered = self.extensions.get(int(glob.name))
            if registered is None:
                return Ref("unknown", f"extension code {glob.name}", roots=(glob,))
            # The stream registered this code itself before using it: the name it stands for.
            name = canonical(*registered)[0]
            kind = "module" if name in KNOWN_MODULES else "name"
            return Ref(kind, name, ("copyreg extension code",), roots=(glob,))
        name, chained = glob.canon
        via: tuple[str, ...] = ("attribute chain",) if chained else ()
        if glob.dynamic:
            via += ("computed name",)
        if name == "sys.modules":
            return Ref("namespace", name, via, roots=(glob,))
        if name.endswith(".__dict__"):  # a module's namespace imported directly
            return Ref("namespace", name[: -len(".__dict__")], via, roots=(glob,))
        if name in KNOWN_MODULES:
            return Ref("module", name, via, roots=(glob,))
        return Ref("name", name, via, roots=(glob,))

    def _call_result(self, call: Call, depth: int) -> Ref:
        """What calling ``call`` returns."""
        tgt = self.target(call, depth + 1)
        fn, args = tgt.fn, tgt.args
        roots, inner = fn.roots, cat_refs(fn.inner, (call,), tail=True)
        if fn.kind == "attrgetter" and args:
            ref = self.value(args[0], depth + 1)
            for part in fn.name.split("."):
                ref = self.attr(ref, part, ("attrgetter",))
            return _merge(ref, roots, inner)
        if fn.kind == "itemgetter" and args:
            ref = _with_via(self.item(self.value(args[0], depth + 1), fn.name), "itemgetter")
            return _merge(ref, roots, inner)
        if fn.kind == "name":
            first = self.const(args[0], depth + 1) if args else NOT_CONST
            step = fn.name.removeprefix("builtins.")
            if fn.name in _IMPORTERS and isinstance(first, str):
                fromlist = self.const(args[3], depth + 1) if len(args) > 3 else None
                mod = first if fn.name != "builtins.__import__" or fromlist else first.split(".")[0]
                return Ref(
                    "module", canonical(mod, "")[0].rstrip("."), cat_via(fn.via, (step,)), roots=roots, inner=inner
                )
            if fn.name in _LOCATORS and isinstance(first, str):
                module, _, attr = first.replace(":", ".").rpartition(".")
                name = canonical(module, attr)[0] if module else first
                kind = "module" if name in KNOWN_MODULES else "name"
                return Ref(kind, name, cat_via(fn.via, (step,)), roots=roots, inner=inner)
            if fn.name == "builtins.vars" and len(args) == 1:
                obj = self.value(args[0], depth + 1)
                if obj.kind == "module":
                    return Ref(
                        "namespace",
                        obj.name,
                        cat_via(obj.via, ("vars",)),
                        roots=cat_refs(roots, obj.roots),
                        inner=cat_refs(inner, obj.inner, tail=True),
                    )
            if fn.name in GETATTRS and len(args) >= 2:
                obj = self.value(args[0], depth + 1)
                attr = self.const(args[1], depth + 1)
                how = fn.name.rpartition(".")[2]
                return _merge(self.attr(obj, attr if isinstance(attr, str) else None, (how,)), roots, inner)
            if fn.name == "operator.attrgetter" and isinstance(first, str):
                return Ref("attrgetter", first, cat_via(fn.via, ("attrgetter",)), roots=roots, inner=inner)
            if fn.name == "operator.itemgetter" and len(args) == 1 and isinstance(first, str):
                return Ref("itemgetter", first, fn.via, roots=roots, inner=inner)
            if fn.name == "functools.reduce" and len(args) == 3:
                return _merge(self._reduce(args, depth), roots, inner)
            if fn.name == "operator.methodcaller" and isinstance(first, str):
                return Ref(
                    "methodcaller", first, cat_via(fn.via, ("methodcaller",)), args=args[1:], roots=roots, inner=inner
                )
            if fn.name == "functools.partial" and args:
                return self._partial(call, args, fn, depth)
            if fn.name in _NAMESPACES and not args:
                return Ref("namespace", "__main__", cat_via(fn.via, (step,)), roots=roots, inner=inner)
            if fn.name == "operator.getitem" and len(args) == 2:
                return _merge(self.item(self.value(args[0], depth + 1), self.const(args[1], depth + 1)), roots, inner)
            if fn.name in _RECONSTRUCTORS and args:
                cls = self.value(args[0], depth + 1)
                return Ref("object", cls.name, cls.via, roots=cat_refs(roots, cls.roots), inner=inner)
            return Ref("object", fn.name, fn.via, roots=roots, inner=inner)
        if fn.kind == "method" and fn.base is not None and fn.name in ("get", "__getitem__", "pop") and args:
            return _merge(self.item(fn.base, self.const(args[0], depth + 1)), roots, inner)
        if fn.kind == "method" and fn.base is not None and fn.name == "__dict__":
            return fn.base
        return Ref("object", f"{fn.name}()" if fn.name else "<call result>", fn.via, roots=roots, inner=inner)

    def _reduce(self, args: tuple[Any, ...], depth: int) -> Ref:
        """``functools.reduce(getattr, ['path', 'os', 'system'], module)``: an attribute chain."""
        step = self.value(args[0], depth + 1)
        names = self.const(args[1], depth + 1)
        ref = self.value(args[2], depth + 1)
        if not isinstance(names, (list, tuple)) or step.kind != "name":
            return Ref("object", "functools.reduce()", ("functools.reduce",), roots=ref.roots, inner=ref.inner)
        for name in names:
            if step.name == "builtins.getattr":
                ref = self.attr(ref, name if isinstance(name, str) else None, ("functools.reduce",))
            elif step.name == "operator.getitem":
                ref = _with_via(self.item(ref, name), "functools.reduce")
            else:
                return Ref("object", f"functools.reduce({step.name})", ("functools.reduce",), roots=ref.roots)
        return _merge(ref, step.roots, step.inner)

    def _partial(self, call: Call, args: tuple[Any, ...], fn: Ref, depth: int) -> Ref:
        target = self.value(args[0], depth + 1)
        bound = args[1:]
        for state in call.state or ():
            # functools.partial pickles as partial(f) + BUILD (f, args, kwds, dict)
            if isinstance(state, tuple) and len(state) >= 2 and isinstance(state[1], tuple):
                target = self.value(state[0], depth + 1)
                bound = state[1]
        return Ref(
            "partial",
            target.name,
            cat_via(fn.via, ("partial",)),
            base=target,
            args=tuple(bound),
            roots=cat_refs(fn.roots, target.roots),
            inner=cat_refs(fn.inner, target.inner, (call,), tail=True),
        )

    def attr(self, obj: Ref, attr: str | None, via: tuple[str, ...]) -> Ref:
        steps = cat_via(obj.via, via)
        if attr is None:
            return Ref("unknown", "<computed attribute>", steps, roots=obj.roots, inner=obj.inner)
        if attr == "__call__" and obj.kind in ("name", "partial", "method"):
            return Ref(obj.kind, obj.name, steps, obj.base, obj.args, obj.roots, obj.inner)  # f.__call__ is f
        if attr in GADGETS:
            return Ref("gadget", f"{obj.name}.{attr}", steps, base=obj, roots=obj.roots, inner=obj.inner)
        if attr in ("__builtins__", "builtins"):
            return Ref("module", "builtins", steps, roots=obj.roots, inner=obj.inner)
        if obj.kind in ("module", "name"):
            if attr == "__dict__":
                return Ref("namespace", obj.name, steps, roots=obj.roots, inner=obj.inner)
            name, _ = canonical(obj.name, attr)
            kind = "module" if name in KNOWN_MODULES else "name"
            if name == "sys.modules":
                kind = "namespace"
            return Ref(kind, name, steps, roots=obj.roots, inner=obj.inner)
        if obj.kind in ("object", "const", "namespace", "method"):
            return Ref("method", attr, steps, base=obj, roots=obj.roots, inner=obj.inner)
        return Ref("unknown", f"{obj.name}.{attr}", steps, roots=obj.roots, inner=obj.inner)

    def item(self, obj: Ref, key: Any) -> Ref:
        if not isinstance(key, str):
            return Ref("unknown", "<computed item>", obj.via, roots=obj.roots, inner=obj.inner)
        if obj.kind == "namespace" and obj.name == "sys.modules":
            return Ref(
                "module",
                canonical(key, "")[0].rstrip("."),
                cat_via(obj.via, ("sys.modules",)),
                roots=obj.roots,
                inner=obj.inner,
            )
        if obj.kind == "namespace" and obj.name == "__main__":
            if key in ("__builtins__", "builtins"):
                return Ref("module", "builtins", cat_via(obj.via, ("globals()",)), roots=obj.roots, inner=obj.inner)
            return Ref("name", f"__main__.{key}", obj.via, roots=obj.roots, inner=obj.inner)
        if obj.kind in ("namespace", "module"):
            return self.attr(Ref("module", obj.name, obj.via, roots=obj.roots, inner=obj.inner), key, ("item",))
        return Ref("unknown", f"{obj.name}[{key!r}]", obj.via, roots=obj.roots, inner=obj.inner)


def _extend(ref: Ref, through: Ref) -> Ref:
    """``ref`` reached through ``through`` (a partial, a methodcaller, a reconstructor)."""
    return Ref(
        ref.kind,
        ref.name,
        cat_via(ref.via, through.via),
        ref.base,
        ref.args,
        cat_refs(ref.roots, through.roots),
        cat_refs(ref.inner, through.inner, tail=True),
    )


def _with_via(ref: Ref, step: str) -> Ref:
    return Ref(ref.kind, ref.name, cat_via(ref.via, (step,)), ref.base, ref.args, ref.roots, ref.inner)


def _merge(ref: Ref, roots: tuple[Global, ...], inner: tuple[Call, ...]) -> Ref:
    return Ref(
        ref.kind,
        ref.name,
        ref.via,
        ref.base,
        ref.args,
        cat_refs(roots, ref.roots),
        cat_refs(inner, ref.inner, tail=True),
    )
