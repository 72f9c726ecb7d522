"""The fake Hub's HTTP servers: the Hub API origin and a separate "CDN" origin for LFS content.

Shapes and headers follow what huggingface_hub 2.4 reads (``hf_api.RepoFile``, ``GitRefs``,
``GitCommitInfo``, ``ModelInfo``; ``get_hf_file_metadata``; ``hf_raise_for_status``). Every request is
logged with the bytes of body sent, so tests can assert what a client transferred.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.fakehub.listing import list_page
from tests.fakehub.store import Commit, DiskBackend, Entry, HashCache, NotFound, Repo

API_KEYWORDS = {"revision", "tree", "paths-info", "commits", "refs"}


@dataclass
class Request:
    """One request as the fake Hub saw it."""

    server: str  # "hub" or "cdn"
    method: str
    path: str  # unquoted path, without the query
    query: dict[str, list[str]]
    status: int = 0
    body_bytes: int = 0  # bytes of response body actually sent
    range: str | None = None
    authorization: str | None = None
    started: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """Answer ``status`` to the next ``remaining`` requests whose path contains ``match``."""

    remaining: int
    status: int = 429
    retry_after: float | None = 0
    match: str = ""


class State:
    """What both servers share: the root, hash cache, request log, injected faults."""

    def __init__(self, root: Path):
        self.root = root
        self.hashes = HashCache()
        self.backend: Any = DiskBackend(root, self.hashes)  # open(type, id) and summaries(type, sort)
        self.list_page_size = 1000
        self.lock = threading.Lock()
        self.log: list[Request] = []
        self.faults: list[Fault] = []
        self.delays: list[tuple[float, str]] = []
        self.hub_url = ""
        self.cdn_url = ""
        self.tree_page_size = 1000
        self.tree_expand_page_size = 50
        self.commits_page_size = 50
        self.hostile: list[Any] = []  # tests.fakehub.hostile.Hostile answers, first match wins
        self.tree_padding = 0  # synthetic entries listed before a tree's real ones
        self.tree_extra: list[dict[str, Any]] = []  # raw entries listed after them
        self.rate: Any = None  # tests.fakehub.ratelimit.RateLimiter
        self.hooks: list[Any] = []  # tests.fakehub.webhooks.Hook
        self.deliveries: list[Any] = []  # tests.fakehub.webhooks.Delivery
        self.keep_log = True  # False: only the totals below (memory flat over a long benchmark)
        self.totals: dict[str, int] = {"api_calls": 0, "file_calls": 0, "cdn_calls": 0, "file_bytes": 0,
                                       "api_bytes": 0, "rate_limited": 0}  # fmt: skip

    def record(self, req: Request) -> None:
        if self.keep_log:
            with self.lock:
                self.log.append(req)

    def account(self, req: Request, body_bytes: int) -> None:
        """Add an answer to the totals (API calls, file calls, bytes, 429s), before its body is written
        (so a client that has its answer sees it counted)."""
        with self.lock:
            t = self.totals
            if req.status == 429:
                t["rate_limited"] += 1
            content = body_bytes if req.status in (200, 206) else 0  # not error bodies
            if req.server == "cdn":
                t["cdn_calls"] += 1
                t["file_bytes"] += content
            elif "/resolve/" in req.path:
                t["file_calls"] += 1
                t["file_bytes"] += content
            else:
                t["api_calls"] += 1
                t["api_bytes"] += body_bytes

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.match in path:
                    fault.remaining -= 1
                    return fault
        return None

    def take_hostile(self, path: str) -> Any:
        with self.lock:
            for hostile in self.hostile:
                if hostile.match in path and (hostile.remaining is None or hostile.remaining > 0):
                    if hostile.remaining is not None:
                        hostile.remaining -= 1
                    return hostile
        return None

    def delay_for(self, path: str) -> float:
        with self.lock:
            return max((sec for sec, match in self.delays if match in path), default=0.0)


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _error(status: int, code: str | None, message: str) -> _Reply:
    headers = {"X-Error-Message": message}
    if code:
        headers["X-Error-Code"] = code
    return _Reply(status, {"error": message}, headers)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall
    server_name_tag = "hub"
    state: State  # set on the subclass per server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr log; the request log is ``State.log``."""

    # --- plumbing
    def _start(self) -> tuple[Request, str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        req = Request(
            server=self.server_name_tag,
            method=self.command,
            path=unquote(parts.path),
            query=query,
            range=self.headers.get("Range"),
            authorization=self.headers.get("Authorization"),
        )
        return req, parts.path, query

    def _handle(self) -> None:
        req, raw_path, query = self._start()
        # Logged first and counted before each write, so a client that has its answer sees it in the log.
        self.state.record(req)
        self._limit_headers: dict[str, str] = {}
        try:
            if self.state.rate is not None and self.server_name_tag == "hub":
                verdict = self.state.rate.check(req.path, req.authorization or "")
                if verdict is not None:
                    self._limit_headers = verdict.headers
                    if not verdict.allowed:
                        raise _Reply(429, {"error": "You have exceeded the rate limit."}, {})
            delay = self.state.delay_for(req.path)
            if delay:
                time.sleep(delay)
            fault = self.state.take_fault(req.path)
            if fault is not None:
                headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                raise _Reply(fault.status, {"error": f"injected {fault.status}"}, headers)
            hostile = self.state.take_hostile(req.path)
            if hostile is not None:
                from tests.fakehub.hostile import serve

                serve(self, req, hostile)
                return
            self.route(req, raw_path, query)
        except _Reply as reply:
            self._send_json(req, reply.status, reply.body, reply.headers)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def end_headers(self) -> None:
        for k, v in getattr(self, "_limit_headers", {}).items():
            self.send_header(k, v)
        super().end_headers()

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        return auth[7:] if auth.lower().startswith("bearer ") else None

    def _send_json(self, req: Request, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        req.status = status
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.state.account(req, 0 if self.command == "HEAD" else len(data))
            self.end_headers()
            if self.command != "HEAD":
                req.body_bytes = len(data)
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _read_form(self) -> dict[str, list[str]]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            data = json.loads(body or "{}")
            return {k: (v if isinstance(v, list) else [str(v)]) for k, v in data.items()}
        return parse_qs(body, keep_blank_values=True)

    def send_file(self, req: Request, entry: Entry, commit: Commit, extra: dict[str, str]) -> None:
        """Serve a file with ``Range`` support (206), through ``sendfile`` for big bodies."""
        size = entry.size
        start, end = 0, size - 1
        status = 200
        rng = self.headers.get("Range")
        if rng and size > 0:
            parsed = _parse_range(rng, size)
            if parsed is None:
                raise _Reply(416, {"error": "bad range"}, {"Content-Range": f"bytes */{size}"})
            start, end = parsed
            status = 206
        length = max(0, end - start + 1)
        etag = f'"{entry.lfs_oid or entry.blob_id}"'
        req.status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("X-Repo-Commit", commit.sha)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        for k, v in extra.items():
            self.send_header(k, v)
        self.state.account(req, 0 if self.command == "HEAD" else length)
        self.end_headers()
        if self.command == "HEAD" or length == 0:
            return
        self.wfile.flush()
        if entry.blob is not None:
            offset, remaining = start, length
            while remaining > 0:
                piece = entry.blob.read(offset, min(remaining, 1 << 20))
                req.body_bytes += len(piece)
                self.wfile.write(piece)
                offset += len(piece)
                remaining -= len(piece)
            return
        assert entry.disk is not None
        with open(entry.disk, "rb") as fh:
            offset, remaining = start, length
            while remaining > 0:
                chunk = min(remaining, 8 << 20)
                req.body_bytes += chunk
                try:
                    sent = self.connection.sendfile(fh, offset, chunk)
                except OSError:
                    req.body_bytes -= chunk
                    raise
                req.body_bytes -= chunk - sent
                if not sent:
                    break
                offset += sent
                remaining -= sent

    def route(self, req: Request, raw_path: str, query: dict[str, list[str]]) -> None:
        raise NotImplementedError


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes":
        return None
    first = spec.split(",")[0].strip()
    a, _, b = first.partition("-")
    try:
        if a == "":
            n = int(b)
            if n <= 0:
                return None
            return max(0, size - n), size - 1
        start = int(a)
        end = int(b) if b else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


def _flag(query: dict[str, list[str]], name: str) -> bool:
    values = query.get(name) or query.get(f"{name}[]") or []
    return any(v.lower() in ("1", "true", "yes") for v in values)


class HubHandler(Handler):
    server_name_tag = "hub"

    def _repo(self, repo_type: str, repo_id: str, *, files: bool = False) -> Repo:
        try:
            repo = self.state.backend.open(repo_type, repo_id)
        except NotFound as exc:
            raise _error(404 if self._token() else 401, "RepoNotFound", str(exc)) from exc
        token = self._token()
        if repo.private and not repo.token_allowed(token):
            raise _error(404 if token else 401, "RepoNotFound", "Repository not found")
        if repo.settings.get("disabled"):
            raise _error(403, None, "Access to this resource is disabled.")
        if files and repo.gated and not repo.token_allowed(token):
            message = f"Access to {repo_type} {repo_id} is restricted. You must have access to it and be authenticated to access it. Please log in."
            raise _error(403 if token else 401, "GatedRepo", message)
        return repo

    def _resolve(self, repo: Repo, rev: str | None) -> Commit:
        try:
            return repo.resolve(rev)
        except NotFound as exc:
            raise _error(404, exc.code, str(exc)) from exc

    def route(self, req: Request, raw_path: str, query: dict[str, list[str]]) -> None:
        segs = [unquote(s) for s in raw_path.strip("/").split("/")]
        if segs[:2] == ["api", "agent-harnesses"]:
            raise _Reply(200, {"standardEnvVars": [], "harnesses": {}})
        if len(segs) == 2 and segs[0] == "api" and segs[1] in ("models", "datasets") and self.command == "GET":
            self._list(segs[1][:-1], query)
            return
        if len(segs) >= 3 and segs[0] == "api" and segs[1] in ("models", "datasets"):
            self._api(segs[1][:-1], segs[2:], query)
            return
        repo_type = "model"
        if segs and segs[0] == "datasets":
            repo_type, segs = "dataset", segs[1:]
        for i in (2, 1):
            if len(segs) > i + 2 and segs[i] == "resolve" and self.command in ("GET", "HEAD"):
                self._resolve_file(req, repo_type, "/".join(segs[:i]), segs[i + 1], "/".join(segs[i + 2 :]))
                return
        raise _error(404, None, f"no route for {req.method} {req.path}")

    def _api(self, repo_type: str, segs: list[str], query: dict[str, list[str]]) -> None:
        if len(segs) >= 2 and segs[1] not in API_KEYWORDS:
            repo_id, rest = "/".join(segs[:2]), segs[2:]
        else:
            repo_id, rest = segs[0], segs[1:]
        kind = rest[0] if rest else ""
        if kind in ("", "revision") and self.command == "GET":
            repo = self._repo(repo_type, repo_id)
            commit = self._resolve(repo, rest[1] if len(rest) > 1 else None)
            raise _Reply(200, self._info(repo, commit, _flag(query, "securityStatus")))
        if kind == "refs" and self.command == "GET":
            repo = self._repo(repo_type, repo_id)
            refs = {
                "branches": [
                    {"name": n, "ref": f"refs/heads/{n}", "targetCommit": c.sha} for n, c in repo.branches().items()
                ],
                "converts": [],
                "tags": [{"name": n, "ref": f"refs/tags/{n}", "targetCommit": c.sha} for n, c in repo.tags().items()],
            }
            raise _Reply(200, refs)
        if kind == "tree" and len(rest) >= 2 and self.command == "GET":
            repo = self._repo(repo_type, repo_id)
            commit = self._resolve(repo, rest[1])
            expand = _flag(query, "expand")
            try:
                items = repo.tree(commit, "/".join(rest[2:]), _flag(query, "recursive"), expand)
            except NotFound as exc:
                raise _error(404, exc.code, str(exc)) from exc
            size = self.state.tree_expand_page_size if expand else self.state.tree_page_size
            listed: Sequence[Any] = items
            if self.state.tree_padding or self.state.tree_extra:
                from tests.fakehub.hostile import Padded

                listed = Padded(self.state.tree_padding, [*items, *self.state.tree_extra])
            self._paged(listed, size, query, "cursor")
        if kind == "commits" and len(rest) >= 2 and self.command == "GET":
            repo = self._repo(repo_type, repo_id)
            commit = self._resolve(repo, rest[1])
            self._paged([c.to_json() for c in repo.history(commit)], self.state.commits_page_size, query, "p")
        if kind == "paths-info" and len(rest) >= 2 and self.command == "POST":
            repo = self._repo(repo_type, repo_id)
            commit = self._resolve(repo, rest[1])
            form = self._read_form()
            expand = any(v.lower() in ("1", "true") for v in form.get("expand", []))
            raise _Reply(200, repo.paths_info(commit, form.get("paths", []), expand))
        raise _error(404, None, f"no API route for {self.command} {'/'.join(segs)}")

    def _list(self, repo_type: str, query: dict[str, list[str]]) -> None:
        page = list_page(self.state.backend, repo_type, query, self._token(), self.state.list_page_size)
        headers = {}
        if page.next_cursor is not None:
            others = "&".join(f"{quote(k)}={quote(v)}" for k, vs in query.items() if k != "cursor" for v in vs)
            sep = "&" if others else ""
            url = f"{self.state.hub_url}/api/{repo_type}s?{others}{sep}cursor={page.next_cursor}"
            headers["Link"] = f'<{url}>; rel="next"'
        raise _Reply(200, page.items, headers)

    def _paged(self, items: Sequence[Any], size: int, query: dict[str, list[str]], param: str) -> None:
        page = int((query.get(param) or ["0"])[0] or 0)
        chunk = items[page * size : (page + 1) * size]
        headers = {}
        if (page + 1) * size < len(items):
            parts = urlsplit(self.path)
            others = "&".join(f"{quote(k)}={quote(v)}" for k, vs in query.items() if k != param for v in vs)
            sep = "&" if others else ""
            headers["Link"] = f'<{self.state.hub_url}{parts.path}?{others}{sep}{param}={page + 1}>; rel="next"'
        raise _Reply(200, chunk, headers)

    def _info(self, repo: Repo, commit: Commit, security: bool) -> dict[str, Any]:
        entries = repo.entries(commit)
        author = repo.repo_id.split("/")[0] if "/" in repo.repo_id else None
        data: dict[str, Any] = {
            "_id": commit.sha[:24],
            "id": repo.repo_id,
            "author": author,
            "sha": commit.sha,
            "lastModified": commit.date,
            "createdAt": repo.commits[0].date,
            "private": repo.private,
            "gated": repo.gated,
            "disabled": bool(repo.settings.get("disabled", False)),
            "downloads": 0,
            "likes": 0,
            "tags": list(repo.settings.get("tags_meta", [])),
            "siblings": [{"rfilename": e.path} for e in entries],
        }
        if repo.repo_type == "model":
            data["modelId"] = repo.repo_id
        if security:
            status = repo.settings.get("security")
            if status is None:
                unsafe = [e.path for e in entries if e.security and e.security.get("status") == "unsafe"]
                status = {"scansDone": True, "filesWithIssues": [{"path": p, "level": "unsafe"} for p in unsafe]}
            data["securityRepoStatus"] = status
        return data

    def _resolve_file(self, req: Request, repo_type: str, repo_id: str, rev: str, path: str) -> None:
        repo = self._repo(repo_type, repo_id, files=True)
        commit = self._resolve(repo, rev)
        try:
            entry = repo.entry(commit, path)
        except NotFound as exc:
            raise _Reply(
                404,
                {"error": str(exc)},
                {"X-Error-Code": "EntryNotFound", "X-Error-Message": str(exc), "X-Repo-Commit": commit.sha},
            ) from exc
        if entry.lfs_oid is not None:
            location = f"{self.state.cdn_url}/{repo_type}s/{repo_id}/{commit.sha}/{quote(path)}"
            raise _Reply(
                302,
                None,
                {
                    "Location": location,
                    "X-Repo-Commit": commit.sha,
                    "X-Linked-Etag": f'"{entry.lfs_oid}"',
                    "X-Linked-Size": str(entry.size),
                    "ETag": f'"{entry.blob_id}"',
                },
            )
        self.send_file(req, entry, commit, {})


class CdnHandler(Handler):
    server_name_tag = "cdn"

    def route(self, req: Request, raw_path: str, query: dict[str, list[str]]) -> None:
        segs = [unquote(s) for s in raw_path.strip("/").split("/")]
        if self.command not in ("GET", "HEAD") or len(segs) < 5 or segs[0] not in ("models", "datasets"):
            raise _Reply(404, {"error": "no such object"})
        repo_type = segs[0][:-1]
        # {type}s/{org}/{name}/{sha}/{path...}; ids without an org have one segment less.
        for id_len in (2, 1):
            repo_id, sha, path = "/".join(segs[1 : 1 + id_len]), segs[1 + id_len], "/".join(segs[2 + id_len :])
            try:
                repo = self.state.backend.open(repo_type, repo_id)
                commit = repo.resolve(sha)
                entry = repo.entry(commit, path)
            except NotFound:
                continue
            self.send_file(req, entry, commit, {})
            return
        raise _Reply(404, {"error": "no such object"})


def start_server(handler: type[Handler], state: State, port: int = 0) -> ThreadingHTTPServer:
    cls = type(handler.__name__, (handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", port), cls)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"fakehub-{handler.server_name_tag}",
        daemon=True,
    )
    thread.start()
    return server
