"""Hostile answers for the fake Hub: what a malicious endpoint, mirror or proxy could send.

``FakeHub.hostile(mode, match=..., ...)`` makes requests whose path contains ``match`` get one of:

- ``endless``: ``status`` and ``headers``, then ``body`` followed by ``fill`` repeated without end
  (up to ``limit`` bytes, a safety net for a broken client); without a ``Content-Length`` in
  ``headers`` the body is framed by closing the connection. With ``status=200`` on a file URL this
  is a server that ignores ``Range``; ``headers={"Content-Length": str(2**62)}`` an absurd length.
- ``slow``: ``body`` sent one byte every ``interval`` seconds (slowloris), with its true length;
  ``slow-headers``: the status line and headers themselves trickled that way.
- ``answer``: exactly ``status``, ``headers`` and ``body`` (a 10^6-sibling JSON, a bad
  ``Content-Length``, a ``Content-Range`` from the wrong offset, ``Content-Encoding: gzip``...);
  a ``Content-Length`` in ``headers`` replaces the true one.
- ``redirect``: 302 to ``location`` (another scheme, another host); ``redirect-loop``: 302 to itself.
- ``echo-token``: ``status`` with the request's ``Authorization`` echoed in ``X-Error-Message``,
  in a ``Location`` and in the body (a token must never reach a log, a message or a report).

Tree listings can also be padded (``FakeHub.pad_tree(n)``: ``n`` synthetic small text files listed
before the real ones, generated page by page) or given raw extra entries (``FakeHub.add_tree_entries``,
e.g. ``../`` names that no real Hub accepts).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from tests.fakehub.server import Handler, Request


@dataclass
class Hostile:
    mode: str
    match: str = ""
    remaining: int | None = None  # None: every matching request
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    fill: bytes = b"A" * 65536
    interval: float = 1.0
    location: str = ""
    limit: int = 1 << 30


def serve(handler: Handler, req: Request, hostile: Hostile) -> None:
    """Answer ``req`` as ``hostile`` says (called by the fake Hub's handler)."""
    mode = hostile.mode
    if mode in ("redirect", "redirect-loop"):
        location = handler.path if mode == "redirect-loop" else hostile.location
        _head(handler, req, 302, {"Location": location, "Content-Length": "0"})
        return
    if mode == "echo-token":
        token = handler.headers.get("Authorization") or ""
        body = b'{"error": "denied for ' + token.encode("latin-1") + b'"}'
        headers = {"X-Error-Message": f"denied for {token}", "Location": f"/?auth={token}"}
        _head(handler, req, hostile.status, {**headers, "Content-Length": str(len(body))})
        _write(handler, req, body)
        return
    if mode == "answer":
        headers = {"Content-Length": str(len(hostile.body)), **hostile.headers}
        _head(handler, req, hostile.status, headers)
        _write(handler, req, hostile.body)
        return
    if mode == "slow":
        _head(handler, req, hostile.status, {"Content-Length": str(len(hostile.body)), **hostile.headers})
        for i in range(len(hostile.body)):
            _write(handler, req, hostile.body[i : i + 1])
            time.sleep(hostile.interval)
        return
    if mode == "slow-headers":
        req.status = hostile.status
        head = f"HTTP/1.1 {hostile.status} OK\r\nContent-Length: 2\r\nX-Pad: {'x' * 200}\r\n\r\n{{}}".encode()
        for i in range(len(head)):
            handler.wfile.write(head[i : i + 1])
            handler.wfile.flush()
            time.sleep(hostile.interval)
        return
    if mode == "endless":
        headers = dict(hostile.headers)
        if "Content-Length" not in headers:
            headers["Connection"] = "close"
            handler.close_connection = True
        _head(handler, req, hostile.status, headers)
        _write(handler, req, hostile.body)
        while req.body_bytes < hostile.limit:
            _write(handler, req, hostile.fill)
        handler.close_connection = True
        return
    raise ValueError(f"unknown hostile mode {mode!r}")


def _head(handler: Handler, req: Request, status: int, headers: dict[str, str]) -> None:
    req.status = status
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    for k, v in headers.items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.flush()


def _write(handler: Handler, req: Request, data: bytes) -> None:
    if handler.command == "HEAD" or not data:
        return
    req.body_bytes += len(data)
    handler.wfile.write(data)
    handler.wfile.flush()


def padding_entry(i: int) -> dict[str, Any]:
    """The ``i``-th synthetic listing entry: a small text file (no scanner ever reads it)."""
    oid = hashlib.sha1(b"pad%d" % i, usedforsecurity=False).hexdigest()
    return {"type": "file", "path": f"padding/{i:06d}.txt", "size": 1, "oid": oid}


class Padded(Sequence[Any]):
    """``n`` synthetic entries followed by ``rest``, made only for the slice a page asks for."""

    def __init__(self, n: int, rest: list[Any]):
        self.n = n
        self.rest = rest

    def __len__(self) -> int:
        return self.n + len(self.rest)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        return padding_entry(index) if index < self.n else self.rest[index - self.n]
