"""Constant folding of decoders and string methods (de-obfuscation), bounded in size."""

from __future__ import annotations

import re
import zlib

from malhug.analyzers.scripts.knowledge import DECODERS
from malhug.analyzers.scripts.values import HOLE, MAX_TEXT, Val, const, merge_taints, taints_of
from malhug.analyzers.shared import deobf

_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def _bytes_of(val: Val) -> bytes | None:
    if isinstance(val.const, bytes):
        return val.const
    if isinstance(val.const, str):
        try:
            return val.const.encode("latin-1")
        except UnicodeEncodeError:
            return None
    return None


def _decode_with(name: str, data: Val, args: list[Val]) -> tuple[bytes | str | None, str]:
    """Run decoder ``name`` on a constant; returns (result, decoder label)."""
    label = DECODERS[name]
    raw = _bytes_of(data)
    if name == "codecs.decode":
        codec = args[1].const if len(args) > 1 and isinstance(args[1].const, str) else "utf-8"
        codec = codec.lower().replace("-", "_")
        if codec in ("rot13", "rot_13") and isinstance(data.const, str):
            return deobf.rot13(data.const), "rot13"
        if raw is None:
            return None, codec
        if codec in ("base64", "base_64", "base64_codec"):
            return deobf.b64decode(raw), "base64"
        if codec in ("hex", "hex_codec"):
            return deobf.hexdecode(raw), "hex"
        if codec in ("zlib", "zip", "zlib_codec"):
            return deobf.zlib_decompress(raw), "zlib"
        return None, codec
    if raw is None:
        return None, label
    if label == "base64":
        return deobf.b64decode(raw, urlsafe=name.endswith("urlsafe_b64decode")), label
    if label == "base32":
        return deobf.b32decode(raw), label
    if label in ("base85", "ascii85"):
        return deobf.b85decode(raw, ascii85=label == "ascii85"), label
    if label == "hex":
        return deobf.hexdecode(raw), label
    if label == "zlib":
        return deobf.zlib_decompress(raw), label
    if label == "gzip":
        return deobf.zlib_decompress(raw, 16 + zlib.MAX_WBITS), label
    return None, label


def fold_decoder(qn: str, args: list[Val], kwargs: dict[str, Val]) -> Val | None:
    first = args[0] if args else None
    taints = taints_of(args)
    if qn in DECODERS:
        if first is None:
            return Val()
        result, label = _decode_with(qn, first, args)
        if result is None:
            return Val(taints=taints, decoded=label)
        chain = f"{first.decoded} + {label}" if first.decoded else label
        return const(result, decoded=chain, taints=taints)
    if qn == "builtins.chr" and first is not None and isinstance(first.const, int) and 0 <= first.const < 0x110000:
        return const(chr(first.const), taints=taints, decoded="chr list")
    if qn in ("builtins.bytes", "builtins.bytearray") and first is not None:
        if first.items is not None and all(isinstance(i.const, int) and 0 <= i.const < 256 for i in first.items):
            return const(
                bytes(i.const for i in first.items if isinstance(i.const, int)), decoded="byte list", taints=taints
            )
        if isinstance(first.const, str):
            enc = args[1].const if len(args) > 1 and isinstance(args[1].const, str) else "utf-8"
            try:
                return const(first.const.encode(enc), taints=taints, decoded=first.decoded)
            except (LookupError, UnicodeEncodeError):
                return Val(taints=taints)
        if isinstance(first.const, bytes):
            return first
    if qn == "builtins.str" and first is not None and isinstance(first.const, bytes) and len(args) > 1:
        enc = args[1].const if isinstance(args[1].const, str) else "utf-8"
        try:
            return const(first.const.decode(enc), taints=taints, decoded=first.decoded)
        except (LookupError, UnicodeDecodeError):
            return Val(taints=taints)
    if qn == "builtins.reversed" and first is not None and isinstance(first.const, str | bytes):
        return const(first.const[::-1], decoded="reversed", taints=taints)
    if qn == "builtins.map" and len(args) == 2 and args[0].ref == "builtins.chr" and args[1].items is not None:
        items = args[1].items
        if all(isinstance(i.const, int) and 0 <= i.const < 0x110000 for i in items):
            return Val(
                items=tuple(const(chr(i.const)) for i in items if isinstance(i.const, int)),
                kind="list",
                decoded="chr list",
            )
    return None


def _format(template: str, args: list[Val], kwargs: dict[str, Val]) -> Val:
    auto = iter(range(len(args)))
    used: list[Val] = []

    def field(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        name = re.split(r"[!:.\[]", m.group(1), maxsplit=1)[0]
        val: Val | None
        if name == "":
            idx = next(auto, None)
            val = args[idx] if idx is not None else None
        elif name.isdigit():
            val = args[int(name)] if int(name) < len(args) else None
        else:
            val = kwargs.get(name)
        if val is None:
            return HOLE
        used.append(val)
        return val.approx()

    text = _FIELD.sub(field, template)[:MAX_TEXT]
    taints = merge_taints(taints_of(args), taints_of(list(kwargs.values())))
    if all(isinstance(v.const, str | int | float) for v in used) and HOLE not in text:
        return const(text, taints=taints)
    return Val(text=text, taints=taints)


def fold_str_method(base: Val, method: str, args: list[Val]) -> Val | None:
    value = base.const
    assert isinstance(value, str | bytes)
    first = args[0] if args else None
    taints = merge_taints(base.taints, taints_of(args))
    if method == "join" and first is not None:
        items = first.items
        if items is None and isinstance(first.const, str | bytes):
            return const(first.const, taints=taints, decoded=first.decoded)
        if items is not None and all(type(i.const) is type(value) for i in items):
            sep = value
            parts = [i.const for i in items]
            joined = sep.join(parts)  # type: ignore[arg-type]
            decoded = first.decoded or next((i.decoded for i in items if i.decoded), None)
            return const(joined, taints=taints, decoded=decoded)
        sep_text = value if isinstance(value, str) else value.decode("latin-1")
        text = sep_text.join(i.approx() for i in items) if items is not None else HOLE
        return Val(text=text[:MAX_TEXT], taints=taints)
    if method == "format" and isinstance(value, str):
        return _format(value, args, {})
    if method in ("encode", "decode"):
        enc = first.const if first is not None and isinstance(first.const, str) else "utf-8"
        try:
            if isinstance(value, str) and method == "encode":
                return const(value.encode(enc), taints=taints, decoded=base.decoded)
            if isinstance(value, bytes) and method == "decode":
                return const(value.decode(enc), taints=taints, decoded=base.decoded)
        except (LookupError, UnicodeError):
            return Val(taints=taints)
        return None
    if method in ("lower", "upper", "strip", "lstrip", "rstrip", "title", "casefold") and not args:
        return const(getattr(value, method)(), taints=taints, decoded=base.decoded)
    if (
        method == "replace"
        and len(args) >= 2
        and type(args[0].const) is type(value)
        and type(args[1].const) is type(value)
    ):
        old, new = args[0].const, args[1].const
        assert isinstance(old, str | bytes) and isinstance(new, str | bytes)
        if old and len(value) + len(value) // max(1, len(old)) * len(new) <= MAX_TEXT:
            return const(value.replace(old, new), taints=taints, decoded=base.decoded)  # type: ignore[arg-type]
    if method == "split" and isinstance(value, str) and len(value) <= MAX_TEXT:
        splitter = first.const if first is not None and isinstance(first.const, str) and first.const else None
        return Val(items=tuple(const(p) for p in value.split(splitter)[:4096]), kind="list", taints=taints)
    return None
