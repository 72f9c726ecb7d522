"""Text, JSON and Python source recognition on the first few KB of a file."""

from __future__ import annotations

import ast
import json
import re

from malhug.analyzers import formats

_STRONG = re.compile(
    r"^[ \t]*(?:import[ \t]+[A-Za-z_][\w.]*|from[ \t]+\.*[\w.]*[ \t]+import[ \t]|(?:async[ \t]+)?def[ \t]+\w+[ \t]*\("
    r"|class[ \t]+\w+[ \t]*[:(]|if[ \t]+__name__[ \t]*==|@[A-Za-z_][\w.]*)",
    re.M,
)
_SHEBANG = re.compile(r"\A#![^\n]*python")
_CALLS = re.compile(r"\b(?:exec|eval|__import__|compile|os\.system|os\.popen|subprocess\.\w+|getattr)\s*\(")
# Syntax errors that only mean "the window ends inside a construct".
_CUT_HINTS = ("unterminated triple-quoted", "was never closed", "unexpected EOF")
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v", "\x1b"}


def decode_text(window: bytes, complete: bool) -> str | None:
    """The window as text, or ``None`` when it is binary (NUL bytes, control characters, bad UTF-8)."""
    if b"\x00" in window:
        return None
    if window.startswith(b"\xef\xbb\xbf"):
        window = window[3:]
    try:
        text = window.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the window is fine.
        if complete or exc.start < len(window) - 3:
            return None
        text = window[: exc.start].decode("utf-8")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in _ALLOWED_CONTROLS)
    if controls > max(2, len(text) // 100):
        return None
    return text


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
    if _JINJA_TAG.search(text) and _CHAT_WORDS.search(text):
        return formats.JINJA  # a chat template file (chat_template.jinja): Jinja that renders messages
    if "```" in text:
        return formats.TEXT
    if complete:
        parsed = _parses(text)
    else:
        # A cut window: parse up to its last line break; a construct cut at the end is tolerated.
        parsed = _parses(text[: text.rfind("\n") + 1], tolerate_tail=True) if "\n" in text else False
    strong = bool(_STRONG.search(text) or _SHEBANG.match(text))
    if strong and parsed:
        return formats.PYTHON
    is_py_name = name.endswith((".py", ".pyw"))
    if parsed and (_CALLS.search(text) or is_py_name):
        return formats.PYTHON
    if strong and is_py_name:
        return formats.PYTHON  # Python-looking but not parsing (Python 2, a syntax trick): the name decides
    return formats.TEXT
