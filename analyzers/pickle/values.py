"""Symbolic values of the pickle machine and their Python-like rendering.

Constants stay native Python values (``str``, ``bytes``, ``int``, tuples, lists) so the machine
allocates nothing for them; dicts and sets are ``PDict``/``PSet`` (their keys may be unhashable
symbolic values). Imports are ``Global``, every callable invocation is a ``Call``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from malhug.analyzers.knowledge.names import canonical

MAX_TEXT = 240  # longest string literal shown whole in a rendering
MAX_ITEMS = 8  # container items shown before "…"


# The symbolic values are compared by identity (eq=False) and never repr'd (repr=False): the machine
# shares them through the memo and a hostile stream can make them cyclic; ``render`` shows them.
@dataclass(eq=False, repr=False, slots=True)
class Global:
    """An imported name (GLOBAL, STACK_GLOBAL, INST, EXT)."""

    module: str
    name: str
    offset: int
    dynamic: bool = False  # the name was computed (memo, str.join) rather than written literally
    _canon: tuple[str, bool] | None = field(default=None, init=False)

    @property
    def canon(self) -> tuple[str, bool]:
        if self._canon is None:
            self._canon = canonical(self.module, self.name)
        return self._canon

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(eq=False, repr=False, slots=True)
class Call:
    """A callable invoked while loading: REDUCE, NEWOBJ(_EX), OBJ, INST, or an injected __setstate__."""

    func: Any
    args: Any
    offset: int
    kind: str = "reduce"
    kwargs: Any = None
    state: list[Any] | None = field(default=None, init=False)  # BUILD states applied to the result
    items: list[Any] | None = field(default=None, init=False)  # APPEND(S)/SETITEM(S) applied to the result
    hook: Any = field(default=None, init=False)  # a ``__setstate__`` planted in the result by a BUILD

    def add_state(self, state: Any) -> None:
        if self.state is None:
            self.state = [state]
        else:
            self.state.append(state)

    def add_items(self, items: list[Any]) -> None:
        if self.items is None:
            self.items = list(items)
        else:
            self.items.extend(items)


@dataclass(eq=False, repr=False, slots=True)
class PersId:
    """A persistent id (torch storages); resolved by the loader, never imported."""

    pid: Any
    offset: int


@dataclass(eq=False, repr=False, slots=True)
class Unknown:
    """A value the machine cannot know (out-of-band buffers, a computed global)."""

    what: str
    offset: int


@dataclass(eq=False, repr=False, slots=True)
class PDict:
    items: list[tuple[Any, Any]] = field(default_factory=list)

    def get(self, key: str) -> Any:
        for k, v in self.items:
            if isinstance(k, str) and k == key:
                return v
        return None


@dataclass(eq=False, repr=False, slots=True)
class PSet:
    items: list[Any] = field(default_factory=list)
    frozen: bool = False


def short_name(glob: Global) -> str:
    name, _ = glob.canon
    if name.startswith("builtins.") and name.count(".") == 1:
        return name.removeprefix("builtins.")
    return glob.dotted if glob.canon[1] or glob.dynamic else name


def _literal(value: Any, limit: int = MAX_TEXT) -> str:
    if isinstance(value, (str, bytes, bytearray)) and len(value) > limit:
        return f"{value[:limit]!r}…(+{len(value) - limit})"
    return repr(value)


def render(value: Any, depth: int = 6, budget: int = 400, text: int = MAX_TEXT) -> str:
    """A readable Python-like expression for ``value``, bounded in depth, width and total nodes
    (a wide, deep or memo-shared structure never renders more than ``budget`` nodes); string literals
    are shown up to ``text`` characters."""
    return _Renderer(budget, text).render(value, depth)


class _Renderer:
    def __init__(self, budget: int, text: int = MAX_TEXT):
        self.budget = budget
        self.text = text

    def render(self, value: Any, depth: int) -> str:
        self.budget -= 1
        if depth <= 0 or self.budget < 0:
            return "…"
        if value is None or isinstance(value, (bool, int, float, complex, str, bytes, bytearray)):
            return _literal(value, self.text)
        if isinstance(value, Global):
            return short_name(value)
        if isinstance(value, Call):
            if _is_protocol2_bytes(value):
                return _literal(value.args[0].encode("latin-1"), self.text)
            func = self.render(value.func, depth - 1)
            args = value.args if isinstance(value.args, (tuple, list)) else (value.args,)
            parts = self.seq(args, depth - 1)
            if isinstance(value.kwargs, PDict):
                parts += [
                    f"{k}={self.render(v, depth - 1)}" if isinstance(k, str) else "**…"
                    for k, v in value.kwargs.items[:MAX_ITEMS]
                ]
            return f"{func}({', '.join(parts)})"
        if isinstance(value, tuple):
            inner = self.seq(value, depth - 1)
            return f"({inner[0]},)" if len(inner) == 1 else f"({', '.join(inner)})"
        if isinstance(value, list):
            return f"[{', '.join(self.seq(value, depth - 1))}]"
        if isinstance(value, PDict):
            shown = [f"{self.render(k, depth - 1)}: {self.render(v, depth - 1)}" for k, v in value.items[:MAX_ITEMS]]
            if len(value.items) > MAX_ITEMS:
                shown.append("…")
            return "{" + ", ".join(shown) + "}"
        if isinstance(value, PSet):
            members = ", ".join(self.seq(value.items, depth - 1))
            return f"frozenset({{{members}}})" if value.frozen else ("{" + members + "}" if members else "set()")
        if isinstance(value, PersId):
            return f"persistent_load({self.render(value.pid, depth - 1)})"
        if isinstance(value, Unknown):
            return f"<{value.what}>"
        return f"<{type(value).__name__}>"

    def seq(self, values: Any, depth: int) -> list[str]:
        shown = [self.render(v, depth) for v in list(values[:MAX_ITEMS])]
        if len(values) > MAX_ITEMS:
            shown.append(f"…(+{len(values) - MAX_ITEMS})")
        return shown


def _is_protocol2_bytes(call: Call) -> bool:
    """``_codecs.encode('…', 'latin1')``: how protocols 0-2 write ``bytes``; shown as a bytes literal."""
    args = call.args
    return (
        isinstance(call.func, Global)
        and call.func.canon[0] == "codecs.encode"
        and isinstance(args, tuple)
        and len(args) == 2
        and isinstance(args[0], str)
        and args[1] in ("latin1", "latin-1")
        and all(ord(c) < 256 for c in args[0])
    )
