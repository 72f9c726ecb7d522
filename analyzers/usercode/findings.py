"""The risky loads of a text as plain findings: rule, severity, category, message, place, evidence.

The language server and the CLI report the same rule ids, severities and messages because both take
them from here (``load_severity``, ``load_finding``); the server adds its quick fixes on top.
References to Hub repositories become findings only with a scan of the repository
(``malhug.hub.refcheck``): the analyzers know nothing of the Hub.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from malhug.analyzers.shared.suppress import is_suppressed
from malhug.analyzers.usercode.blocks import BlockCache
from malhug.analyzers.usercode.references import CodeAnalysis, RiskyLoad, analyze_code
from malhug.analyzers.usercode.spans import SourceLines, Span
from malhug.core.model import Finding, Location, Severity
from malhug.core.rules import CATALOG, finding

_EVIDENCE_LIMIT = 200


def load_severity(load: RiskyLoad) -> Severity:
    """The rule's catalogued severity unless the evidence says otherwise (an omitted weights_only)."""
    return Severity(load.severity) if load.severity else CATALOG[load.rule].severity


def span_location(span: Span) -> Location:
    """A 0-based span (columns in code points) as a 1-based Location, end exclusive."""
    return Location(line=span.line + 1, column=span.col + 1, end_line=span.end_line + 1, end_column=span.end_col + 1)


def span_text(src: SourceLines, span: Span) -> str:
    """The source text of ``span``, whitespace runs collapsed (the evidence a report shows)."""
    if span.line == span.end_line:
        text = src.line_text(span.line)[span.col : span.end_col]
    else:
        parts = [src.line_text(span.line)[span.col :]]
        parts += [src.line_text(n) for n in range(span.line + 1, min(span.end_line, span.line + 20))]
        parts.append(src.line_text(span.end_line)[: span.end_col])
        text = " ".join(parts)
    return " ".join(text.split())[:_EVIDENCE_LIMIT]


def load_finding(load: RiskyLoad, src: SourceLines) -> Finding:
    """One risky load as a finding; the evidence is the call's source text (or the flagged text)."""
    where = load.call.span if load.call is not None else load.span
    return finding(
        load.rule,
        load.message,
        location=span_location(load.span),
        evidence=span_text(src, where),
        severity=load_severity(load),
    )


@dataclass
class UserCodeReport:
    """What the user-code analysis found in one text."""

    analysis: CodeAnalysis  # references and loads with spans and call structure (quick fixes, hub checks)
    findings: list[Finding] = field(default_factory=list)  # the risky loads, ``# malhug: ignore`` honoured
    src: SourceLines | None = None


def analyze_user_code(text: str, path: str | None = None, cache: BlockCache | None = None) -> UserCodeReport:
    """Risky loads and Hub references of ``text``; never raises on bad input.

    ``path`` is only carried for messages; the text is never read from disk here. Code that does
    not parse is scanned line by line (``analysis.syntax_error`` says where).
    """
    del path  # the analysis depends on the text alone
    src = SourceLines(text)
    analysis = analyze_code(text, cache)
    out = UserCodeReport(analysis=analysis, src=src)
    for load in analysis.loads:
        if not is_suppressed(src.lines, load.span.line + 1, load.rule):
            out.findings.append(load_finding(load, src))
    return out
