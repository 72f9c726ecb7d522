"""``HubClient``: scan a Hub repository revision, instantly from caches when possible; find a safe revision.

Used by the CLI (``malhug scan hf:…``) and the language server. No method raises for Hub trouble:
errors come back in ``RepoScan.error``/``error_kind`` (and ``SafeRevision.error``) with a message
that says what to do.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import replace
from typing import Any, Final

from malhug.hub import localcache, select
from malhug.hub.cache import VerdictCache
from malhug.hub.http import HubError, HubHttp
from malhug.hub.remote import FULL_SHA, RemoteFile, file_security, list_commits, list_files, revision_info
from malhug.hub.scanner import REPO_LEVEL_ERRORS, Job, Progress, scan_revision
from malhug.hub.settings import HubSettings, redact
from malhug.hub.types import RepoScan, RepoType, SafeRevision

log = logging.getLogger(__name__)

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[\w.-]{1,96})?$")
DEFAULT_MAX_DOWNLOAD = 50 * 2**20


def _kind(repo_type: str) -> RepoType:
    return "dataset" if repo_type == "dataset" else "model"


class _Default:
    def __repr__(self) -> str:
        return "<default sqlite verdict cache>"


DEFAULT_CACHE: Final = _Default()


class HubClient:
    """Scans Hub repositories; settings not given here are read from the environment at each call.

    ``verdict_cache``: the default is the shared SQLite cache (``MALHUG_CACHE_DIR`` or the user cache
    folder); pass ``None`` to scan without any verdict cache.
    """

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        token: str | None = None,
        offline: bool | None = None,
        cache_dir: str | None = None,
        max_download: int = DEFAULT_MAX_DOWNLOAD,
        history_depth: int = 20,
        verdict_cache: VerdictCache | None | _Default = DEFAULT_CACHE,
        timeout: float = 10.0,
    ):
        self._endpoint = endpoint
        self._token = token
        self._offline = offline
        self._cache_dir = cache_dir
        self.max_download = max_download
        self.history_depth = history_depth
        self.verdicts: VerdictCache | None = VerdictCache() if isinstance(verdict_cache, _Default) else verdict_cache
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"HubClient(endpoint={self._endpoint!r}, offline={self._offline}, max_download={self.max_download})"

    def settings(self) -> HubSettings:
        return HubSettings.resolve(
            endpoint=self._endpoint, token=self._token, offline=self._offline, cache_dir=self._cache_dir
        )

    def _http(self, s: HubSettings, cancel: threading.Event | None) -> HubHttp:
        return HubHttp(s.endpoint, s.token, timeout=self.timeout, cancel=cancel)

    def _job(self, s: HubSettings, repo_type: str, repo_id: str, commit: str, **kw: Any) -> Job:
        return Job(
            repo_type=repo_type,
            repo_id=repo_id,
            commit=commit,
            cache_dir=s.cache_dir,
            max_download=self.max_download,
            verdicts=self.verdicts,
            **kw,
        )

    # --- scanning
    def scan_repo(
        self,
        repo_id: str,
        repo_type: RepoType | str = "model",
        revision: str | None = None,
        *,
        on_progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> RepoScan:
        """Our verdict on ``repo_id@revision`` (default branch when None)."""
        s = self.settings()
        started = time.monotonic()
        try:
            if not REPO_ID.match(repo_id) or repo_type not in ("model", "dataset"):
                raise HubError("not-found", f"not a valid {repo_type} id: {repo_id!r} (expected ORG/NAME)")
            scan = (
                self._scan_offline(s, repo_id, repo_type, revision, on_progress, cancel)
                if s.offline
                else self._scan_online(s, repo_id, repo_type, revision, on_progress, cancel)
            )
        except HubError as exc:
            scan = RepoScan(
                repo_id=repo_id,
                repo_type=_kind(repo_type),
                revision=revision,
                commit_sha=None,
                error=redact(exc.message, s.token),
                error_kind=exc.kind,
            )
        except Exception as exc:
            log.exception("scan of %s %s@%s failed", repo_type, repo_id, revision)
            scan = RepoScan(
                repo_id=repo_id,
                repo_type=_kind(repo_type),
                revision=revision,
                commit_sha=None,
                error=redact(f"internal error: {exc!r}", s.token),
                error_kind="internal",
            )
        log.debug("scanned %s@%s in %.3fs: %s", repo_id, revision, time.monotonic() - started, scan.verdict.value)
        return scan

    def _scan_online(
        self,
        s: HubSettings,
        repo_id: str,
        repo_type: str,
        revision: str | None,
        on_progress: Progress | None,
        cancel: threading.Event | None,
    ) -> RepoScan:
        if revision is not None and FULL_SHA.match(revision) and self.verdicts is not None:
            hit = self.verdicts.get_repo(repo_type, repo_id, revision, self.max_download)
            if hit is not None:
                return _from_cache(hit, revision)
        with self._http(s, cancel) as http:
            try:
                info = revision_info(http, repo_type, repo_id, revision)
            except HubError as exc:
                if exc.kind in ("network", "timeout"):
                    local = self._local_or_none(s, repo_id, repo_type, revision, on_progress, cancel)
                    if local is not None:
                        log.warning("%s; answered from the local Hugging Face cache", exc.message)
                        return local
                raise
            sha = info.commit_sha
            if self.verdicts is not None:
                self.verdicts.put_ref(repo_type, repo_id, revision, sha)
            hub_security = {"repo": info.security_status} if info.security_status is not None else None
            hit = (
                self.verdicts.get_repo(repo_type, repo_id, sha, self.max_download)
                if self.verdicts is not None
                else None
            )
            if hit is not None:
                scan = _from_cache(hit, revision)
                scan.hub_security = _merge_security(hub_security, hit.hub_security)
                scan.metadata_bytes = http.api_bytes
                return scan
            listed = self._listing_with_security(http, repo_type, repo_id, sha)
            job = self._job(s, repo_type, repo_id, sha, http=http, on_progress=on_progress, cancel=cancel)
            scan = scan_revision(job, listed, remote=True)
            scan.revision = revision
            scan.hub_security = _merge_security(hub_security, scan.hub_security)
            scan.bytes_read = http.file_bytes
            scan.metadata_bytes = http.api_bytes
        if self.verdicts is not None and not any(f.error for f in scan.files):
            self.verdicts.put_repo(scan, self.max_download)
        return scan

    @staticmethod
    def _listing_with_security(http: HubHttp, repo_type: str, repo_id: str, sha: str) -> list[RemoteFile]:
        """The revision's files; the ones we scan carry the Hub's own scan status when it has one."""
        listed = list_files(http, repo_type, repo_id, sha)
        risky = [p.path for p in select.plan(f.path for f in listed)]
        try:
            security = file_security(http, repo_type, repo_id, sha, risky) if risky else {}
        except HubError as exc:
            if exc.kind in REPO_LEVEL_ERRORS:
                raise
            log.info("no per-file security status from the Hub: %s", exc.message)
            security = {}
        return [replace(f, security=security[f.path]) if f.path in security else f for f in listed]

    def _local_or_none(
        self,
        s: HubSettings,
        repo_id: str,
        repo_type: str,
        revision: str | None,
        on_progress: Progress | None,
        cancel: threading.Event | None,
    ) -> RepoScan | None:
        sha = localcache.resolve_revision(s.cache_dir, repo_type, repo_id, revision)
        if sha is None:
            return None
        if self.verdicts is not None:
            hit = self.verdicts.get_repo(repo_type, repo_id, sha, self.max_download)
            if hit is not None:
                scan = _from_cache(hit, revision)
                scan.offline = True
                return scan
        files = localcache.snapshot_files(s.cache_dir, repo_type, repo_id, sha)
        job = self._job(s, repo_type, repo_id, sha, on_progress=on_progress, cancel=cancel)
        scan = scan_revision(job, files, remote=False)
        scan.revision = revision
        scan.offline = True
        return scan

    def _scan_offline(
        self,
        s: HubSettings,
        repo_id: str,
        repo_type: str,
        revision: str | None,
        on_progress: Progress | None,
        cancel: threading.Event | None,
    ) -> RepoScan:
        local = self._local_or_none(s, repo_id, repo_type, revision, on_progress, cancel)
        if local is not None:
            return local
        if self.verdicts is not None:
            sha = (
                revision
                if revision and FULL_SHA.match(revision)
                else self.verdicts.get_ref(repo_type, repo_id, revision)
            )
            hit = self.verdicts.get_repo(repo_type, repo_id, sha, self.max_download) if sha else None
            if hit is not None:
                scan = _from_cache(hit, revision)
                scan.offline = True
                return scan
        label = f"{repo_id}@{revision}" if revision else repo_id
        raise HubError(
            "offline",
            f"offline mode: {repo_type} {label} is not in the local Hugging Face cache ({s.cache_dir}) and was never scanned before",
        )

    def cached_scan(
        self, repo_id: str, repo_type: RepoType | str = "model", revision: str | None = None
    ) -> RepoScan | None:
        """What we know without any network: the verdict cache, else a scan of the local HF cache; None otherwise."""
        s = self.settings()
        try:
            if self.verdicts is not None:
                sha = (
                    revision
                    if revision and FULL_SHA.match(revision)
                    else self.verdicts.get_ref(repo_type, repo_id, revision)
                )
                sha = sha or localcache.resolve_revision(s.cache_dir, repo_type, repo_id, revision)
                hit = self.verdicts.get_repo(repo_type, repo_id, sha, self.max_download) if sha else None
                if hit is not None:
                    return _from_cache(hit, revision)
            return self._local_or_none(s, repo_id, repo_type, revision, None, None)
        except HubError as exc:
            log.info("no cached scan of %s: %s", repo_id, exc.message)
            return None

    # --- history
    def find_safe_revision(
        self,
        repo_id: str,
        repo_type: RepoType | str = "model",
        *,
        max_commits: int | None = None,
        cancel: threading.Event | None = None,
    ) -> SafeRevision:
        """The newest commit (head first, then back in history) whose risky files all scan clean."""
        s = self.settings()
        bound = max_commits or self.history_depth
        if s.offline:
            return SafeRevision(
                repo_id,
                _kind(repo_type),
                None,
                None,
                0,
                error="offline mode: finding a safe revision needs the commit history from the Hub",
            )
        try:
            with self._http(s, cancel) as http:
                commits = list_commits(http, repo_type, repo_id, None, limit=bound)
        except HubError as exc:
            return SafeRevision(repo_id, _kind(repo_type), None, None, 0, error=redact(exc.message, s.token))
        head = commits[0] if commits else None
        for i, sha in enumerate(commits):
            if cancel is not None and cancel.is_set():
                return SafeRevision(repo_id, _kind(repo_type), None, head, i, error="the search was cancelled")
            scan = self.scan_repo(repo_id, repo_type, sha, cancel=cancel)
            if scan.error is not None:
                return SafeRevision(repo_id, _kind(repo_type), None, head, i + 1, error=scan.error)
            if scan.verdict.value == "clean":
                return SafeRevision(repo_id, _kind(repo_type), sha, head, i + 1, is_head=i == 0)
        return SafeRevision(repo_id, _kind(repo_type), None, head, len(commits))

    def clear_cache(self) -> None:
        if self.verdicts is not None:
            self.verdicts.clear()


def _from_cache(hit: RepoScan, revision: str | None) -> RepoScan:
    hit.from_cache = True
    hit.revision = revision
    hit.bytes_read = 0
    hit.metadata_bytes = 0
    for f in hit.files:
        f.bytes_read = 0
    return hit


def _merge_security(repo_level: dict[str, Any] | None, files: dict[str, Any] | None) -> dict[str, Any] | None:
    if repo_level is None and files is None:
        return None
    merged: dict[str, Any] = dict(repo_level or {})
    if files and "files" in files:
        merged["files"] = files["files"]
    return merged
