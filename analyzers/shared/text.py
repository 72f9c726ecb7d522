"""Bytes as text: binary or text, and a Python source decoded the way Python reads it (PEP 263)."""

from __future__ import annotations

import codecs
import re

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


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.M)
# Undecodable bytes tolerated in a source read the way Python reads it (comments may hold any byte).
MAX_BAD_BYTES_RATIO = 100


def source_encoding(data: bytes) -> str | None:
    """The encoding a PEP 263 cookie in the first two lines names (``None``: no usable cookie)."""
    first_two = b"\n".join(data[:1024].split(b"\n", 2)[:2])
    match = _COOKIE.search(first_two)
    if match is None:
        return None
    try:
        info = codecs.lookup(match.group(1).decode("ascii"))
    except (LookupError, UnicodeDecodeError):
        return None
    # Python refuses a transform (rot13, zlib) or a codec that is not ASCII-compatible (UTF-16).
    if not getattr(info, "_is_text_encoding", True) or "a".encode(info.name) != b"a":
        return None
    return info.name


def decode_python(data: bytes) -> str | None:
    """``data`` as Python would read a source file: BOM, PEP 263 cookie (first two lines), else
    UTF-8 with the odd undecodable byte replaced. ``None`` for binary (NUL bytes, many bad bytes)."""
    if b"\x00" in data:
        return None
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    text = data.decode(source_encoding(data) or "utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad > max(8, len(text) // MAX_BAD_BYTES_RATIO):
        return None
    return text
