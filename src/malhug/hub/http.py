"""The Hub's HTTP API, with a time-out on every request, bounded retries and clear errors.

Requests go through ``httpx2`` (huggingface_hub's own HTTP library) rather than ``HfApi``'s methods:
``list_repo_tree`` and friends take no time-out (the shared client waits forever on a stalled server)
and retry a 429 up to five times with sleeps nobody can cancel, which an editor cannot afford. The
JSON they return is parsed with huggingface_hub's own types (``RepoFile``, ``GitCommitInfo``).

The token goes to the Hub origin only: LFS content is 302-redirected to a CDN origin, which receives
no ``Authorization`` header. Nothing here logs a token, and errors have it blanked out whatever a
server echoes. The endpoint is not trusted to be finite or well-formed: every answer is bounded
(``bounded.Bounds``: bytes per kind of answer, JSON values and nesting, pages, redirects to http(s)
only, and a total deadline per request enforced on every socket read, ``deadline.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx2

from malhug import __version__
from malhug.hub.bounded import (
    DEFAULT_BOUNDS,
    Bounds,
    HubError,
    check_encoding,
    clean_text,
    content_length,
    content_range_start,
    next_page,
    parse_json,
    redirect_target,
)
from malhug.hub.budget import Meter, call_bucket
from malhug.hub.deadline import set_deadline
from malhug.hub.deadline import transport as deadline_transport

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)


def repo_url_prefix(repo_type: str) -> str:
    return "datasets/" if repo_type == "dataset" else ""


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _retry_after(headers: httpx2.Headers) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def new_session(timeout: float) -> httpx2.Client:
    """An HTTP client for the Hub (thread-safe; making one costs tens of milliseconds, so it is shared)."""
    return httpx2.Client(
        transport=deadline_transport(),
        timeout=httpx2.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": f"malhug/{__version__}", "Accept-Encoding": "identity"},
    )


@dataclass
class Cut:
    """How a paginated list ended: ``truncated`` when items were left unread (``reason`` says why)."""

    count: int = 0
    truncated: bool = False
    reason: str = ""


class HubHttp:
    """One Hub endpoint: JSON API calls and file reads, counting the bytes received.

    Every answer is bounded (``bounds``): bytes per kind of answer, JSON values and nesting, pages,
    redirects, and a deadline per request that a slow body cannot stretch (checked between reads,
    each read bounded by the socket time-out). The token goes only to the endpoint's own origin and
    is blanked out of every error message.
    """

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_wait: float = 10.0,
        cancel: threading.Event | None = None,
        session: httpx2.Client | None = None,
        bounds: Bounds = DEFAULT_BOUNDS,
        meter: Meter | None = None,
    ):
        """``session``: a shared client (from ``new_session``) kept open by its owner; else one of our own.
        ``meter``: a rate budget asked before every request and told every answer (``malhug.hub.budget``)."""
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.cancel = cancel
        self.bounds = bounds
        self.meter = meter
        self.api_bytes = 0  # JSON received from the API
        self.file_bytes = 0  # file content received (resolve + CDN)
        self._lock = threading.Lock()
        self._owned = session is None
        self._client = session if session is not None else new_session(timeout)

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def __enter__(self) -> HubHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing
    def _headers_for(self, url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self._token and _origin(url) == _origin(self.endpoint):
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    @contextmanager
    def _redacted(self) -> Iterator[None]:
        """Errors leave with the token blanked out, whatever a server echoed into them; the request's
        deadline ends with the call."""
        try:
            yield
        except HubError as exc:
            if self._token and self._token in exc.message:
                exc.message = exc.message.replace(self._token, "hf_***")
                exc.args = (exc.message,)
            raise
        finally:
            set_deadline(None)

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise HubError("cancelled", "the scan was cancelled")

    def _count(self, n: int, *, file: bool) -> None:
        with self._lock:
            if file:
                self.file_bytes += n
            else:
                self.api_bytes += n

    def send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        what: str,
    ) -> tuple[httpx2.Response, float]:
        """One request, retried on 429/5xx honouring ``Retry-After`` (bounded); errors become ``HubError``.

        Returns the response with its body unread (the caller reads it with ``read_body`` and closes
        it) and the monotonic time by which the body must have arrived.
        """
        origin = "{}://{}".format(*_origin(url))
        attempt = 0
        while True:
            self.check_cancel()
            attempt += 1
            bucket = call_bucket(self.endpoint, url)
            if self.meter is not None:
                self.meter.before(bucket)
            deadline = time.monotonic() + self.bounds.deadline
            set_deadline(deadline)
            try:
                request = self._client.build_request(
                    method, url, params=params, data=data, headers=self._headers_for(url, headers)
                )
                response = self._client.send(request, stream=True)
            except httpx2.TimeoutException as exc:
                raise HubError(
                    "timeout", self._late(deadline, f"{origin} did not answer within {self.timeout:g}s", what)
                ) from exc
            except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
                detail = clean_text(str(exc), 200)
                raise HubError("network", f"cannot reach {origin} ({what}): {type(exc).__name__}: {detail}") from exc
            if self.meter is not None:
                self.meter.after(bucket, response.status_code, response.headers)
            if response.status_code not in RETRY_STATUSES:
                return response, deadline
            wait = _retry_after(response.headers)
            if wait is None:
                wait = min(self.max_wait, 0.5 * 2 ** (attempt - 1))
            if attempt > self.max_retries or wait > self.max_wait:
                return response, deadline
            response.close()
            log.info(
                "%s answered %d; retry %d/%d in %.1fs", what, response.status_code, attempt, self.max_retries, wait
            )
            if self.cancel is not None:
                if self.cancel.wait(wait):
                    raise HubError("cancelled", "the scan was cancelled")
            else:
                time.sleep(wait)

    def read_body(
        self, response: httpx2.Response, *, cap: int, deadline: float, what: str, file: bool, truncate: bool = False
    ) -> bytes:
        """At most ``cap`` bytes of the body before ``deadline``.

        ``truncate``: a longer body is cut at ``cap`` (file reads ask for a length); otherwise a body
        over ``cap`` is an error (an API answer must be whole).
        """
        set_deadline(deadline)
        check_encoding(response.headers, what)
        declared = content_length(response.headers, what)
        if declared is not None and declared > cap and not truncate:
            raise HubError("limit", f"the server announces {declared} bytes for {what}, more than the bound of {cap}")
        body = bytearray()
        try:
            for chunk in response.iter_raw():
                body += chunk
                if len(body) > cap and not truncate:
                    raise HubError("limit", f"the answer for {what} is larger than the bound of {cap} bytes")
                if len(body) >= cap and truncate:
                    break
                if time.monotonic() > deadline:
                    raise HubError(
                        "timeout", f"{what} took longer than {self.bounds.deadline:g}s to arrive (slow or endless)"
                    )
                self.check_cancel()
        except httpx2.TimeoutException as exc:
            raise HubError(
                "timeout", self._late(deadline, f"reading {what} stalled for more than {self.timeout:g}s", what)
            ) from exc
        except httpx2.HTTPError as exc:
            detail = clean_text(str(exc), 200)
            raise HubError("network", f"reading {what} failed: {type(exc).__name__}: {detail}") from exc
        finally:
            self._count(len(body), file=file)
        return bytes(body[:cap])

    def _late(self, deadline: float, stalled: str, what: str) -> str:
        """The message of a time-out: the request's deadline passed, or one read stalled."""
        if time.monotonic() >= deadline - 0.01:
            return f"{what} took longer than {self.bounds.deadline:g}s to arrive (slow or endless)"
        return stalled if what in stalled else f"{stalled} ({what})"

    def _drain_error(self, response: httpx2.Response, deadline: float, what: str) -> None:
        """Read a little of an error answer (its headers say what went wrong), never all of it."""
        try:
            self.read_body(
                response, cap=self.bounds.error_bytes, deadline=deadline, what=what, file=False, truncate=True
            )
        except HubError as exc:
            log.debug("error body of %s not read: %s", what, exc.message)

    # --- JSON API
    def api(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        with self._redacted():
            response, deadline = self.send(method, f"{self.endpoint}{path}", params=params, data=data, what=what)
            try:
                return self._json(response, deadline, what, self.bounds.api_bytes, self.bounds.api_items)
            finally:
                response.close()

    def _json(self, response: httpx2.Response, deadline: float, what: str, cap: int, items: int) -> Any:
        if response.status_code >= 300:
            self._drain_error(response, deadline, what)
            raise_for_status(response, what)
            raise HubError("network", f"the Hub answered {response.status_code} for {what}", response.status_code)
        body = self.read_body(response, cap=cap, deadline=deadline, what=what, file=False)
        return parse_json(body, max_items=items, max_depth=self.bounds.json_depth, what=what)

    def paginate(
        self,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        limit: int | None = None,
        cut: Cut | None = None,
    ) -> Iterator[Any]:
        """Items of a paginated list (``Link: <…>; rel="next"``), stopping after ``limit`` items or
        ``bounds.max_pages`` pages; ``cut`` records whether items were left unread."""
        cut = cut if cut is not None else Cut()
        url: str | None = f"{self.endpoint}{path}"
        pages = 0
        with self._redacted():
            while url is not None:
                if pages >= self.bounds.max_pages:
                    cut.truncated, cut.reason = True, f"the list has more than {self.bounds.max_pages} pages"
                    return
                response, deadline = self.send("GET", url, params=params if pages == 0 else None, what=what)
                pages += 1
                try:
                    page = self._json(response, deadline, what, self.bounds.page_bytes, self.bounds.page_items)
                    nxt = next_page(url, response.links.get("next", {}).get("url"), self.endpoint, what)
                finally:
                    response.close()
                if not isinstance(page, list):
                    raise HubError("network", f"unexpected answer for {what}: not a list")
                for item in page:
                    if limit is not None and cut.count >= limit:
                        cut.truncated, cut.reason = True, f"the list stops being read at {limit} entries"
                        return
                    cut.count += 1
                    yield item
                if limit is not None and cut.count >= limit and nxt is not None:
                    cut.truncated, cut.reason = True, f"the list stops being read at {limit} entries"
                    return
                url = nxt

    # --- files
    def file_url(self, repo_type: str, repo_id: str, commit: str, path: str) -> str:
        return f"{self.endpoint}/{repo_prefix_id(repo_type, repo_id)}/resolve/{quote(commit, safe='')}/{quote(path)}"

    def get_bytes(
        self, url: str, *, what: str, start: int | None = None, end: int | None = None, max_bytes: int | None = None
    ) -> tuple[bytes, str]:
        """The body of ``url`` (bytes ``start..end`` inclusive when given), following redirects by hand.

        Returns the body and the final URL (the CDN location for LFS files, to reuse for later ranges).
        Reads stop at the requested length (or ``max_bytes``, or ``bounds.file_bytes``) even when a
        server sends more; a range answered from the wrong offset is an error.
        """
        headers = {}
        wanted = max_bytes if max_bytes is not None else self.bounds.file_bytes
        if start is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end}"
            if end is not None:
                wanted = min(end - start + 1, wanted)
        with self._redacted():
            for _ in range(self.bounds.max_redirects + 1):
                self.check_cancel()
                response, deadline = self.send("GET", url, headers=headers, what=what)
                try:
                    if response.is_redirect:
                        location = response.headers.get("Location")
                        if not location:
                            raise HubError("network", f"the server redirected {what} without a location")
                        url = redirect_target(url, location, what)
                        continue
                    if response.status_code >= 300:
                        self._drain_error(response, deadline, what)
                        raise_for_status(response, what)
                        raise HubError("network", f"the server answered {response.status_code} for {what}")
                    if start is not None and response.status_code == 200 and start > 0:
                        raise HubError("network", f"the server ignored the byte range for {what}")
                    if start is not None and response.status_code == 206:
                        first = content_range_start(response.headers, what)
                        if first != start:
                            raise HubError("network", f"the server answered {what} from byte {first}, asked {start}")
                    elif response.status_code != 200:
                        raise HubError("network", f"unexpected answer {response.status_code} for {what}")
                    body = self.read_body(response, cap=wanted, deadline=deadline, what=what, file=True, truncate=True)
                    return body, url
                finally:
                    response.close()
            raise HubError("network", f"too many redirects for {what} (more than {self.bounds.max_redirects})")


def repo_prefix_id(repo_type: str, repo_id: str) -> str:
    return f"{repo_url_prefix(repo_type)}{repo_id}"


def raise_for_status(response: httpx2.Response, what: str) -> None:
    """Map an error answer to a ``HubError`` with a message that says what to do."""
    status = response.status_code
    if status < 400:
        return
    code = response.headers.get("X-Error-Code", "")
    server_msg = clean_text(response.headers.get("X-Error-Message", ""))
    authed = "Authorization" in response.request.headers
    if code == "RevisionNotFound":
        raise HubError(
            "revision-not-found", f"revision not found: {what} (check the branch, tag or full commit sha)", status
        )
    if code == "EntryNotFound":
        raise HubError("entry-not-found", f"file not found: {what}", status)
    if code == "GatedRepo":
        if authed:
            raise HubError(
                "gated",
                f"{what}: gated repository and your token has not been granted access; accept its conditions on the Hub",
                status,
            )
        raise HubError(
            "gated",
            f"{what}: gated repository; accept its conditions on the Hub, then set HF_TOKEN or run `hf auth login`",
            status,
        )
    if code == "RepoNotFound" or (status == 401 and server_msg != "Invalid credentials in Authorization header"):
        hint = (
            "check the name, or your token's access"
            if authed
            else "if it is private, set HF_TOKEN or run `hf auth login`"
        )
        raise HubError("not-found", f"repository not found: {what} ({hint})", status)
    if status in (401, 403):
        detail = f": {server_msg}" if server_msg else ""
        raise HubError("unauthorized", f"access denied ({status}) for {what}{detail}; check HF_TOKEN", status)
    if status == 429:
        wait = _retry_after(response.headers)
        after = f"; the Hub asks to wait {wait:g}s" if wait is not None else ""
        raise HubError("rate-limited", f"rate limited by the Hub (429) for {what} after retrying{after}", status)
    if status == 404:
        raise HubError("not-found", f"not found (404): {what}", status)
    raise HubError("network", f"the Hub answered {status} for {what}", status)
