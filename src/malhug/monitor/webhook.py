"""``monitor webhook``: a small HTTP server that turns Hub webhooks into queued ``repo@sha`` work.

The Hub sends ``X-Webhook-Secret`` with every call; it is compared in constant time with the secret
from the environment, and a wrong or missing secret gets 401 with nothing enqueued. A repository
update (``{"event": {"action": "update", "scope": "repo.content"}, "repo": {"type": "model", "name":
"org/name", "headSha": "<sha>"}}``) is queued for the next run or a running one (202); other events are
acknowledged and ignored (200). Bodies are capped (``MAX_BODY``); the server binds loopback only (put
a reverse proxy with TLS in front to receive calls from the Hub).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from malhug.hub.client import valid_repo_id
from malhug.hub.remote import FULL_SHA
from malhug.monitor.store import Store

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
TIMEOUT_S = 10.0


class WebhookError(ValueError):
    pass


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise WebhookError(f"--listen wants HOST:PORT, not {value!r}")
    host = host.strip("[]") or "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise WebhookError(f"the webhook server listens on loopback only (127.0.0.1), not {host}")
    return host, int(port)


def parse_payload(body: bytes) -> tuple[str, str, str] | None:
    """``(repo_type, repo_id, sha)`` of a repository update; None for an event that queues nothing."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise WebhookError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise WebhookError("the payload is not a JSON object")
    event, repo = data.get("event"), data.get("repo")
    if not isinstance(event, dict) or not isinstance(repo, dict):
        raise WebhookError("the payload has no event or repo object")
    scope = event.get("scope")
    if not (isinstance(scope, str) and scope.startswith("repo")) or event.get("action") == "delete":
        return None
    kind, name, sha = repo.get("type"), repo.get("name"), repo.get("headSha")
    if kind not in ("model", "dataset"):
        return None  # spaces are not monitored
    if not (isinstance(name, str) and valid_repo_id(name) and isinstance(sha, str) and FULL_SHA.match(sha)):
        raise WebhookError("repo.name or repo.headSha is missing or malformed")
    return kind, name, sha


def make_server(store: Store, secret: str, host: str, port: int) -> ThreadingHTTPServer:
    """The server (not started): ``serve_forever()`` it, ``shutdown()`` it from another thread."""
    expected = secret.encode()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        server_version = "malhug-webhook"
        timeout = TIMEOUT_S

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), fmt % args)

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            given = (self.headers.get("X-Webhook-Secret") or "").encode()
            if not hmac.compare_digest(given, expected):
                self._answer(401, {"error": "wrong or missing X-Webhook-Secret"})
                return
            try:
                length = int(self.headers.get("Content-Length") or "0")
            except ValueError:
                length = -1
            if not 0 < length <= MAX_BODY:
                self._answer(413 if length > MAX_BODY else 400, {"error": f"a body of 1 to {MAX_BODY} bytes"})
                return
            try:
                target = parse_payload(self.rfile.read(length))
            except WebhookError as exc:
                self._answer(400, {"error": str(exc)})
                return
            if target is None:
                self._answer(200, {"queued": False})
                return
            with lock:
                queued = store.enqueue(*target, source="webhook")
            log.info("webhook: %s %s@%s %s", *target, "queued" if queued else "already known")
            self._answer(202, {"queued": queued, "type": target[0], "id": target[1], "sha": target[2]})

    return ThreadingHTTPServer((host, port), Handler)
