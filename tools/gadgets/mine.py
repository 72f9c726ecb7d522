"""Walk the sources, build the call graph, and keep the gadgets a pickle can reach.

A gadget is importable by module path + qualname: a module-level function, a method of a
module-level class (protocol 4 pickles name ``mod.Class.method`` directly), or a module-level class
whose ``__init__``, ``__new__`` or ``__setstate__`` reaches a sink (a pickle calls the class, or
BUILDs an instance of it). Test folders (``tests``, ``test``, ``idle_test``) are skipped: they are
importable but rarely installed in a model-loading environment, and they would swamp the table.
"""

from __future__ import annotations

import hashlib
import json
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path as FsPath

from tools.gadgets.callgraph import CallGraph, Path
from tools.gadgets.graph import ModuleInfo, read_module
from tools.gadgets.sinks import SINK_MODULES, sink_of

DEPTH = 3
CAP = 120  # gadgets kept per package and sink class (shortest paths first)
MAX_ALIASES = 4
_SKIP_DIRS = frozenset({"tests", "test", "idle_test", "__pycache__", "site-packages", "dist-packages", "_bundled"})
_ENTRY_METHODS = ("__init__", "__new__", "__setstate__")
STDLIB = "python"


@dataclass(frozen=True)
class Gadget:
    name: str
    kind: str  # function | method | class
    sink: str
    path: tuple[str, ...]
    package: str
    version: str
    aliases: tuple[str, ...] = ()  # re-exported names of the same callable (``numpy.testing.runstring``)

    def record(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "sink": self.sink,
            "depth": len(self.path) - 2,
            "path": list(self.path),
            "package": self.package,
            "version": self.version,
            "aliases": list(self.aliases),
        }


def iter_modules(root: FsPath, prefix: str = "") -> Iterator[tuple[str, FsPath, bool]]:
    """(dotted module name, file, is a package's __init__) for every .py file below ``root``."""
    for file in sorted(root.rglob("*.py")):
        rel = file.relative_to(root)
        if any(part in _SKIP_DIRS for part in rel.parts[:-1]):
            continue
        parts = list(rel.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        if prefix:
            parts = [prefix, *parts]
        if not parts or not all(p.isidentifier() for p in parts):
            continue
        yield ".".join(parts), file, is_package


def read_tree(root: FsPath, prefix: str = "") -> list[ModuleInfo]:
    found = []
    for name, file, is_package in iter_modules(root, prefix):
        try:
            source = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        info = read_module(name, source, is_package)
        if info is not None:
            found.append(info)
    return found


def stdlib_root() -> FsPath:
    return FsPath(sysconfig.get_paths()["stdlib"])


def _owner(name: str, graph: CallGraph) -> tuple[str, str] | None:
    """(kind, module) of a reachable name: module-level function, method, or class."""
    module, _, leaf = name.rpartition(".")
    if module in graph.modules:
        kind = "class" if name in graph.classes else "function"
        return kind, module
    cls_module = module.rpartition(".")[0]
    if module in graph.classes and cls_module in graph.modules:
        return "method", cls_module
    return None


def find_gadgets(graph: CallGraph, packages: dict[str, tuple[str, str]], depth: int = DEPTH) -> list[Gadget]:
    """Every pickle-reachable gadget. ``packages`` maps a top-level module to (package, version);
    modules of no listed package are skipped."""
    best = graph.shortest_paths(depth)
    entries: dict[str, Path] = dict(best)
    for cls in graph.classes:
        for meth in _ENTRY_METHODS:
            target = graph.lookup(cls, meth)
            path = best.get(target) if target else None
            if path is not None and path.depth < depth:
                entries[cls] = Path(path.sink, (cls, *path.steps))
                break
    gadgets = []
    for name, path in entries.items():
        top = name.split(".")[0]
        owner = _owner(name, graph)
        if owner is None or top not in packages or top in SINK_MODULES or sink_of(name) is not None:
            continue
        package, version = packages[top]
        gadgets.append(Gadget(name, owner[0], path.sink, path.steps, package, version))
    return gadgets


def select(gadgets: list[Gadget], cap: int = CAP) -> tuple[list[Gadget], dict[str, int]]:
    """At most ``cap`` per package and sink class: public names (or names with a public alias)
    first, then shortest paths. Returns the kept gadgets and the number found per package."""
    groups: dict[tuple[str, str], list[Gadget]] = {}
    totals: dict[str, int] = {}
    for g in gadgets:
        groups.setdefault((g.package, g.sink), []).append(g)
        totals[g.package] = totals.get(g.package, 0) + 1
    kept: list[Gadget] = []
    for _key, items in sorted(groups.items()):
        items.sort(key=lambda g: ("._" in g.name and not g.aliases, len(g.path), g.name))
        kept.extend(items[:cap])
    kept.sort(key=lambda g: g.name)
    return kept, dict(sorted(totals.items()))


def with_aliases(gadgets: list[Gadget], graph: CallGraph) -> list[Gadget]:
    """Each gadget with the re-exported names that resolve to it (a pickle may name either)."""
    wanted = {g.name for g in gadgets}
    found: dict[str, list[str]] = {}
    for alias in graph.aliases:
        target = graph.canonical(alias)
        if target in wanted and target != alias:
            found.setdefault(target, []).append(alias)
    out = []
    for g in gadgets:
        names = sorted(found.get(g.name, ()), key=lambda a: (a.count("."), "._" in a, a))[:MAX_ALIASES]
        out.append(Gadget(g.name, g.kind, g.sink, g.path, g.package, g.version, tuple(sorted(names))))
    return out


# The miner's own sources: the table is stale when one of them changes.
MINER_FILES = ("__init__.py", "__main__.py", "callgraph.py", "graph.py", "mine.py", "sinks.py")


def tool_digest(folder: FsPath | None = None) -> str:
    """sha256 over the miner's own sources (``MINER_FILES``)."""
    folder = folder or FsPath(__file__).parent
    digest = hashlib.sha256()
    for file in (folder / name for name in MINER_FILES):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def write_table(path: FsPath, gadgets: list[Gadget], provenance: dict[str, object]) -> None:
    lines = [json.dumps({"provenance": provenance}, sort_keys=True)]
    lines.extend(json.dumps(g.record(), sort_keys=True) for g in gadgets)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
