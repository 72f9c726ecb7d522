"""What the names a pickle imports mean: allowed, dangerous (and how), or unknown.

Names are canonicalised first (``names.canonical``: ``posix.system`` -> ``os.system``,
``torch.os.system`` -> ``os.system`` reached through a module attribute chain), then looked up in the
shared catalogue of dangerous callables (``malhug.analyzers.knowledge.callables``, exactly, then by
prefix) and in the pickle allowlist (``allowlist``).
"""

from __future__ import annotations

from dataclasses import dataclass

from malhug.analyzers.knowledge.callables import DANGEROUS, DANGEROUS_METHODS, Kind, category_of, kind_of
from malhug.analyzers.knowledge.families import leaves
from malhug.analyzers.knowledge.names import canonical, looks_like_class
from malhug.analyzers.pickle.allowlist import is_allowed
from malhug.core.model import Category

__all__ = ["Danger", "Kind", "NameCache", "canonical", "danger_of", "is_allowed", "looks_like_class"]


@dataclass(frozen=True, slots=True)
class Danger:
    """A dangerous callable and what it does."""

    name: str
    kind: Kind

    @property
    def category(self) -> Category:
        return category_of(self.kind)


# Getter factories: the object they build is harmless unless the attribute it fetches is one of the
# dangerous names (the application itself is followed by the resolver and judged where it is called).
GETTER_FACTORIES = frozenset({"operator.attrgetter", "operator.methodcaller"})
# Leaves of dangerous names that name ordinary things elsewhere (``subprocess.call``, ``timeit.repeat``)
# do not count on their own.
_GENERIC_LEAVES = frozenset({"call", "local", "repeat", "timeit", "Timer", "Command"})
DANGEROUS_LEAVES = (leaves(frozenset(DANGEROUS)) - _GENERIC_LEAVES) | frozenset(DANGEROUS_METHODS)

# Higher-order helpers that only matter when called: stored in an object (a reducer kept as an
# attribute), they are a note, not a dangerous reference.
HARMLESS_WHEN_STORED = frozenset({"functools.reduce"})

# Where the payload sits when it is not the first argument (the index counts every argument).
PAYLOAD_ARG: dict[str, int] = {
    "torch._inductor.codecache.compile_file": 2,  # (input_path, output_path, cmd)
    "torch.utils.data.datapipes.utils.decoder.basichandlers": 1,  # (extension, data)
    "pydoc.pipepager": 1,  # (text, cmd)
    "pydoc.tempfilepager": 1,
    "_pyrepl.pager.pipe_pager": 1,
    "_pyrepl.pager.tempfile_pager": 1,
    "lib2to3.pgen2.pgen.ParserGenerator.make_label": 2,  # (self, c, label): eval(label)
    "_interpreters.run_string": 1,  # (interpreter id, code)
    "_interpreters.exec": 1,
    "_xxsubinterpreters.run_string": 1,
    "_xxsubinterpreters.exec": 1,
    "asyncio.base_events.BaseEventLoop.subprocess_shell": 2,  # (loop, protocol_factory, cmd)
    "asyncio.base_events.BaseEventLoop.subprocess_exec": 2,
    "asyncio.events.AbstractEventLoop.subprocess_shell": 2,
    "asyncio.events.AbstractEventLoop.subprocess_exec": 2,
}


def payload_index(name: str) -> int:
    """The argument a dangerous callable acts on: an unbound method called through its class
    (``trace.Trace.run(tracer, code)``) takes the instance first."""
    index = PAYLOAD_ARG.get(name)
    if index is not None:
        return index
    parent = name.rpartition(".")[0]
    return 1 if parent and looks_like_class(parent) else 0


def danger_of(name: str) -> Danger | None:
    kind = kind_of(name)
    return Danger(name, kind) if kind is not None else None


class NameCache:
    """``danger_of``/``is_allowed`` memoised for one analysis (a stream repeats a few names a lot)."""

    def __init__(self) -> None:
        self._danger: dict[str, Danger | None] = {}
        self._allowed: dict[str, bool] = {}

    def danger(self, name: str) -> Danger | None:
        if name not in self._danger:
            self._danger[name] = danger_of(name)
        return self._danger[name]

    def allowed(self, name: str) -> bool:
        if name not in self._allowed:
            self._allowed[name] = is_allowed(name)
        return self._allowed[name]
