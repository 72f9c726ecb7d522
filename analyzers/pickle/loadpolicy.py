"""The load-time policy applied to one stream's calls (docs/POLICY.md; names classified in ``policy.py``).

What happens to a call the judge could not place in the allowlist or the catalogue of dangerous
callables: a dangerous name in its arguments is MH113, a mined gadget MH112, anything else outside
the allowlist a once-per-name note (MH106 for a function, MH108 for a class), and a result that no
loaded object keeps says the call ran for its side effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from malhug.analyzers.context import ScanContext
from malhug.analyzers.knowledge.callables import Kind
from malhug.analyzers.pickle.fold import Folder
from malhug.analyzers.pickle.policy import (
    SOURCE_REBUILDERS,
    NameCache,
    NameFinder,
    carried_source,
    gadget_category,
    looks_like_class,
)
from malhug.analyzers.pickle.resolve import Target
from malhug.analyzers.pickle.values import Call, PDict, PersId, PSet, render
from malhug.analyzers.shared.embedded import CodeAssessment
from malhug.core.model import Finding, Location
from malhug.core.rules import finding

# The rules of the load-time policy, each id written only here (docs/RULES.md, "fires in").
UNKNOWN_USED = "MH106"
UNKNOWN_NAME = "MH108"
CALLS_GADGET = "MH112"
NAMES_DANGER = "MH113"

MAX_EVIDENCE = 1000


def call_finding(call: Call, rule: str, message: str, **kw: Any) -> Finding:
    """A finding at ``call``'s opcode with the call as evidence."""
    return finding(rule, message, location=Location(offset=call.offset), evidence=evidence_of(call), **kw)


def evidence_of(value: Any) -> str:
    # A code or command string is the proof of the verdict: shown up to the evidence bound, not cut at
    # the usual literal width (a reverse shell's connect and spawn come after its first 240 characters).
    text = render(value, depth=8, text=MAX_EVIDENCE)
    return text if len(text) <= MAX_EVIDENCE else text[: MAX_EVIDENCE - 1] + "…"


@dataclass(slots=True)
class _Note:
    """An unknown name seen while loading; reported once per name."""

    rule: str
    name: str
    message: str
    offset: int
    evidence: str
    count: int = 1


class LoadPolicy:
    """The policy's decisions for one stream, and its once-per-name notes."""

    def __init__(
        self,
        ctx: ScanContext,
        folder: Folder,
        names: NameCache,
        named: NameFinder,
        assess: Callable[[Kind, str, str], CodeAssessment],
    ):
        self.ctx = ctx
        self.folder = folder
        self.names = names
        self.named = named
        self.assess = assess
        self.notes: dict[tuple[str, str], _Note] = {}
        self.maybe_discarded: list[tuple[Call, str]] = []

    def decide(self, call: Call, tgt: Target, name: str) -> Finding | None:
        """The load-time policy for a call outside the allowlist (policy.py, docs/POLICY.md): a
        dangerous callable named in its arguments, or a mined gadget called, is an attack."""
        if self.names.danger(name) is not None:
            return None  # a method of a dangerous class (``zipimporter(...).load_module``): reported at the class
        named = self.named.find((tgt.args, tgt.kwargs))
        if named:
            shown = ", ".join(d.name for d in named[:3])
            return call_finding(
                call,
                NAMES_DANGER,
                f"pickle calls {name}, outside the load-time allowlist, with the name of {shown}",
                category=named[0].category,
            )
        gadget = self.names.gadget(name)
        if gadget is None:
            return None
        if call.kind == "newobj" and gadget.kind == "class":
            # NEWOBJ runs __new__ only: the mined path counts when it goes through __setstate__
            # and the pickle BUILDs the object (``_DataPipeSerializationWrapper``: pickle.loads).
            if not (call.state and gadget.path[1].endswith(".__setstate__")):
                return None
        category = gadget_category(gadget)
        reason = ""
        if name in SOURCE_REBUILDERS:  # runs the source it carries: that source decides
            source = carried_source((tgt.args, tgt.kwargs), lambda v: self.folder.fold(v)[0])
            assessment = self.assess(Kind.PYTHON, source, f"{name}@{call.offset}")
            if assessment.category is None:
                return self.note(
                    UNKNOWN_USED,
                    name,
                    f"pickle calls {name}, which runs the Python source the pickle carries (nothing dangerous in it)",
                    call.offset,
                    call,
                )
            category, reason = assessment.category, f": {'; '.join(assessment.indicators[:3])}"
        return call_finding(
            call,
            CALLS_GADGET,
            f"pickle calls {name}, a gadget that reaches {gadget.sink} ({' → '.join(gadget.path[1:])}; "
            f"mined from {gadget.package} {gadget.version}){reason}",
            category=category,
        )

    def unknown(self, call: Call, tgt: Target, name: str) -> Finding | None:
        offset = call.offset
        decided = self.decide(call, tgt, name)
        if decided is not None:
            return decided
        if tgt.fn.via:
            return self.note(
                UNKNOWN_USED,
                name,
                f"pickle reaches {name} through {' → '.join(tgt.fn.via)} and calls it",
                offset,
                call,
            )
        if call.kind == "setstate":
            return self.note(
                UNKNOWN_USED, name, f"pickle calls {name} as a __setstate__ planted by BUILD", offset, call
            )
        classlike = call.kind in ("newobj", "obj", "inst") or looks_like_class(name)
        if not classlike and has_text(tgt.args):
            return self.note(
                UNKNOWN_USED, name, f"pickle calls {name}, an unknown function, with text arguments", offset, call
            )
        self.maybe_discarded.append((call, name))
        if not classlike:  # the policy: calling a function outside the allowlist is suspicious
            return self.note(
                UNKNOWN_USED, name, f"pickle calls {name}, a function outside the load-time allowlist", offset, call
            )
        return self.note(UNKNOWN_NAME, name, f"pickle rebuilds an object of the unknown class {name}", offset, call)

    def note(self, rule: str, name: str, message: str, offset: int, evidence: Any) -> Finding | None:
        """Record a once-per-name note (reported at the end); returns None so callers can return it.

        ``evidence`` is text or the value to render (rendered only for the first occurrence)."""
        key = (rule, name)
        note = self.notes.get(key)
        if note is None:
            text = evidence if isinstance(evidence, str) else evidence_of(evidence)
            self.notes[key] = _Note(rule, name, message, offset, text)
        else:
            note.count += 1
        return None

    def discarded(self, roots: list[Any]) -> None:
        """Calls outside the allowlist whose result no loaded object keeps: run for a side effect."""
        if not self.maybe_discarded or not roots:
            return
        kept = reachable(roots, self.ctx)
        for call, name in self.maybe_discarded:
            if id(call) not in kept:
                existing = self.notes.get((UNKNOWN_USED, name))
                if existing is not None:  # the outside-the-allowlist note: say the worse thing
                    existing.message = f"pickle calls {name} and discards the result (run for its side effect)"
                    continue
                self.note(
                    UNKNOWN_USED,
                    name,
                    f"pickle calls {name} and discards the result (run for its side effect)",
                    call.offset,
                    call,
                )

    def report_notes(self) -> None:
        for note in self.notes.values():
            times = f" ({note.count} times)" if note.count > 1 else ""
            self.ctx.add(
                finding(note.rule, note.message + times, location=Location(offset=note.offset), evidence=note.evidence)
            )


def has_text(args: Any) -> bool:
    """Whether the first arguments (or items of argument lists) are text; bounded work per call."""
    for arg in args[:16] if isinstance(args, (tuple, list)) else (args,):
        if isinstance(arg, (str, bytes, bytearray)):
            return True
        if isinstance(arg, (tuple, list)) and any(isinstance(a, (str, bytes, bytearray)) for a in arg[:16]):
            return True
    return False


_NODES = (tuple, list, Call, PDict, PSet, PersId)


def reachable(roots: list[Any], ctx: ScanContext) -> set[int]:
    """Ids of every symbolic value and container reachable from the loaded objects."""
    seen: set[int] = set()
    todo = [r for r in roots if isinstance(r, _NODES)]
    while todo:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if len(seen) % 65536 == 0:
            ctx.check_time()
        if isinstance(value, Call):
            children: Any = (value.func, value.args, value.kwargs, *(value.state or ()), *(value.items or ()))
        elif isinstance(value, (tuple, list)):
            children = value
        elif isinstance(value, (PDict, PSet)):
            children = value.items
        else:
            children = (value.pid,)
        todo.extend(v for v in children if isinstance(v, _NODES))
    return seen
