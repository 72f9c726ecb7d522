"""Parsing with repair: half-typed code in an editor still gets analyzed.

libcst is strict and its error positions can be far from the mistake, so errors are located with
CPython's parser (``ast.parse`` only parses, it never runs anything) and the broken statement is
blanked out (its lines replaced by empty lines or ``pass``), keeping every other line where it was.
First only the offending line is blanked; if the error does not move past it, the whole top-level
statement around it. At most ``MAX_REPAIRS`` rounds.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field

import libcst as cst

from malhug.analyzers.limits import DEFAULT_LIMITS
from malhug.analyzers.scripts import relevance
from malhug.analyzers.scripts.size import TooLarge, check_size

MAX_REPAIRS = 12
# libcst's parse time grows with the square of an expression's depth (2,000 chained `+` take half a
# second) and CPython accepts depths near 3,000; real code stays far below this bound.
MAX_NESTING = 300
_CONTINUATION = re.compile(r"^(?:[)\]}]|else\b|elif\b|except\b|finally\b|case\b)")


@dataclass
class Parsed:
    module: cst.Module | None
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message) of repaired errors
    too_deep: bool = False  # nesting beyond what CPython's parser accepts: not analyzed at all
    tree: ast.Module | None = None  # CPython's tree of the same text (its line numbers locate statements)
    incomplete: str | None = None  # code valid for CPython that was not analyzed (why, where)


class _TooDeep(Exception):
    pass


def dotted(node: cst.CSTNode | None) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _syntax_error(text: str) -> tuple[int, str] | None:
    return _check(text, depth=False)[0]


def _check(
    text: str, *, depth: bool = True, max_statements: int | None = None
) -> tuple[tuple[int, str] | None, ast.Module | None]:
    """The first syntax error of ``text``, else its CPython tree (only parsed, never compiled).
    ``depth=False`` leaves the depth check to the caller (pruning measures it on its own pass);
    with ``max_statements``, a larger text or tree raises ``TooLarge``."""
    if max_statements is not None:
        check_size(text, max_statements)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except SyntaxError as exc:
        if "too many nested" in (exc.msg or "") or "too complex" in (exc.msg or ""):
            raise _TooDeep(exc.msg) from exc
        return (exc.lineno or 1, exc.msg or "invalid syntax"), None
    except ValueError as exc:  # null bytes
        return (1, str(exc) or type(exc).__name__), None
    except (MemoryError, RecursionError) as exc:
        raise _TooDeep(type(exc).__name__) from exc
    if max_statements is not None:
        check_size(text, max_statements, tree)
    if depth:
        _check_depth(relevance.Module(tree).depth)
    return None, tree


def _check_depth(depth: int) -> None:
    if depth > MAX_NESTING:
        raise _TooDeep(f"syntax tree depth {depth} > {MAX_NESTING}")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _blank(lines: list[str], start: int, end: int) -> None:
    """Blank lines[start:end]; keep an indented ``pass`` where a block would become empty."""
    for i in range(start, min(end, len(lines))):
        ending = "\n" if lines[i].endswith("\n") else ""
        ws = lines[i][: _indent(lines[i])] if lines[i].strip() else ""
        lines[i] = (ws + "pass" + ending) if ws and i == start else ending


def _top_level_region(lines: list[str], index: int) -> tuple[int, int]:
    start = index
    while start > 0 and not (
        lines[start].strip() and _indent(lines[start]) == 0 and not _CONTINUATION.match(lines[start])
    ):
        start -= 1
    end = index + 1
    while end < len(lines) and not (
        lines[end].strip() and _indent(lines[end]) == 0 and not _CONTINUATION.match(lines[end].lstrip())
    ):
        end += 1
    return start, end


def parse(
    text: str,
    *,
    prune: bool = True,
    survey: relevance.Survey | None = None,
    max_statements: int = DEFAULT_LIMITS.max_source_statements,
) -> Parsed:
    """Parse ``text``, blanking broken statements; CPython's parser goes first.

    libcst's native parser crashes the process (stack overflow) on some inputs nested deeper than
    CPython accepts (``1 + 1 + … + 1`` twenty thousand times), so it only ever sees text that
    ``ast.parse`` accepted; CPython's parser also gives the better error positions. With ``prune``,
    top-level definitions the analysis cannot learn anything from are blanked before libcst parses
    (relevance.py); the module then holds the kept statements only, at their original lines.
    ``survey``: relevance's survey of this very ``text``, when the caller already made one.
    A text over ``max_statements`` (see ``check_size``) is not parsed at all (``too_deep`` with the reason).
    """
    try:
        return _parse(text, prune, survey if survey is not None and survey.text is text else None, max_statements)
    except TooLarge as exc:
        return Parsed(None, [(1, f"source too large to analyze ({exc})")], too_deep=True)
    except _TooDeep as exc:
        return Parsed(None, [(1, f"nesting too deep to analyze ({exc})")], too_deep=True)


def _parse(text: str, prune: bool, survey: relevance.Survey | None, max_statements: int) -> Parsed:
    errors: list[tuple[int, str]] = []
    skipped: list[int] = []  # lines libcst could not parse although CPython did
    lines = text.splitlines(keepends=True)
    current = text
    for _ in range(MAX_REPAIRS):
        tree: ast.Module | None
        module: relevance.Module | None = None
        if survey is not None and prune:  # already parsed by CPython (only on the first round)
            err, tree, module = None, survey.tree, survey.module
            survey = None
        else:
            err, tree = _check(current, depth=not prune, max_statements=max_statements)
        if err is None:
            cst_text = current
            if prune and tree is not None:
                pruned = relevance.prune(current, tree, module)
                _check_depth(pruned.depth)
                if pruned.text is not None and pruned.tree is not None:
                    cst_text, tree = pruned.text, pruned.tree
            try:
                module_cst = cst.parse_module(cst_text)
            except cst.ParserSyntaxError as exc:
                # CPython accepted this text: libcst's own limits (an implicit concatenation of
                # thousands of strings) are no syntax error, but the statement goes unanalyzed.
                err = (exc.raw_line, exc.message)
                skipped.append(exc.raw_line)
            except (RecursionError, MemoryError) as exc:
                raise _TooDeep(type(exc).__name__) from exc
            else:
                incomplete = None
                if skipped:
                    shown = ", ".join(map(str, skipped[:5]))
                    incomplete = f"the parser cannot read what CPython accepts at line {shown}; not analyzed there"
                return Parsed(module_cst, errors, tree=tree, incomplete=incomplete)
        line, message = err
        if not skipped or skipped[-1] != line:
            errors.append((line, message))
        index = max(0, min(line, len(lines)) - 1)
        if not lines:
            return Parsed(None, errors)
        trial = list(lines)
        _blank(trial, index, index + 1)
        after = _syntax_error("".join(trial))
        if after is not None and after[0] <= line:
            trial = list(lines)
            start, end = _top_level_region(lines, index)
            _blank(trial, start, end)
        lines = trial
        current = "".join(lines)
    if skipped:
        return Parsed(None, errors, incomplete="the parser cannot read code that CPython accepts; not analyzed")
    return Parsed(None, errors)
