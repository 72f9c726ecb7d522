"""Minimal text edits for the quick fixes: set or add a keyword argument, drop one, add an ignore comment.

Each function returns ``[(span, new_text)]`` in server positions (code points) and touches only
the characters it must, so the user's formatting (line breaks, trailing commas, quotes) stays.
"""

from __future__ import annotations

import re

from malhug.analyzers.shared.suppress import suppressed_rules
from malhug.analyzers.usercode.callsites import CallSite
from malhug.analyzers.usercode.spans import SourceLines, Span

Edit = tuple[Span, str]
_IGNORE = re.compile(r"#\s*malhug:\s*ignore\[(?P<rules>[^\]]*)\]")


def _text_between(src: SourceLines, start_line: int, start_col: int, end_line: int, end_col: int) -> str:
    if start_line == end_line:
        return src.line_text(start_line)[start_col:end_col]
    parts = [src.line_text(start_line)[start_col:]]
    parts += [src.line_text(n) for n in range(start_line + 1, end_line)]
    parts.append(src.line_text(end_line)[:end_col])
    return "\n".join(parts)


def _point(line: int, col: int) -> Span:
    return Span(line, col, line, col)


def _close_paren(call: CallSite) -> tuple[int, int]:
    return call.span.end_line, max(call.span.end_col - 1, 0)


def add_keyword(call: CallSite, src: SourceLines, name: str, value: str) -> list[Edit]:
    """Insert ``name=value`` as the call's last argument."""
    text = f"{name}={value}"
    if not call.args:
        line, col = _close_paren(call)
        return [(_point(line, col), text)]
    last = call.args[-1]
    close_line, close_col = _close_paren(call)
    tail = _text_between(src, last.span.end_line, last.span.end_col, close_line, close_col)
    comma = tail.find(",")
    if comma < 0 or "#" in tail[:comma]:
        return [(_point(last.span.end_line, last.span.end_col), f", {text}")]
    # A trailing comma: keep the one-argument-per-line layout when there is one.
    comma_line = last.span.end_line + tail[:comma].count("\n")
    comma_col = (last.span.end_col if comma_line == last.span.end_line else 0) + len(tail[:comma].rsplit("\n", 1)[-1])
    line_text = src.line_text(last.span.line)
    own_line = line_text[: last.span.col].strip() == ""
    if close_line > last.span.end_line and own_line:
        indent = line_text[: last.span.col]
        return [(_point(comma_line, comma_col + 1), f"\n{indent}{text},")]
    return [(_point(comma_line, comma_col + 1), f" {text},")]


def set_keyword(call: CallSite, src: SourceLines, name: str, value: str) -> list[Edit]:
    """Replace the value of ``name=`` when present, else add the keyword."""
    arg = call.keyword(name)
    if arg is not None:
        return [(arg.value_span, value)]
    return add_keyword(call, src, name, value)


def remove_keyword(call: CallSite, src: SourceLines, name: str) -> list[Edit]:
    """Delete ``name=...`` and the comma that separates it from its neighbour."""
    arg = call.keyword(name)
    if arg is None:
        return []
    index = call.args.index(arg)
    if index > 0:
        prev = call.args[index - 1]
        return [(Span(prev.span.end_line, prev.span.end_col, arg.span.end_line, arg.span.end_col), "")]
    if len(call.args) > 1:
        nxt = call.args[1]
        return [(Span(arg.span.line, arg.span.col, nxt.span.line, nxt.span.col), "")]
    line, col = _close_paren(call)
    return [(Span(arg.span.line, arg.span.col, line, col), "")]


def quote_like(src: SourceLines, span: Span | None, value: str) -> str:
    """``value`` as a string literal in the quote style of the literal at ``span`` (double by default)."""
    quote = '"'
    if span is not None and src.line_text(span.line)[span.col : span.col + 1] == "'":
        quote = "'"
    return f"{quote}{value}{quote}"


def ignore_comment(src: SourceLines, line: int, rule: str) -> list[Edit]:
    """Add ``# malhug: ignore[RULE]`` to ``line``, or add RULE to the comment already there."""
    text = src.line_text(line)
    already = suppressed_rules(text)
    if already is not None and (not already or rule in already):
        return []
    match = _IGNORE.search(text)
    if match is not None:
        rules = [r.strip() for r in match.group("rules").split(",") if r.strip()]
        end = match.end("rules")
        return [(_point(line, end), f", {rule}" if rules else rule)]
    stripped = len(text.rstrip())
    return [(Span(line, stripped, line, len(text)), f"  # malhug: ignore[{rule}]")]
