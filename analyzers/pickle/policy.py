"""What the names a pickle imports mean: allowed, dangerous (and how), a mined gadget, or unknown;
and the load-time policy for calls (docs/POLICY.md).

The policy, in one paragraph: a pickle may construct the classes and call the reconstruction
helpers that benign checkpoints use (``allowlist``: measured on files written by torch, NumPy,
scikit-learn, pandas and transformers, see ``tools/gadgets/allowlist.py``); it may rebuild objects
of other classes (the model's own classes in a whole-model save: a low note, MH108). Calling a
function outside the allowlist is at least suspicious (MH106). Calling a mined gadget
(``knowledge/gadgets.jsonl``: a function that reaches code or command execution, name resolution,
deserialization, the network or a file write in a few calls) is malicious (MH112), and so is a call
outside the allowlist fed a string that names a dangerous callable (``'os.system'``,
``'subprocess:Popen'``, also when the pickle machine folds it from pieces; MH113). Helpers that
rebuild an object by running source the pickle carries (``SOURCE_REBUILDERS``: torch.fx) are judged
by that source. Known dangerous callables keep their own rules (MH101/MH102).

Names are canonicalised first (``names.canonical``: ``posix.system`` -> ``os.system``,
``torch.os.system`` -> ``os.system`` reached through a module attribute chain), then looked up in the
shared catalogue of dangerous callables (``malhug.analyzers.knowledge.callables``, exactly, then by
prefix) and in the pickle allowlist (``allowlist``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from malhug.analyzers.knowledge.callables import DANGEROUS, DANGEROUS_METHODS, Kind, category_of, kind_of
from malhug.analyzers.knowledge.families import leaves
from malhug.analyzers.knowledge.gadgets import Gadget, gadget_of
from malhug.analyzers.knowledge.names import canonical, looks_like_class
from malhug.analyzers.pickle.allowlist import is_allowed, is_listed
from malhug.analyzers.pickle.values import Call, PDict, PSet
from malhug.core.model import Category

__all__ = [
    "Danger",
    "Gadget",
    "Kind",
    "NameCache",
    "NameFinder",
    "SOURCE_REBUILDERS",
    "carried_source",
    "canonical",
    "danger_of",
    "dangerous_names",
    "gadget_category",
    "is_allowed",
    "looks_like_class",
]


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
        self._gadget: dict[str, Gadget | None] = {}

    def danger(self, name: str) -> Danger | None:
        if name not in self._danger:
            self._danger[name] = danger_of(name)
        return self._danger[name]

    def allowed(self, name: str) -> bool:
        if name not in self._allowed:
            self._allowed[name] = is_allowed(name)
        return self._allowed[name]

    def gadget(self, name: str) -> Gadget | None:
        """The mined gadget of that name; a name the allowlist names exactly is never one (measured
        benign use wins), a name it admits only by prefix (``sklearn.``) still is."""
        if name not in self._gadget:
            self._gadget[name] = None if is_listed(name) else gadget_of(name)
        return self._gadget[name]


# -- the load-time policy: mined gadgets and names handed to resolvers ----------------------------

_SINK_CATEGORY = {
    "command-exec": Category.COMMAND_EXEC,
    "code-exec": Category.CODE_EXEC,
    "name-resolve": Category.CODE_EXEC,
    "deserialize": Category.CODE_EXEC,
    "network": Category.EXFILTRATION,
    "file-write": Category.FILE_WRITE,
}
# A dotted or ``module:attr`` name, as resolvers take them (``os.system``, ``subprocess:Popen``).
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[.:][A-Za-z_][A-Za-z0-9_]*)+")
MAX_WALK = 4096  # argument nodes looked at per call for names of dangerous callables


# Reconstruction helpers of real libraries that run Python source the pickle itself carries: a
# benign save of a torch.fx GraphModule calls one. What that source does decides (it is assessed as
# code): something dangerous in it is MH112, nothing dangerous leaves an MH106 (suspicious).
SOURCE_REBUILDERS = frozenset(
    {
        "torch.fx.graph_module.reduce_graph_module",
        "torch.fx.graph_module.reduce_package_graph_module",
        "torch.fx.graph_module.reduce_deploy_graph_module",
    }
)
MAX_SOURCE = 1_000_000  # characters of carried source assessed


def carried_source(args: Any, fold: Callable[[Any], Any]) -> str:
    """The text a source rebuilder would run: every string among its arguments, joined (bounded)."""
    parts: list[str] = []
    size = 0
    for text in _texts(args, fold):
        size += len(text)
        if size > MAX_SOURCE:
            break
        parts.append(text)
    return "\n".join(parts)


def gadget_category(gadget: Gadget) -> Category:
    return _SINK_CATEGORY.get(gadget.sink, Category.CODE_EXEC)


def _texts(value: Any, fold: Callable[[Any], Any]) -> Iterator[str]:
    """Every string in a call's arguments, calls folded first (``'os.' + 'sys' + 'tem'``), bounded."""
    todo = [value]
    seen = 0
    while todo and seen < MAX_WALK:
        item = todo.pop()
        seen += 1
        if isinstance(item, Call):
            folded = fold(item)
            if isinstance(folded, (str, bytes, tuple, list)):
                item = folded
            else:
                todo.extend((item.args, item.kwargs))
                continue
        if isinstance(item, str):
            yield item
        elif isinstance(item, (bytes, bytearray)) and len(item) <= 256:
            yield bytes(item).decode("latin-1")
        elif isinstance(item, (tuple, list)):
            todo.extend(item)
        elif isinstance(item, PDict):
            todo.extend(v for pair in item.items for v in pair)
        elif isinstance(item, PSet):
            todo.extend(item.items)
        elif isinstance(item, dict):
            todo.extend((*item.keys(), *item.values()))


def _named(text: str) -> Danger | None:
    """The dangerous callable a resolver would call for ``text`` (``'os:system'``), if any."""
    text = text.strip()
    if len(text) > 200 or _DOTTED.fullmatch(text) is None:
        return None
    module, sep, attr = text.partition(":")
    if not sep:
        module, _, attr = text.rpartition(".")
    return danger_of(canonical(module, attr)[0])


class NameFinder:
    """Finds strings naming dangerous callables in call arguments, calls folded first
    (``'os.sys' + 'tem'``). Memoised per node for one analysis: arguments shared by many calls are
    walked once (a stream can hand one large constant to thousands of calls)."""

    MAX_DEPTH = 64  # nesting followed below one argument
    MAX_FOUND = 8

    def __init__(self, fold: Callable[[Any], Any]) -> None:
        self.fold = fold
        # id -> (the node itself, kept alive so its id is never reused by another object; result)
        self._nodes: dict[int, tuple[Any, tuple[Danger, ...]]] = {}
        self._texts: dict[str, Danger | None] = {}

    def find(self, value: Any, depth: int = 0) -> tuple[Danger, ...]:
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, (bytes, bytearray)):
            return self._text(bytes(value).decode("latin-1")) if len(value) <= 256 else ()
        if depth > self.MAX_DEPTH or not isinstance(value, (Call, tuple, list, PDict, PSet, dict)):
            return ()
        key = id(value)
        if key in self._nodes:
            return self._nodes[key][1]
        self._nodes[key] = (value, ())  # a cycle through this node adds nothing
        children: Any
        if isinstance(value, Call):
            folded = self.fold(value)
            children = (folded,) if isinstance(folded, (str, bytes, tuple, list)) else (value.args, value.kwargs)
        elif isinstance(value, (tuple, list)):
            children = value
        elif isinstance(value, PDict):
            children = [v for pair in value.items for v in pair]
        elif isinstance(value, PSet):
            children = value.items
        else:
            children = [*value.keys(), *value.values()]
        found: dict[str, Danger] = {}
        for child in children:
            for danger in self.find(child, depth + 1):
                found.setdefault(danger.name, danger)
            if len(found) >= self.MAX_FOUND:
                break
        result = tuple(found.values())
        self._nodes[key] = (value, result)
        return result

    def _text(self, text: str) -> tuple[Danger, ...]:
        if text not in self._texts:
            self._texts[text] = _named(text)
        danger = self._texts[text]
        return (danger,) if danger is not None else ()


def dangerous_names(args: Any, fold: Callable[[Any], Any]) -> list[Danger]:
    """The dangerous callables named by strings in ``args`` (``'os.system'``, ``'os:system'``,
    ``'posix.system'``, ``'subprocess.Popen'``): what a name-resolving function would call."""
    return list(NameFinder(fold).find(args))
