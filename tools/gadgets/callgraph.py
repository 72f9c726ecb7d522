"""Phase 2 of the miner: link the modules' symbolic call sites into one call graph and find, for
each function, the shortest path (at most ``depth`` calls) to a sink.

Resolution of a symbolic callee (``graph`` records them):

- a dotted name is followed through re-exports (``numpy.f`` bound by ``from ._impl import f`` in
  ``numpy/__init__.py``) and star imports, at most a few hops;
- a class called is its ``__init__`` and ``__new__`` (through its bases);
- ``SELF:C.m`` looks ``m`` up in ``C``, then its bases (methods and class attributes such as
  ``importer = staticmethod(__import__)``);
- ``METHOD:mod:m`` is ``C.m`` when exactly one class of ``mod`` defines ``m``; otherwise dropped.

Over-approximations: every call site counts whatever branch guards it; closures count for their
enclosing function; the unique-method heuristic may pick the wrong receiver. Under-approximations:
calls through variables, containers, ``getattr`` with computed names, decorators that replace a
function, dynamic dispatch to methods of other modules, C extensions (no source), and anything
deeper than ``depth``. Data flow is tracked only coarsely: a sink call counts when one of its
arguments mentions a parameter of its function (or a local assigned from one, or ``self``), so
``import_module("torch")`` is not a gadget; calls between functions are not checked that way. A
path means the function *can* reach the sink with data from its caller, not that a pickle's
arguments land in the payload position.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tools.gadgets.graph import WRITE_OPEN, ModuleInfo
from tools.gadgets.sinks import FILE_WRITE, SINK_RANK, sink_of

MAX_HOPS = 8


@dataclass(frozen=True)
class Path:
    """A shortest path from a function to a sink: the functions called, then the sink."""

    sink: str  # sink class
    steps: tuple[str, ...]  # entry, ..., last function, sink callee

    @property
    def depth(self) -> int:
        """Calls between functions before the sink call (a function calling the sink itself: 0)."""
        return len(self.steps) - 2


class CallGraph:
    def __init__(self, modules: list[ModuleInfo]) -> None:
        self.modules = {m.name: m for m in modules}
        self.functions: dict[str, list[tuple[str, int, bool]]] = {}
        self.classes = {}
        self.aliases: dict[str, str] = {}
        self.methods_by_module: dict[tuple[str, str], list[str]] = {}
        for m in modules:
            self.functions.update(m.calls)
            self.classes.update(m.classes)
            for bound, target in m.imports.items():
                self.aliases[f"{m.name}.{bound}"] = target
            for cls in m.classes.values():
                for meth in cls.methods:
                    self.methods_by_module.setdefault((m.name, meth), []).append(f"{cls.name}.{meth}")

    # -- resolution -------------------------------------------------------------------------------

    def canonical(self, name: str) -> str:
        """Follow re-exports and star imports until the name is defined, a sink, or unknown."""
        for _ in range(MAX_HOPS):
            if name in self.functions or name in self.classes or sink_of(name) is not None:
                return name
            nxt = self._step(name)
            if nxt is None or nxt == name:
                return name
            name = nxt
        return name

    def _step(self, name: str) -> str | None:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            head, rest = ".".join(parts[:cut]), parts[cut:]
            if head in self.aliases:
                return ".".join([self.aliases[head], *rest])
            module = self.modules.get(".".join(parts[: cut - 1])) if cut > 1 else None
            if module is not None and module.stars:
                for star in module.stars:
                    candidate = ".".join([star, *parts[cut - 1 :]])
                    if self._known(candidate):
                        return candidate
        return None

    def _known(self, name: str) -> bool:
        return name in self.functions or name in self.classes or name in self.aliases or sink_of(name) is not None

    def lookup(self, cls: str, attr: str, seen: set[str] | None = None) -> str | None:
        """``attr`` of class ``cls`` through its bases: a method or a class attribute's callable."""
        seen = seen if seen is not None else set()
        info = self.classes.get(cls)
        if info is None or cls in seen:
            return None
        seen.add(cls)
        if attr in info.methods:
            return f"{cls}.{attr}"
        if attr in info.attrs:
            return self.canonical(info.attrs[attr])
        for base in info.bases:
            found = self.lookup(self.canonical(base), attr, seen)
            if found is not None:
                return found
        return None

    def callees(self, function: str) -> list[tuple[str, str | None]]:
        """(resolved callee, sink class if the callee is a sink) for each call site."""
        out: list[tuple[str, str | None]] = []
        for symbolic, _line, fed in self.functions.get(function, ()):
            for callee in self._resolve(symbolic):
                if callee.startswith(WRITE_OPEN):
                    sink: str | None = FILE_WRITE
                    callee = callee.removeprefix(WRITE_OPEN)
                else:
                    sink = sink_of(callee)
                if sink is not None and not fed:
                    continue  # constant arguments only (``import_module("torch")``): not a gadget
                out.append((callee, sink))
        return out

    def _resolve(self, symbolic: str) -> list[str]:
        if symbolic.startswith(WRITE_OPEN):
            return [symbolic]
        if symbolic.startswith("SELF:"):
            cls, _, attr = symbolic[5:].rpartition(".")
            found = self.lookup(cls, attr)
            return [found] if found else []
        if symbolic.startswith("METHOD:"):
            _, module, attr = symbolic.split(":", 2)
            owners = self.methods_by_module.get((module, attr), [])
            return owners if len(owners) == 1 else []
        name = self.canonical(symbolic)
        if name in self.classes and sink_of(name) is None:  # ``subprocess.Popen`` is the sink itself
            return [m for m in (self.lookup(name, "__init__"), self.lookup(name, "__new__")) if m]
        return [name]

    # -- reachability -----------------------------------------------------------------------------

    def shortest_paths(self, depth: int) -> dict[str, Path]:
        """For each function that reaches a sink through at most ``depth`` intermediate calls, its shortest path
        (ties: the most dangerous sink class)."""
        best: dict[str, Path] = {}
        callers: dict[str, set[str]] = {}
        for function in self.functions:
            for callee, sink in self.callees(function):
                if sink is not None:
                    path = Path(sink, (function, callee))
                    old = best.get(function)
                    if old is None or SINK_RANK[sink] < SINK_RANK[old.sink]:
                        best[function] = path
                elif callee in self.functions and callee != function:
                    callers.setdefault(callee, set()).add(function)
        frontier = deque(sorted(best))
        while frontier:
            callee = frontier.popleft()
            path = best[callee]
            if path.depth >= depth:
                continue
            for caller in sorted(callers.get(callee, ())):
                if caller in best:
                    continue
                best[caller] = Path(path.sink, (caller, *path.steps))
                frontier.append(caller)
        return best
