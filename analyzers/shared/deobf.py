"""Bounded decoders for constant payloads: base64/32/85, hex, zlib, rot13, UTF-16LE.

Every function returns ``None`` instead of raising when the input does not decode, and never
produces more than ``MAX_DECODED`` bytes (zlib bombs stop there).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import zlib

MAX_DECODED = 1 << 20  # 1 MiB per decoding step
MAX_ENCODED = 4 << 20


def _as_bytes(data: str | bytes) -> bytes | None:
    if isinstance(data, bytes):
        return data
    try:
        return data.encode("latin-1")
    except UnicodeEncodeError:
        return None


def b64decode(data: str | bytes, *, urlsafe: bool = False) -> bytes | None:
    raw = _as_bytes(data)
    if raw is None or len(raw) > MAX_ENCODED:
        return None
    raw = b"".join(raw.split())
    raw += b"=" * (-len(raw) % 4)
    try:
        return base64.urlsafe_b64decode(raw) if urlsafe else base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None


def b32decode(data: str | bytes) -> bytes | None:
    raw = _as_bytes(data)
    if raw is None or len(raw) > MAX_ENCODED:
        return None
    raw += b"=" * (-len(raw) % 8)
    try:
        return base64.b32decode(raw, casefold=True)
    except (binascii.Error, ValueError):
        return None


def b85decode(data: str | bytes, *, ascii85: bool = False) -> bytes | None:
    raw = _as_bytes(data)
    if raw is None or len(raw) > MAX_ENCODED:
        return None
    try:
        return base64.a85decode(raw) if ascii85 else base64.b85decode(raw)
    except (binascii.Error, ValueError):
        return None


def hexdecode(data: str | bytes) -> bytes | None:
    raw = _as_bytes(data)
    if raw is None or len(raw) > MAX_ENCODED:
        return None
    try:
        return bytes.fromhex(raw.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None


def zlib_decompress(data: bytes, wbits: int = zlib.MAX_WBITS) -> bytes | None:
    if len(data) > MAX_ENCODED:
        return None
    try:
        d = zlib.decompressobj(wbits)
        out = d.decompress(data, MAX_DECODED)
    except zlib.error:
        return None
    return out


def rot13(text: str) -> str:
    return codecs.decode(text, "rot13")


def utf16le_b64(data: str) -> str | None:
    """PowerShell ``-EncodedCommand``: base64 of UTF-16LE text."""
    raw = b64decode(data)
    if raw is None or len(raw) % 2:
        return None
    try:
        return raw.decode("utf-16-le")
    except UnicodeDecodeError:
        return None


def as_text(data: bytes) -> str | None:
    """Decoded bytes as text when they look like text (source code or a command)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    return text if printable >= 0.95 * len(text) else None
