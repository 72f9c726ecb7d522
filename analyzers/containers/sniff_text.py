"""Text, JSON and Python source recognition: on the head of a file, then on its whole text.

A head that says "text" is not the last word: a module docstring or ``_CITATION`` longer than the
head hides the code after it, so the whole text (up to ``max_source_bytes``) is classified again when
it holds a Python statement anywhere. Bytes that are not UTF-8 are read as Python reads a source
(a PEP 263 coding cookie; an invalid byte in a comment does not stop an import), so a latin-1 module
is still Python.
"""

from __future__ import annotations

import ast
import json
import re

from malhug.analyzers import formats
from malhug.analyzers.shared.source import ByteSource
from malhug.analyzers.shared.text import decode_python, decode_text

_STRONG = re.compile(
    r"^[ \t]*(?:import[ \t]+[A-Za-z_][\w.]*|from[ \t]+\.*[\w.]*[ \t]+import[ \t]|(?:async[ \t]+)?def[ \t]+\w+[ \t]*\("
    r"|class[ \t]+\w+[ \t]*[:(]|if[ \t]+__name__[ \t]*==|@[A-Za-z_][\w.]*)",
    re.M,
)
_SHEBANG = re.compile(r"\A#![^\n]*python")
_CALLS = re.compile(r"\b(?:exec|eval|__import__|compile|os\.system|os\.popen|subprocess\.\w+|getattr)\s*\(")
# Syntax errors that only mean "the window ends inside a construct".
_CUT_HINTS = ("unterminated triple-quoted", "was never closed", "unexpected EOF")


# A Jinja statement or expression, and the words chat templates are made of.
_JINJA_TAG = re.compile(r"\{%-?\s*(?:for|if|set|macro|raw|generation)\b|\{\{-?\s*\w")
_CHAT_WORDS = re.compile(
    r"\bin\s+messages\b|\bmessages\s*\[|\b(?:add_generation_prompt|bos_token|eos_token|raise_exception)\b"
)


def _parses(text: str, tolerate_tail: bool = False) -> bool:
    """Whether ``text`` parses as Python; with ``tolerate_tail``, an error in its last lines is fine."""
    try:
        ast.parse(text)
    except SyntaxError as exc:
        if not tolerate_tail:
            return False
        if any(hint in (exc.msg or "") for hint in _CUT_HINTS):
            return True
        lines = text.count("\n") + 1
        return exc.lineno is not None and lines > 5 and exc.lineno >= lines * 0.8
    except (ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def _parses_text(text: str, complete: bool) -> bool:
    if complete:
        return _parses(text)
    # A cut window: parse up to its last line break; a construct cut at the end is tolerated.
    return _parses(text[: text.rfind("\n") + 1], tolerate_tail=True) if "\n" in text else False


def classify_text(text: str, complete: bool, name: str = "") -> str:
    """JSON, Python or plain text. ``name`` only breaks ties (plain assignments in a ``.py`` file)."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        if complete:
            try:
                json.loads(text)
                return formats.JSON
            except (ValueError, RecursionError):
                pass
        elif re.match(r'[\[{]\s*(?:["{\[\]}\d-]|true|false|null)', stripped):
            return formats.JSON
    strong = bool(_STRONG.search(text) or _SHEBANG.match(text))
    parsed: bool | None = None
    if strong:
        # Python first: a module may hold a chat template or a Markdown fence in a string.
        parsed = _parses_text(text, complete)
        if parsed:
            return formats.PYTHON
    if _JINJA_TAG.search(text) and _CHAT_WORDS.search(text):
        return formats.JINJA  # a chat template file (chat_template.jinja): Jinja that renders messages
    if "```" in text:
        return formats.TEXT
    if parsed is None:
        parsed = _parses_text(text, complete)
    is_py_name = name.endswith((".py", ".pyw"))
    if parsed and (_CALLS.search(text) or is_py_name):
        return formats.PYTHON
    if strong and is_py_name:
        return formats.PYTHON  # Python-looking but not parsing (Python 2, a syntax trick): the name decides
    return formats.TEXT


def _whole_text(src: ByteSource, limit: int) -> str | None:
    if src.size > limit:
        return None
    return decode_python(src.read_at(0, src.size))


# Python after a long leading string: parsed up to this many characters past the first statement
# (a whole-file parse costs seconds and gigabytes on a module of many statements).
PARSE_PAST_STATEMENT = 64 * 1024


def _python_in_whole(whole: str, name: str) -> bool:
    """Whether the whole text is Python: its first Python statement, and what precedes and follows
    it up to ``PARSE_PAST_STATEMENT`` characters, parse (a cut at the end of that sample is fine)."""
    match = _SHEBANG.match(whole) or _STRONG.search(whole)
    if match is None:
        return False
    cut = whole.find("\n", match.end() + PARSE_PAST_STATEMENT)
    if cut < 0:
        return classify_text(whole, complete=True, name=name) == formats.PYTHON
    return classify_text(whole[: cut + 1], complete=False, name=name) == formats.PYTHON


def classify_source(src: ByteSource, head: bytes, name: str, max_source_bytes: int, *, whole: bool = True) -> str:
    """JSON, Jinja, Python, text or unknown (binary), from the head and, when that is not decisive
    (and ``whole``: the name does not decide), the whole text."""
    complete = len(head) >= src.size
    text = decode_text(head, complete=complete)
    fmt = formats.UNKNOWN
    if text is not None:
        fmt = classify_text(text, complete=complete, name=name)
        if fmt not in (formats.TEXT, formats.JINJA):
            return fmt
    else:
        lenient = decode_python(head)
        if lenient is not None and classify_text(lenient, complete=complete, name=name) == formats.PYTHON:
            return formats.PYTHON  # a latin-1 module, an invalid byte in a comment
    if complete or not whole:
        return fmt
    if fmt == formats.UNKNOWN and decode_python(head) is None:
        return fmt  # binary from its first bytes
    text = _whole_text(src, max_source_bytes)
    if text is not None and _python_in_whole(text, name):
        return formats.PYTHON
    return fmt
