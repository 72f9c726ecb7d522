"""Constant folding over symbolic pickle values: follow what a payload's arguments evaluate to.

Only pure helpers are evaluated (base64/hex/zlib decoding, ``str.join``, ``+``, ``chr``, slicing),
with a bound on every output size; everything else is ``NOT_CONST``. The second element of each
result says whether a decoder was involved (an encoded payload).
"""

from __future__ import annotations

import base64
import binascii
import bz2
import codecs
import lzma
import zlib
from collections.abc import Callable
from typing import Any

from malhug.analyzers.limits import LimitExceeded, Limits
from malhug.analyzers.pickle.allowlist import DECODERS
from malhug.analyzers.pickle.values import Call, Global, PDict

NOT_CONST: Any = object()
MAX_FOLDED = 16 * 1024 * 1024  # largest decoded/decompressed value followed
MAX_DECODER_MEMORY = 256 * 1024 * 1024  # an LZMA dictionary a folded payload may ask for
MAX_NODES = 100_000  # largest constant followed, counted as a tree (memo sharing expanded)

_SIMPLE = (str, bytes, bytearray, int, float, bool, complex, type(None))
_TEXT_CODECS = {"utf-8", "ascii", "latin-1", "iso8859-1", "utf-16", "utf-32", "raw-unicode-escape", "unicode-escape"}


def _bounded_decompress(data: bytes, make: Callable[[], Any]) -> bytes:
    obj = make()
    out = obj.decompress(data, MAX_FOLDED + 1)
    if len(out) > MAX_FOLDED:
        raise ValueError("decompressed payload too large")
    return bytes(out)


def _zlib(data: bytes, wbits: int = zlib.MAX_WBITS) -> bytes:
    return _bounded_decompress(data, lambda: zlib.decompressobj(wbits))


def _codec(data: Any, encoding: str = "utf-8", errors: str = "strict", *, decode: bool) -> Any:
    name = codecs.lookup(encoding).name
    if name == "zlib":
        return _zlib(bytes(data))
    if name == "bz2":
        return _bounded_decompress(bytes(data), bz2.BZ2Decompressor)
    if name in ("hex", "base64", "rot-13", "quopri", "uu") or name in _TEXT_CODECS:
        return codecs.decode(data, encoding, errors) if decode else codecs.encode(data, encoding, errors)
    raise ValueError(f"codec {encoding} not followed")


def _no_size(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``bytes(n)`` allocates n bytes: only the forms that convert existing data are followed."""
    if args and isinstance(args[0], int):
        raise TypeError("bytes(size) is not followed")
    return args


def _join(sep: Any, items: Any) -> Any:
    parts = list(items)
    _check_join(sep, parts)
    return sep.join(parts)


def _check_join(sep: Any, parts: list[Any]) -> None:
    """``ValueError`` when ``sep.join(parts)`` would exceed ``MAX_FOLDED``: a memoized 1 MiB
    separator joining 2,000 items is 2 GiB of output from a 1 MiB pickle."""
    if not isinstance(sep, (str, bytes, bytearray)):
        return
    size = len(sep) * max(len(parts) - 1, 0)
    size += sum(len(p) for p in parts if isinstance(p, (str, bytes, bytearray)))
    if size > MAX_FOLDED:
        raise ValueError(f"joined text of {size} bytes is not followed")


_FUNCS: dict[str, Callable[..., Any]] = {
    "base64.b64decode": base64.b64decode,
    "base64.standard_b64decode": base64.standard_b64decode,
    "base64.urlsafe_b64decode": base64.urlsafe_b64decode,
    "base64.b32decode": base64.b32decode,
    "base64.b16decode": base64.b16decode,
    "base64.a85decode": base64.a85decode,
    "base64.b85decode": base64.b85decode,
    "base64.decodebytes": base64.decodebytes,
    "binascii.unhexlify": binascii.unhexlify,
    "binascii.a2b_hex": binascii.a2b_hex,
    "binascii.a2b_base64": binascii.a2b_base64,
    "codecs.decode": lambda d, e="utf-8", err="strict": _codec(d, e, err, decode=True),
    "codecs.encode": lambda d, e="utf-8", err="strict": _codec(d, e, err, decode=False),
    "zlib.decompress": _zlib,
    "bz2.decompress": lambda d: _bounded_decompress(d, bz2.BZ2Decompressor),
    "lzma.decompress": lambda d: _bounded_decompress(d, lambda: lzma.LZMADecompressor(memlimit=MAX_DECODER_MEMORY)),
    "gzip.decompress": lambda d: _zlib(d, 16 + zlib.MAX_WBITS),
    "bytes.fromhex": bytes.fromhex,
    "builtins.bytes.fromhex": bytes.fromhex,
    "builtins.str.join": _join,
    "builtins.bytes.join": _join,
    "builtins.str.encode": str.encode,
    "builtins.bytes.decode": bytes.decode,
    "builtins.chr": chr,
    "builtins.bytes": lambda *a: bytes(*_no_size(a)),
    "builtins.bytearray": lambda *a: bytearray(*_no_size(a)),
    "builtins.str": str,
    "builtins.slice": slice,
    "builtins.reversed": lambda s: s[::-1],
    "operator.add": lambda a, b: a + b,
    "operator.concat": lambda a, b: a + b,
    "operator.getitem": lambda a, b: a[b],
    "io.BytesIO": lambda b=b"": bytes(b),
    "io.StringIO": lambda s="": str(s),
}

# Methods of constant strings/bytes that build text (``''.join``, ``'...'.replace``).
# Only methods whose result is no larger than their inputs (no ``replace``/``zfill``/``format``
# amplification: the inputs are bounded, so the results are).
_METHODS = {"join", "encode", "decode", "lower", "upper", "strip", "lstrip", "rstrip", "__add__"}


class Folder:
    """Folds values to constants.

    Results are cached per node (nodes are shared through the memo) together with the size of the
    constant as a tree, so a memo-shared structure whose expansion would be exponential is refused
    (``NOT_CONST``) instead of being built or printed.
    """

    def __init__(self, limits: Limits):
        self.max_depth = limits.max_expression_depth
        self._cache: dict[int, tuple[Any, bool, int]] = {}

    def fold_name(self, value: Any) -> str | None:
        """A computed STACK_GLOBAL operand as a string, when it folds to one."""
        folded, _ = self.fold(value)
        return folded if isinstance(folded, str) else None

    def fold(self, value: Any, depth: int = 0) -> tuple[Any, bool]:
        folded, decoded, _ = self._fold(value, depth)
        return folded, decoded

    def _fold(self, value: Any, depth: int) -> tuple[Any, bool, int]:
        if isinstance(value, _SIMPLE):
            return value, False, 1 + (len(value) >> 6 if isinstance(value, (str, bytes, bytearray)) else 0)
        if not isinstance(value, (tuple, list, Call)):
            return NOT_CONST, False, 0
        if depth > self.max_depth:
            raise LimitExceeded("pickle expression depth", self.max_depth, depth)
        key = id(value)
        cached = self._cache.get(key)
        if cached is None:
            self._cache[key] = (NOT_CONST, False, 0)  # cycles fold to NOT_CONST
            cached = self._fold_call(value, depth) if isinstance(value, Call) else self._fold_seq(value, depth)
            if cached[2] > MAX_NODES:
                cached = (NOT_CONST, False, 0)
            self._cache[key] = cached
        return cached

    def _fold_seq(self, value: tuple[Any, ...] | list[Any], depth: int) -> tuple[Any, bool, int]:
        if len(value) > 4096:
            return NOT_CONST, False, 0
        out = []
        decoded = False
        size = 1
        for item in value:
            folded, dec, n = self._fold(item, depth + 1)
            if folded is NOT_CONST:
                return NOT_CONST, False, 0
            out.append(folded)
            decoded |= dec
            size += n
        return (tuple(out) if isinstance(value, tuple) else out), decoded, size

    def _fold_call(self, call: Call, depth: int) -> tuple[Any, bool, int]:
        args, dec_args, size = self._fold(call.args, depth + 1)
        if args is NOT_CONST or not isinstance(args, tuple) or call.kwargs is not None:
            return NOT_CONST, False, 0
        func = call.func
        fn: Callable[..., Any] | None = None
        name = ""
        if isinstance(func, Global):
            name = func.canon[0]
            fn = _FUNCS.get(name)
        elif isinstance(func, Call) and _is_getattr(func.func) and isinstance(func.args, tuple) and len(func.args) == 2:
            # A bound method of a constant: getattr('', 'join')(parts)
            (obj, dec_obj), (meth, _) = self.fold(func.args[0], depth + 1), self.fold(func.args[1], depth + 1)
            if isinstance(obj, (str, bytes)) and meth in _METHODS:
                fn = getattr(obj, meth)
                if meth == "join" and args and isinstance(args[0], (list, tuple)):
                    try:
                        _check_join(obj, list(args[0]))
                    except ValueError:
                        return NOT_CONST, False, 0
                dec_args |= dec_obj
                name = f"builtins.str.{meth}"
        if fn is None:
            return NOT_CONST, False, 0
        try:
            result = fn(*args)
        except (
            ValueError,
            TypeError,
            IndexError,
            KeyError,
            LookupError,
            OverflowError,
            binascii.Error,
            zlib.error,
            lzma.LZMAError,
            OSError,
            EOFError,
        ):
            return NOT_CONST, False, 0
        if isinstance(result, (str, bytes, bytearray)) and len(result) > MAX_FOLDED:
            return NOT_CONST, False, 0
        decoded = name in DECODERS
        if name in ("codecs.decode", "codecs.encode"):
            encoding = args[1] if len(args) > 1 and isinstance(args[1], str) else "utf-8"
            decoded = codecs.lookup(encoding).name not in _TEXT_CODECS
        if isinstance(result, (str, bytes, bytearray)):
            size = 1 + (len(result) >> 6)
        return result, dec_args or decoded, size


def _is_getattr(func: Any) -> bool:
    return isinstance(func, Global) and func.canon[0] == "builtins.getattr"


def const_kwargs(kwargs: Any) -> dict[str, Any]:
    """Keyword arguments whose keys are constant strings (values stay symbolic)."""
    if isinstance(kwargs, PDict):
        return {k: v for k, v in kwargs.items[:64] if isinstance(k, str)}
    return {}
