"""The local file a risky load reads, when the code names it: ``torch.load("models/checkpoint.pt")``.

So the editor can put the verdict of that file (scanned as any model file) on the line that loads it,
instead of only the generic note about the call. Recognised: the first positional argument (or the
``f``/``file``/``filename``/``filepath``/``fname`` keyword) when it is a constant string, or an
``open("<constant>", ...)`` / ``io.open(...)`` call in that place (``pickle.load(open("x.pkl", "rb"))``).
A file opened earlier (``with open(...) as f: pickle.load(f)``) is not followed.
"""

from __future__ import annotations

import ast

from malhug.analyzers.usercode.callsites import Arg
from malhug.analyzers.usercode.references import (
    JOBLIB_LOAD,
    KERAS_UNSAFE,
    NUMPY_PICKLE,
    PICKLE_LOAD,
    TORCH_LOAD,
    RiskyLoad,
)
from malhug.analyzers.usercode.spans import SourceLines, Span

# The loads whose first argument is a file that is then deserialized.
FILE_LOADS = frozenset({TORCH_LOAD, PICKLE_LOAD, JOBLIB_LOAD, NUMPY_PICKLE, KERAS_UNSAFE})
_FILE_KEYWORDS = ("f", "file", "filename", "filepath", "fname")
_MAX_PATH = 4096
_MAX_ARG_TEXT = 2000


def _text(src: SourceLines, span: Span) -> str:
    if span.line == span.end_line:
        return src.line_text(span.line)[span.col : span.end_col]
    parts = [src.line_text(span.line)[span.col :]]
    parts += [src.line_text(n) for n in range(span.line + 1, span.end_line)]
    parts.append(src.line_text(span.end_line)[: span.end_col])
    return "\n".join(parts)


def _opened(src: SourceLines, arg: Arg) -> str | None:
    """The constant path of ``open("<path>", ...)`` written as the argument, else None."""
    if arg.value_span.end_line - arg.value_span.line > 20:
        return None
    text = _text(src, arg.value_span)
    if len(text) > _MAX_ARG_TEXT or "open" not in text:
        return None
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    is_open = (isinstance(func, ast.Name) and func.id == "open") or (
        isinstance(func, ast.Attribute) and func.attr == "open" and isinstance(func.value, ast.Name)
    )
    first = node.args[0]
    if is_open and isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def local_path(load: RiskyLoad, src: SourceLines) -> str | None:
    """The path ``load`` deserializes as written in the code, or None when the code does not name one."""
    call = load.call
    if call is None or load.rule not in FILE_LOADS or call.method == "loads":
        return None
    arg = call.positional(0)
    for name in _FILE_KEYWORDS:
        arg = arg or call.keyword(name)
    if arg is None:
        return None
    value = arg.value if isinstance(arg.value, str) else _opened(src, arg)
    if not value or len(value) > _MAX_PATH or "\0" in value or "://" in value:
        return None
    return value
