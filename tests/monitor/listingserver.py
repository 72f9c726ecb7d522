"""A minimal stand-in for the Hub's listing API (``/api/models``, ``/api/datasets``) with rate-limit
headers, for the discovery and budget tests: pages of ``page`` entries newest first, ``Link`` to the
next page, optional 429 answers. (The full fake Hub lives in ``tests/fakehub``.)"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Listing:
    models: list[dict[str, Any]] = field(default_factory=list)  # newest first
    page: int = 2
    quota: int = 100  # ratelimit-policy q for the api bucket
    fail_next: int = 0  # answer 429 this many times
    retry_after: int = 0
    seen: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)


@contextmanager
def listing_server(listing: Listing) -> Iterator[str]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            with lock:
                listing.seen.append((url.path, query))
                used = len(listing.seen)
                failing = listing.fail_next > 0
                listing.fail_next -= int(failing)
            if failing:
                self.send_response(429)
                self.send_header("Retry-After", str(listing.retry_after))
                self.send_header("ratelimit", f'"api";r=0;t={listing.retry_after}')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if url.path != "/api/models":
                body = b"[]"
                start = 0
                items: list[dict[str, Any]] = []
            else:
                start = int(query.get("cursor", ["0"])[0])
                items = listing.models[start : start + listing.page]
                body = json.dumps(items).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ratelimit-policy", f'"fixed window";"api";q={listing.quota};w=300')
            self.send_header("ratelimit", f'"api";r={max(0, listing.quota - used)};t=200')
            if items and start + listing.page < len(listing.models):
                host = self.headers["Host"]
                self.send_header("Link", f'<http://{host}/api/models?cursor={start + listing.page}>; rel="next"')
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
