"""Abstract values of the taint analysis.

A ``Val`` is what the engine knows about one Python value: its constant (when folded), an
approximate text with holes (``…``) for strings partly built at run time, the qualified name it
refers to (``os.system`` for ``from os import system as s``), the kind of object it is (a socket, an
HTTP response, a file) and the taints it carries, each with the trace of steps from its source.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst

HOLE = "…"
MAX_TEXT = 64 * 1024
MAX_STEPS = 14


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True, eq=False)
class Step:
    """One step of a trace: what happened, at which node."""

    message: str
    node: cst.CSTNode


@dataclass(frozen=True)
class Taint:
    """Data from a source (``label``: secret-env, environ, credential, browser, sysinfo, network,
    socket, cmd-output, file), with a human description and the steps it took."""

    label: str
    detail: str
    steps: tuple[Step, ...]
    name: str = ""  # the environment variable, for secrets

    def then(self, step: Step) -> Taint:
        if len(self.steps) >= MAX_STEPS or (self.steps and self.steps[-1].node is step.node):
            return self
        return Taint(self.label, self.detail, (*self.steps, step), self.name)


@dataclass(frozen=True, eq=False)
class Val:
    const: object = UNKNOWN
    text: str | None = None
    ref: str | None = None
    kind: str | None = None
    taints: tuple[Taint, ...] = ()
    items: tuple[Val, ...] | None = None
    decoded: str | None = None

    @property
    def known(self) -> bool:
        return self.const is not UNKNOWN

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(t.label for t in self.taints)

    def str_const(self) -> str | None:
        if isinstance(self.const, str):
            return self.const
        if isinstance(self.const, bytes):
            try:
                return self.const.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None

    def approx(self) -> str:
        """Best-effort text: the constant, the text with holes, or a hole."""
        if isinstance(self.const, str):
            return self.const
        if isinstance(self.const, bytes):
            return self.const.decode("latin-1")
        if self.const is not UNKNOWN and isinstance(self.const, int | float):
            return str(self.const)
        if self.text is not None:
            return self.text
        if self.items is not None:
            return " ".join(i.approx() for i in self.items)
        return HOLE

    def then(self, step: Step) -> Val:
        if not self.taints:
            return self
        return replace(self, taints=tuple(t.then(step) for t in self.taints))

    def signature(self) -> tuple[object, ...]:
        """What a function summary compares to decide whether another pass is needed."""
        const = self.const if isinstance(self.const, str | bytes | int | float | bool | None) else type(self.const)
        return (const, self.text, self.ref, self.kind, self.labels, self.decoded)


def merge_taints(*groups: tuple[Taint, ...]) -> tuple[Taint, ...]:
    """Union by label, keeping the first (shortest-found) taint of each label."""
    seen: dict[str, Taint] = {}
    for group in groups:
        for t in group:
            seen.setdefault(t.label, t)
    return tuple(seen.values())


def taints_of(vals: list[Val] | tuple[Val, ...]) -> tuple[Taint, ...]:
    return merge_taints(*(v.taints for v in vals))


def join(a: Val | None, b: Val) -> Val:
    """The value that may be either ``a`` or ``b`` (branches, call sites, returns)."""
    if a is None:
        return b
    if a is b:
        return a
    same_const = a.const is not UNKNOWN and type(a.const) is type(b.const) and a.const == b.const
    return Val(
        const=a.const if same_const else UNKNOWN,
        text=a.text if a.text == b.text else None,
        ref=a.ref if a.ref == b.ref else (a.ref or b.ref),
        kind=a.kind if a.kind == b.kind else (a.kind or b.kind),
        taints=merge_taints(a.taints, b.taints),
        items=a.items if same_const else None,
        decoded=a.decoded or b.decoded,
    )


def const(value: object, *, decoded: str | None = None, taints: tuple[Taint, ...] = ()) -> Val:
    if isinstance(value, str | bytes) and len(value) > MAX_TEXT:
        return Val(text=HOLE, decoded=decoded, taints=taints)
    return Val(const=value, decoded=decoded, taints=taints)


def text_val(parts: list[Val], *, taints: tuple[Taint, ...] = ()) -> Val:
    """A string made of parts: a constant when every part is one, else text with holes."""
    decoded = next((p.decoded for p in parts if p.decoded), None)
    all_taints = merge_taints(taints, taints_of(parts))
    if all(isinstance(p.const, str) for p in parts):
        return const("".join(str(p.const) for p in parts), decoded=decoded, taints=all_taints)
    if all(isinstance(p.const, bytes) for p in parts):
        return const(b"".join(p.const for p in parts if isinstance(p.const, bytes)), decoded=decoded, taints=all_taints)
    text = "".join(p.approx() for p in parts)[:MAX_TEXT]
    return Val(text=text, taints=all_taints, decoded=decoded)
