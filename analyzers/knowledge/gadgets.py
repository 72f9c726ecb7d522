"""The mined gadget table (``gadgets.jsonl``, written by ``make gadgets``; see GADGETS.md).

Functions, methods and classes of the standard library and of pinned ML packages that reach code
or command execution, name resolution, deserialization, the network or a file write within a few
calls. Data only: the pickle policy (``analyzers/pickle/policy.py``) decides what a call to one
means.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

TABLE = "gadgets.jsonl"


@dataclass(frozen=True, slots=True)
class Gadget:
    """One mined gadget: what it reaches (``sink``: code-exec, command-exec, name-resolve,
    deserialize, network, file-write) and the call path the miner found."""

    name: str
    kind: str  # function | method | class
    sink: str
    path: tuple[str, ...]
    package: str
    version: str


@dataclass(frozen=True, slots=True)
class GadgetTable:
    provenance: dict[str, Any]
    by_name: dict[str, Gadget]  # canonical names and re-exported aliases

    def get(self, name: str) -> Gadget | None:
        return self.by_name.get(name)


def parse(text: str) -> GadgetTable:
    provenance: dict[str, Any] = {}
    by_name: dict[str, Gadget] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if "provenance" in row:
            provenance = row["provenance"]
            continue
        gadget = Gadget(row["name"], row["kind"], row["sink"], tuple(row["path"]), row["package"], row["version"])
        by_name[gadget.name] = gadget
        for alias in row.get("aliases", ()):
            by_name.setdefault(alias, gadget)
    return GadgetTable(provenance, by_name)


@functools.cache
def table() -> GadgetTable:
    """The packaged table, read once per process (it is constant data)."""
    return parse(resources.files(__package__).joinpath(TABLE).read_text(encoding="utf-8"))


def gadget_of(name: str) -> Gadget | None:
    return table().get(name)
