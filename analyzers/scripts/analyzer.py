"""The ``python`` format: dataset loading scripts and ``trust_remote_code`` files.

``analyze(ctx, src)`` is the dispatcher's entry point; ``analyze_text(text, path)`` is what the
language server calls on every (debounced) keystroke: one parse, one analysis, no exceptions on
half-typed code, nothing cached between calls.
"""

from __future__ import annotations

from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import LimitExceeded
from malhug.analyzers.scripts.budget import Budget
from malhug.analyzers.scripts.engine import analyze_code
from malhug.analyzers.scripts.rules import SYNTAX_ERROR
from malhug.analyzers.scripts.scope import looks_like_load_time_code
from malhug.analyzers.shared.source import ByteSource
from malhug.analyzers.shared.suppress import is_suppressed
from malhug.analyzers.shared.text import source_encoding
from malhug.core import failures
from malhug.core.model import Finding, Location
from malhug.core.rules import finding


def decode_source(data: bytes) -> str:
    """Source text as Python reads it: a BOM is dropped, a PEP 263 coding cookie is followed, else
    UTF-8; bytes that do not decode never make it "not Python" (latin-1: every byte decodes)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(source_encoding(data) or "latin-1", errors="replace")


def _apply_suppressions(text: str, findings: list[Finding]) -> list[Finding]:
    if "malhug" not in text:
        return findings
    lines = text.splitlines()
    return [
        f
        for f in findings
        if not is_suppressed(lines, f.location.line, f.rule)
        and not (f.location.end_line != f.location.line and is_suppressed(lines, f.location.end_line, f.rule))
    ]


def analyze_text(
    text: str,
    path: str = "<script>",
    *,
    report_syntax_errors: bool = False,
    budget: Budget | None = None,
    load_time: bool | None = None,
) -> list[Finding]:
    """Findings of a Python source text, with exact locations and data-flow traces.

    Never raises on syntax errors: broken statements are blanked and the rest is analyzed; with
    ``report_syntax_errors`` the first error becomes an MH514 finding (the editor shows its own),
    and code too deeply nested to analyze an MH902 finding. ``load_time`` (default: guessed from the
    path and text, see scope.py) says whether loading a model or dataset runs this file.
    """
    if load_time is None:  # a text with no file name is judged as the code a loader runs
        load_time = path.startswith("<") or looks_like_load_time_code(path, text)
    result = analyze_code(text, embedded=False, path=path, budget=budget, load_time=load_time)
    findings = result.to_findings()
    if report_syntax_errors and result.incomplete:
        findings.append(
            failures.over_limit(
                f"python: {result.incomplete}", location=Location(line=1, column=1), evidence=result.incomplete
            )
        )
    if report_syntax_errors and result.syntax_errors:
        line, message = result.syntax_errors[0]
        where = "the file could not be analyzed" if result.module is None else "the broken statements were skipped"
        findings.append(
            finding(
                SYNTAX_ERROR,
                f"syntax error at line {line}: {message}; {where}",
                location=Location(line=line, column=1),
                evidence=message,
            )
        )
    return _apply_suppressions(text, findings)


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    limit = ctx.limits.max_source_bytes
    if src.size > limit:
        raise LimitExceeded("Python source size (bytes)", limit, src.size)
    text = decode_source(src.read_at(0, src.size))
    ctx.check_time()
    budget = Budget(
        seconds=ctx.limits.max_seconds, deadline=ctx.deadline, max_statements=ctx.limits.max_source_statements
    )
    path = ctx.member or ctx.name or "<script>"
    ctx.extend(analyze_text(text, path, report_syntax_errors=True, budget=budget, load_time=ctx.load_time))
