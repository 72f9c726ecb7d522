"""How much code the script analysis takes on, decided before the expensive trees are built.

libcst keeps ~8 KiB per statement of a file of trivial statements (200,000 of them took ~19 s and
~2 GB) and CPython's tree ~2.5 KiB, so a source is bounded by its statements
(``Limits.max_source_statements``, 20,000 by default) and, before CPython parses it, by its tokens
(``TOKENS_PER_STATEMENT`` per statement, counted by a regular expression that stops at the bound)
and its lines (``LINES_PER_STATEMENT`` per statement).
The bounds come from real code: over 10,734 files of the installed scientific stack the most
statements in one file are 7,010 (numpy's test_multiarray.py) and the most tokens 267,612 (torch's
common_methods_invocations.py); loading scripts and modeling files hold a few thousand statements.
A larger source is refused (MH902): never analyzed in part and reported clean.
"""

from __future__ import annotations

import ast
import re

TOKENS_PER_STATEMENT = 25
# Lines and semicolons (a cheap count before parsing) per statement allowed: the most in one real
# file is 27,855 (torch's common_methods_invocations.py), 1.4x the statement bound.
LINES_PER_STATEMENT = 5
_TOKEN = re.compile(r"\w+|[^\w\s]")


class TooLarge(Exception):
    """More statements or tokens than the analysis bounds (``max_statements``)."""


def count_tokens(text: str, stop: int) -> int:
    """The tokens of ``text`` (names, numbers, punctuation; a string counts per word), counting
    stops past ``stop``: a cheap bound on the size of its syntax tree, before any tree is built."""
    count = 0
    for _ in _TOKEN.finditer(text):
        count += 1
        if count > stop:
            break
    return count


def count_statements(tree: ast.Module, stop: int) -> int:
    """Statements of ``tree`` at any depth (only statement bodies are walked), counting stops past ``stop``."""
    count = 0
    todo: list[list[ast.stmt]] = [tree.body]
    while todo:
        body = todo.pop()
        count += len(body)
        if count > stop:
            break
        for stmt in body:
            for name in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, name, None)
                if type(inner) is list and inner and isinstance(inner[0], ast.stmt):
                    todo.append(inner)
            for handler in getattr(stmt, "handlers", ()) or getattr(stmt, "cases", ()):
                todo.append(handler.body)
    return count


def check_size(text: str, max_statements: int, tree: ast.Module | None = None) -> None:
    """``TooLarge`` when ``text`` has more tokens than its statements may hold, or (given its
    ``tree``) more statements than ``max_statements``."""
    if tree is None:
        lines = text.count("\n") + text.count(";")
        if lines > max_statements * LINES_PER_STATEMENT:
            raise TooLarge(f"more than {max_statements * LINES_PER_STATEMENT} lines and semicolons")
        if len(text) <= max_statements * TOKENS_PER_STATEMENT:
            return  # every token takes a character: nothing to count
        tokens = count_tokens(text, max_statements * TOKENS_PER_STATEMENT)
        if tokens > max_statements * TOKENS_PER_STATEMENT:
            raise TooLarge(f"more than {max_statements * TOKENS_PER_STATEMENT} tokens")
        return
    statements = count_statements(tree, max_statements)
    if statements > max_statements:
        raise TooLarge(f"more than {max_statements} statements")
