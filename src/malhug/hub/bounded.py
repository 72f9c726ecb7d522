"""Bounds on what a Hub server can make us read, parse and follow.

A Hub endpoint is whatever ``HF_ENDPOINT`` names: a mirror, a proxy, or a hostile server. Nothing it
sends is trusted to be finite: every body is read up to a byte cap per kind of answer and a total
deadline per request, JSON is checked for size, item count and nesting before it is parsed, headers
are validated, and text the server chose (error messages) is cleaned before anyone sees it. Every
violation is a ``HubError`` that says what was refused; none is a traceback.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit


class HubError(Exception):
    """A failure the user must read: ``kind`` is one of ``RepoScan.error_kind``'s values."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Bounds:
    """Caps for one Hub endpoint; a test passes small ones to exercise them quickly."""

    api_bytes: int = 16 * 2**20  # one JSON answer (repo info lists every file: ~100 bytes per file)
    api_items: int = 600_000  # JSON values in one answer (repo info: two per listed file)
    page_bytes: int = 8 * 2**20  # one page of a paginated list (the Hub sends 1,000 files or 50 commits)
    page_items: int = 200_000
    json_depth: int = 32  # the Hub's answers nest 4 levels deep
    error_bytes: int = 64 * 1024  # the body of an error answer (read only to reuse the connection)
    file_bytes: int = 64 * 2**20  # one file read with no length of its own (callers always pass one)
    deadline: float = 120.0  # seconds for one request, from sending it to its last byte
    max_pages: int = 1_000  # pages of one paginated list (100,000 files at 100 per page)
    listing_files: int = 100_000  # entries of a revision's file listing read; past it: MH605
    max_redirects: int = 5
    message_chars: int = 300  # text a server chose, as shown to the user


DEFAULT_BOUNDS = Bounds()

# A JSON string, escapes included (the unrolled form runs in linear time on any input).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_PAIR = re.compile(rb"\[\]|\{\}")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def clean_text(text: str, limit: int = DEFAULT_BOUNDS.message_chars) -> str:
    """Server-chosen text made safe to print: no control or bidi characters, at most ``limit`` chars."""
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[:limit] + "…"


def content_length(headers: Any, what: str) -> int | None:
    """The declared body length, None when absent; a malformed value is an error, not a guess."""
    values = headers.get_list("Content-Length") if hasattr(headers, "get_list") else [headers.get("Content-Length")]
    values = [v for v in values if v is not None]
    if not values:
        return None
    parsed = set()
    for value in values:
        text = str(value).strip()
        if not text.isascii() or not text.isdigit() or len(text) > 19:
            raise HubError("network", f"the server sent an invalid Content-Length for {what}: {clean_text(text, 40)!r}")
        parsed.add(int(text))
    if len(parsed) > 1:
        raise HubError("network", f"the server sent conflicting Content-Length headers for {what}")
    return parsed.pop()


def check_encoding(headers: Any, what: str) -> None:
    """We ask for ``identity``: a compressed body could expand without bound, so it is refused."""
    encoding = str(headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise HubError(
            "network", f"the server sent {what} with Content-Encoding {clean_text(encoding, 40)!r} (asked for identity)"
        )


def content_range_start(headers: Any, what: str) -> int:
    """The first byte of a 206 answer, from ``Content-Range: bytes A-B/N``."""
    value = str(headers.get("Content-Range") or "").strip()
    unit, _, spec = value.partition(" ")
    first, sep, _rest = spec.partition("-")
    if unit.lower() != "bytes" or not sep or not first.isascii() or not first.isdigit() or len(first) > 19:
        raise HubError("network", f"the server sent a partial answer without a valid Content-Range for {what}")
    return int(first)


def parse_json(body: bytes, *, max_items: int, max_depth: int, what: str) -> Any:
    """``body`` as JSON, refused when it holds more than ``max_items`` values or nests deeper than ``max_depth``.

    Both are checked on the bytes before parsing (strings blanked out, then commas counted and bracket
    pairs peeled one level per pass), so a hostile answer never becomes a million Python objects.
    """
    skeleton = _JSON_STRING.sub(b'""', body)
    items = skeleton.count(b",") + 1
    if items > max_items:
        raise HubError("limit", f"the Hub's answer for {what} holds more than {max_items} values; refused")
    brackets = skeleton.translate(None, _NOT_BRACKETS)
    for _ in range(max_depth):
        peeled = _PAIR.sub(b"", brackets)  # one level per pass (two chained replaces could peel two)
        if peeled == brackets:
            break
        brackets = peeled
    else:
        if _PAIR.search(brackets):
            raise HubError("limit", f"the Hub's answer for {what} nests deeper than {max_depth} levels; refused")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise HubError("network", f"the Hub sent invalid JSON for {what}") from exc


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme.lower(), pa.netloc.lower()) == (pb.scheme.lower(), pb.netloc.lower())


def redirect_target(current: str, location: str, what: str) -> str:
    """Where a redirect leads; only http(s), never from https down to http."""
    try:
        target = urljoin(current, location.strip())
        parts = urlsplit(target)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise HubError("network", f"the server redirected {what} to a malformed URL; refused") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise HubError("network", f"the server redirected {what} to a {scheme or 'relative'}: URL; refused")
    if urlsplit(current).scheme.lower() == "https" and scheme == "http":
        raise HubError("network", f"the server redirected {what} from https to plain http; refused")
    return target


def next_page(current: str, link: str | None, endpoint: str, what: str) -> str | None:
    """The next page of a paginated list; it must stay on the Hub's own origin."""
    if not link:
        return None
    try:
        target = urljoin(current, link.strip())
        same = same_origin(target, endpoint)
        urlsplit(target).port  # noqa: B018 -- a malformed port raises here, not later
    except ValueError as exc:
        raise HubError("network", f"the Hub's next page of {what} is a malformed URL") from exc
    if not same:
        raise HubError("network", f"the Hub's next page of {what} points to another server; refused")
    return target


# Names a loader would join onto a folder: nothing that climbs out of it or that no Hub accepts.
_DRIVE = re.compile(r"^[A-Za-z]:")
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


def unsafe_path(path: str) -> str | None:
    """Why a listed file name could leave the repository's folder (or is no valid name), None when fine."""
    if not path:
        return "an empty name"
    if path.startswith("/") or _DRIVE.match(path):
        return "an absolute path"
    if _BAD_CHARS.search(path):
        return "a backslash or control character"
    parts = path.split("/")
    if any(p == ".." for p in parts):
        return "a '..' segment that climbs out of the repository"
    if any(p in ("", ".") for p in parts):
        return "an empty or '.' segment"
    if len(path) > 4096:
        return "a name longer than 4,096 characters"
    return None


def shown_path(path: str) -> str:
    """A listed name as it may be printed (escapes for anything a terminal would interpret)."""
    shown = path if not _CONTROL.search(path) else path.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= 300 else shown[:300] + "…"
