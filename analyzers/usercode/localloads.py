"""The local file a risky load reads, when the code names it: ``torch.load("models/checkpoint.pt")``.

So the editor can put the verdict of that file (scanned as any model file) on the line that loads it,
instead of only the generic note about the call. Recognised: the first positional argument (or the
``f``/``file``/``filename``/``filepath``/``fname`` keyword) when it is a constant string, or an
``open("<constant>", ...)`` / ``io.open(...)`` call in that place (``pickle.load(open("x.pkl", "rb"))``).
A file opened earlier (``with open(...) as f: pickle.load(f)``) is not followed.
"""

from __future__ import annotations

import ast

from malhug.analyzers.usercode.blocks import BlockCache
from malhug.analyzers.usercode.callsites import Arg, CallSite, call_sites, module_scope
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


_PICKLE_LOADS = {f"{m}.load" for m in ("pickle", "_pickle", "cPickle", "dill", "cloudpickle")} | {
    "pandas.read_pickle",
    "pd.read_pickle",
}


def is_file_load(call: CallSite) -> bool:
    """Whether ``call`` deserializes the file it is given (whatever its safety flags say)."""
    func = call.func
    if func == "torch.load" or func in _PICKLE_LOADS:
        return True
    if func == "joblib.load" or func.endswith("externals.joblib.load"):
        return True
    if func in ("numpy.load", "np.load"):
        allow = call.keyword("allow_pickle")
        return allow is not None and allow.value is True
    return call.method == "load_model" and ("keras" in func or func.startswith("tf."))


def call_path(call: CallSite, src: SourceLines) -> str | None:
    """The path ``call`` reads as written in the code, or None when the code does not name one."""
    arg = call.positional(0)
    for name in _FILE_KEYWORDS:
        arg = arg or call.keyword(name)
    if arg is None:
        return None
    value = arg.value if isinstance(arg.value, str) else _opened(src, arg)
    if not value or len(value) > _MAX_PATH or "\0" in value or "://" in value:
        return None
    return value


def local_path(load: RiskyLoad, src: SourceLines) -> str | None:
    """The path a risky load deserializes, or None (``pickle.loads`` of bytes, a computed path, ...)."""
    if load.call is None or load.rule not in FILE_LOADS or not is_file_load(load.call):
        return None
    return call_path(load.call, src)


def file_loads(src: SourceLines, cache: BlockCache, limit: int = 32) -> list[tuple[CallSite, str]]:
    """Every call of the text that deserializes a file it names, with that path (at most ``limit``).

    Also the calls no rule flags (``torch.load(p, weights_only=True)``, Keras ``load_model`` in safe
    mode): what the file holds still matters (torch < 2.6 could be made to run code under
    ``weights_only=True``; an HDF5 Lambda layer runs in any mode).
    """
    blocks = cache.blocks(src.lines)
    out: list[tuple[CallSite, str]] = []
    for call in call_sites(blocks, module_scope(blocks)):
        path = call_path(call, src) if is_file_load(call) else None
        if path is not None:
            out.append((call, path))
            if len(out) >= limit:
                break
    return out
