"""Findings of the engine before positions are known, and their conversion to ``Finding``."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from malhug.analyzers.scripts import positions
from malhug.analyzers.scripts.indicators import Indicator, clip
from malhug.analyzers.scripts.scope import LOWERED_OUTSIDE_LOAD
from malhug.core.model import Category, Finding, Location, Severity, TraceStep
from malhug.core.rules import CATALOG, finding

if TYPE_CHECKING:
    from malhug.analyzers.scripts.engine import Engine, Frame


@dataclass(frozen=True, eq=False)
class Pending:
    rule: str
    node: cst.CSTNode
    message: str
    category: Category
    severity: Severity
    evidence: str = ""
    steps: tuple[tuple[str, cst.CSTNode], ...] = ()

    @property
    def indicator(self) -> Indicator:
        return Indicator(self.rule, self.category, self.severity, self.message, self.evidence)


def pending(
    engine: Engine,
    rule: str,
    node: cst.CSTNode,
    message: str,
    *,
    frame: Frame | None,
    category: Category | None = None,
    severity: Severity | None = None,
    evidence: str | None = None,
    steps: tuple[tuple[str, cst.CSTNode], ...] = (),
) -> Pending:
    """A finding at ``node``; the message says when the code runs (import, dataset load)."""
    rule_def = CATALOG[rule]
    category = category or rule_def.category
    severity = severity or rule_def.severity
    if frame is not None and not engine.embedded:
        message = f"{message} ({frame.context})"
        if (
            not engine.load_time
            and not frame.side_effect
            and category in LOWERED_OUTSIDE_LOAD
            and severity > Severity.LOW
        ):
            severity = Severity.LOW
            message += "; nothing calls it on import and loading does not run this file"
    if evidence is None:
        try:
            evidence = engine.module.code_for_node(node)
        except (AttributeError, TypeError, ValueError, RecursionError):
            evidence = ""
    return Pending(
        rule=rule,
        node=node,
        message=message,
        category=category,
        severity=severity,
        evidence=clip(evidence),
        steps=steps,
    )


@dataclass
class Result:
    module: cst.Module | None
    findings: list[Pending]
    path: str = "<script>"
    syntax_errors: list[tuple[int, str]] = field(default_factory=list)
    incomplete: str | None = None  # why part of the code was not analyzed (resource bound)
    tops: dict[int, cst.CSTNode] = field(default_factory=dict)  # node -> its top-level statement
    tree: ast.Module | None = None  # CPython's tree of the same text

    def to_findings(self) -> list[Finding]:
        if self.module is None or not self.findings:
            return []
        try:
            return self._to_findings(self.module)
        except RecursionError:
            self.incomplete = self.incomplete or "code nested too deeply to locate findings"
            return [self._unlocated(p) for p in self.findings]

    @staticmethod
    def _unlocated(p: Pending) -> Finding:
        return finding(p.rule, p.message, evidence=p.evidence, severity=p.severity, category=p.category)

    def _to_findings(self, module: cst.Module) -> list[Finding]:
        nodes = [p.node for p in self.findings] + [n for p in self.findings for _, n in p.steps]
        ranges = positions.resolve_in_statements(module, nodes, self.tops, self.tree)
        if ranges is None:  # a node of unknown statement, or trees that do not line up
            ranges = positions.resolve(module, nodes)
        out = []
        for p in self.findings:
            trace = tuple(TraceStep(msg, _location(ranges.get(id(n)))) for msg, n in p.steps)
            out.append(
                finding(
                    p.rule,
                    p.message,
                    location=_location(ranges.get(id(p.node))),
                    evidence=p.evidence,
                    severity=p.severity,
                    category=p.category,
                    trace=trace,
                )
            )
        out.sort(key=lambda f: (f.location.line or 0, f.location.column or 0, f.rule))
        return out


def _location(rng: positions.Range | None) -> Location:
    if rng is None:
        return Location()
    line, col, end_line, end_col = rng
    return Location(line=line, column=col + 1, end_line=end_line, end_column=end_col + 1)
