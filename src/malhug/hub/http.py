"""The Hub's HTTP API, with a time-out on every request, bounded retries and clear errors.

Requests go through ``httpx2`` (huggingface_hub's own HTTP library) rather than ``HfApi``'s methods:
``list_repo_tree`` and friends take no time-out (the shared client waits forever on a stalled server)
and retry a 429 up to five times with sleeps nobody can cancel, which an editor cannot afford. The
JSON they return is parsed with huggingface_hub's own types (``RepoFile``, ``GitCommitInfo``).

The token goes to the Hub origin only: LFS content is 302-redirected to a CDN origin, which receives
no ``Authorization`` header. Nothing here logs a token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx2

from malhug import __version__

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)


class HubError(Exception):
    """A failure the user must read: ``kind`` is one of ``RepoScan.error_kind``'s values."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


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
        timeout=httpx2.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": f"malhug/{__version__}", "Accept-Encoding": "identity"},
    )


class HubHttp:
    """One Hub endpoint: JSON API calls and file reads, counting the bytes received."""

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
    ):
        """``session``: a shared client (from ``new_session``) kept open by its owner; else one of our own."""
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.cancel = cancel
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
        stream: bool = False,
    ) -> httpx2.Response:
        """One request, retried on 429/5xx honouring ``Retry-After`` (bounded); errors become ``HubError``.

        With ``stream`` the body is left to the caller (who closes the response); otherwise it is read.
        """
        origin = "{}://{}".format(*_origin(url))
        attempt = 0
        while True:
            self.check_cancel()
            attempt += 1
            try:
                request = self._client.build_request(
                    method, url, params=params, data=data, headers=self._headers_for(url, headers)
                )
                response = self._client.send(request, stream=stream)
            except httpx2.TimeoutException as exc:
                raise HubError("timeout", f"{origin} did not answer within {self.timeout:g}s ({what})") from exc
            except httpx2.HTTPError as exc:
                raise HubError("network", f"cannot reach {origin} ({what}): {type(exc).__name__}: {exc}") from exc
            if response.status_code not in RETRY_STATUSES:
                return response
            wait = _retry_after(response.headers)
            if wait is None:
                wait = min(self.max_wait, 0.5 * 2 ** (attempt - 1))
            if attempt > self.max_retries or wait > self.max_wait:
                if stream:
                    response.read()
                return response
            response.close()
            log.info(
                "%s answered %d; retry %d/%d in %.1fs", what, response.status_code, attempt, self.max_retries, wait
            )
            if self.cancel is not None:
                if self.cancel.wait(wait):
                    raise HubError("cancelled", "the scan was cancelled")
            else:
                time.sleep(wait)

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
        return self._json(self.send(method, f"{self.endpoint}{path}", params=params, data=data, what=what), what)

    def _json(self, response: httpx2.Response, what: str) -> Any:
        self._count(len(response.content), file=False)
        raise_for_status(response, what)
        try:
            return response.json()
        except ValueError as exc:
            raise HubError("network", f"the Hub sent invalid JSON for {what}") from exc

    def paginate(
        self, path: str, *, what: str, params: dict[str, Any] | None = None, limit: int | None = None
    ) -> Iterator[Any]:
        """Items of a paginated list (``Link: <…>; rel="next"``), stopping after ``limit`` items."""
        url: str | None = f"{self.endpoint}{path}"
        count = 0
        first = True
        while url is not None:
            response = self.send("GET", url, params=params if first else None, what=what)
            first = False
            page = self._json(response, what)
            if not isinstance(page, list):
                raise HubError("network", f"unexpected answer for {what}: not a list")
            for item in page:
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return
            nxt = response.links.get("next", {}).get("url")
            url = urljoin(url, nxt) if nxt else None

    # --- files
    def file_url(self, repo_type: str, repo_id: str, commit: str, path: str) -> str:
        return f"{self.endpoint}/{repo_prefix_id(repo_type, repo_id)}/resolve/{quote(commit, safe='')}/{quote(path)}"

    def get_bytes(
        self, url: str, *, what: str, start: int | None = None, end: int | None = None, max_bytes: int | None = None
    ) -> tuple[bytes, str]:
        """The body of ``url`` (bytes ``start..end`` inclusive when given), following redirects by hand.

        Returns the body and the final URL (the CDN location for LFS files, to reuse for later ranges).
        Reads stop at the requested length (or ``max_bytes``) even when a server sends more.
        """
        headers = {}
        wanted = max_bytes
        if start is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end}"
            if end is not None:
                wanted = min(end - start + 1, max_bytes) if max_bytes is not None else end - start + 1
        for _ in range(5):
            self.check_cancel()
            response = self.send("GET", url, headers=headers, what=what, stream=True)
            try:
                if response.is_redirect and "Location" in response.headers:
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status_code >= 400:
                    response.read()
                    raise_for_status(response, what)
                if start is not None and response.status_code == 200 and start > 0:
                    raise HubError("network", f"the server ignored the byte range for {what}")
                body = bytearray()
                try:
                    for chunk in response.iter_bytes():
                        body += chunk
                        if wanted is not None and len(body) >= wanted:
                            break
                except httpx2.TimeoutException as exc:
                    raise HubError("timeout", f"reading {what} stalled for more than {self.timeout:g}s") from exc
                except httpx2.HTTPError as exc:
                    raise HubError("network", f"reading {what} failed: {type(exc).__name__}: {exc}") from exc
                finally:
                    self._count(len(body), file=True)
                return bytes(body if wanted is None else body[:wanted]), url
            finally:
                response.close()
        raise HubError("network", f"too many redirects for {what}")


def repo_prefix_id(repo_type: str, repo_id: str) -> str:
    return f"{repo_url_prefix(repo_type)}{repo_id}"


def raise_for_status(response: httpx2.Response, what: str) -> None:
    """Map an error answer to a ``HubError`` with a message that says what to do."""
    status = response.status_code
    if status < 400:
        return
    code = response.headers.get("X-Error-Code", "")
    server_msg = response.headers.get("X-Error-Message", "")
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
