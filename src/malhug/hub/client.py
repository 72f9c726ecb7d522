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
from dataclasses import dataclass, replace
from typing import Any, Final

import httpx2

from malhug.hub import localcache, select, sniff
from malhug.hub.bounded import DEFAULT_BOUNDS, Bounds, unsafe_path
from malhug.hub.budget import Meter
from malhug.hub.cache import VerdictCache
from malhug.hub.http import Cut, HubError, HubHttp, new_session
from malhug.hub.remote import (
    FULL_SHA,
    RemoteFile,
    RevisionInfo,
    file_security,
    list_commits,
    list_files,
    revision_info,
)
from malhug.hub.scanner import (
    CODE_CONFIGS,
    MAX_SCANNED_FILES,
    REPO_LEVEL_ERRORS,
    Analyze,
    Job,
    Keep,
    Progress,
    scan_revision,
)
from malhug.hub.settings import HubSettings, redact
from malhug.hub.types import RepoScan, RepoType, SafeRevision

log = logging.getLogger(__name__)

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[\w.-]{1,96})?$")
DEFAULT_MAX_DOWNLOAD = 50 * 2**20


def valid_repo_id(repo_id: str) -> bool:
    """``name`` or ``org/name`` as the Hub allows them (no ``..``/``--``, no part starting with a dot)."""
    return bool(REPO_ID.match(repo_id)) and ".." not in repo_id and "--" not in repo_id and "/." not in repo_id


def _kind(repo_type: str) -> RepoType:
    return "dataset" if repo_type == "dataset" else "model"


@dataclass(frozen=True)
class _Ask:
    """One request: which revision, with which settings, reporting where."""

    settings: HubSettings
    repo_id: str
    repo_type: str
    revision: str | None
    on_progress: Progress | None
    cancel: threading.Event | None

    def failed(self, message: str, kind: str) -> RepoScan:
        return RepoScan(
            repo_id=self.repo_id,
            repo_type=_kind(self.repo_type),
            revision=self.revision,
            commit_sha=None,
            error=redact(message, self.settings.token),
            error_kind=kind,
        )


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
        bounds: Bounds = DEFAULT_BOUNDS,
        meter: Meter | None = None,
        keep: Keep | None = None,
        ask_hub_status: bool = True,
        max_sniffs: int | None = None,
        analyze: Analyze | None = None,
    ):
        self._endpoint = endpoint
        self._token = token
        self._offline = offline
        self._cache_dir = cache_dir
        self.max_download = max_download
        self.history_depth = history_depth
        self.verdicts: VerdictCache | None = VerdictCache() if isinstance(verdict_cache, _Default) else verdict_cache
        self.timeout = timeout
        self.bounds = bounds  # what one Hub answer may cost (bytes, JSON values, pages, seconds)
        self.meter = meter  # a shared rate budget (the monitor's), asked before every request
        self.keep = keep  # told the bytes the analyzers read of each file (the monitor keeps them)
        # False: a full sha is scanned as given (no revision lookup) and the Hub's own scan status is not
        # asked (the monitor has both from the listing; one API call per revision, the tree, instead of 3).
        self.ask_hub_status = ask_hub_status
        # Files no name selects whose first bytes one scan reads at most (hub/sniff.py; MH607 past it).
        self.max_sniffs = sniff.MAX_SNIFFS if max_sniffs is None else max_sniffs
        self.analyze = analyze  # where fetched files are analyzed (None: in the calling thread)
        self._session: httpx2.Client | None = None
        self._session_lock = threading.Lock()

    def _shared_session(self) -> httpx2.Client:
        with self._session_lock:
            if self._session is None:
                self._session = new_session(self.timeout)
            return self._session

    def close(self) -> None:
        """Close the shared HTTP connections (a later call opens new ones)."""
        with self._session_lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def __repr__(self) -> str:
        return f"HubClient(endpoint={self._endpoint!r}, offline={self._offline}, max_download={self.max_download})"

    def settings(self) -> HubSettings:
        return HubSettings.resolve(
            endpoint=self._endpoint, token=self._token, offline=self._offline, cache_dir=self._cache_dir
        )

    def _http(self, ask: _Ask) -> HubHttp:
        s = ask.settings
        return HubHttp(
            s.endpoint,
            s.token,
            timeout=self.timeout,
            cancel=ask.cancel,
            session=self._shared_session(),
            bounds=self.bounds,
            meter=self.meter,
        )

    def _job(self, ask: _Ask, commit: str, http: HubHttp | None = None) -> Job:
        return Job(
            repo_type=ask.repo_type,
            repo_id=ask.repo_id,
            commit=commit,
            cache_dir=ask.settings.cache_dir,
            max_download=self.max_download,
            verdicts=self.verdicts,
            http=http,
            on_progress=ask.on_progress,
            cancel=ask.cancel,
            keep=self.keep,
            max_sniffs=self.max_sniffs,
            analyze=self.analyze,
        )

    def _cached(self, ask: _Ask, commit: str | None) -> RepoScan | None:
        """The verdict cache's scan of ``commit`` (None: the revision as asked, a sha or a remembered ref)."""
        if self.verdicts is None:
            return None
        rev = ask.revision
        sha = commit or (rev if rev and FULL_SHA.match(rev) else self.verdicts.get_ref(ask.repo_type, ask.repo_id, rev))
        hit = self.verdicts.get_repo(ask.repo_type, ask.repo_id, sha, self.max_download) if sha else None
        return _from_cache(hit, rev) if hit is not None else None

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
        ask = _Ask(self.settings(), repo_id, repo_type, revision, on_progress, cancel)
        started = time.monotonic()
        try:
            if not valid_repo_id(repo_id) or repo_type not in ("model", "dataset"):
                raise HubError("not-found", f"not a valid {repo_type} id: {repo_id!r} (expected ORG/NAME)")
            scan = self._scan_offline(ask) if ask.settings.offline else self._scan_online(ask)
        except HubError as exc:
            scan = ask.failed(exc.message, exc.kind)
        except Exception as exc:
            log.exception("scan of %s %s@%s failed", repo_type, repo_id, revision)
            scan = ask.failed(f"internal error: {exc!r}", "internal")
        log.debug("scanned %s@%s in %.3fs: %s", repo_id, revision, time.monotonic() - started, scan.verdict.value)
        return scan

    def _scan_online(self, ask: _Ask) -> RepoScan:
        if ask.revision is not None and FULL_SHA.match(ask.revision):
            hit = self._cached(ask, ask.revision)
            if hit is not None:
                return hit
        with self._http(ask) as http:
            try:
                if not self.ask_hub_status and ask.revision is not None and FULL_SHA.match(ask.revision):
                    info = RevisionInfo(ask.revision)
                else:
                    info = revision_info(http, ask.repo_type, ask.repo_id, ask.revision)
            except HubError as exc:
                if exc.kind in ("network", "timeout"):
                    local = self._local_or_none(ask) or self._cached(ask, None)
                    if local is not None:
                        log.warning("%s; answered from the local caches", exc.message)
                        local.offline = True
                        return local
                raise
            sha = info.commit_sha
            if self.verdicts is not None:
                self.verdicts.put_ref(ask.repo_type, ask.repo_id, ask.revision, sha)
            hub_security = {"repo": info.security_status} if info.security_status is not None else None
            hit = self._cached(ask, sha)
            if hit is not None:
                hit.hub_security = _merge_security(hub_security, hit.hub_security)
                hit.metadata_bytes = http.api_bytes
                return hit
            cut = Cut()
            if self.ask_hub_status:
                listed = self._listing_with_security(http, ask.repo_type, ask.repo_id, sha, cut)
            else:
                listed = list_files(http, ask.repo_type, ask.repo_id, sha, max_files=http.bounds.listing_files, cut=cut)
            job = self._job(ask, sha, http)
            if cut.truncated:
                job.listing_cut = (cut.count, cut.reason)
            scan = scan_revision(job, listed, remote=True)
            scan.revision = ask.revision
            scan.scanned_at = time.time()
            scan.hub_security = _merge_security(hub_security, scan.hub_security)
            scan.bytes_read = http.file_bytes
            scan.metadata_bytes = http.api_bytes
        if self.verdicts is not None and not any(f.error for f in scan.files):
            self.verdicts.put_repo(scan, self.max_download)
        return scan

    @staticmethod
    def _listing_with_security(
        http: HubHttp, repo_type: str, repo_id: str, sha: str, cut: Cut | None = None
    ) -> list[RemoteFile]:
        """The revision's files; the ones we scan carry the Hub's own scan status when it has one."""
        listed = list_files(http, repo_type, repo_id, sha, max_files=http.bounds.listing_files, cut=cut)
        risky = [p.path for p in select.plan(f.path for f in listed if unsafe_path(f.path) is None)]
        # Asked only for what will be scanned (in the scan's order): 50 paths per request, at most 40 requests.
        risky = sorted(risky, key=lambda p: (p not in CODE_CONFIGS, p))[:MAX_SCANNED_FILES]
        try:
            security = file_security(http, repo_type, repo_id, sha, risky) if risky else {}
        except HubError as exc:
            if exc.kind in REPO_LEVEL_ERRORS:
                raise
            log.info("no per-file security status from the Hub: %s", exc.message)
            security = {}
        return [replace(f, security=security[f.path]) if f.path in security else f for f in listed]

    def _local_or_none(self, ask: _Ask) -> RepoScan | None:
        """The revision from the local Hugging Face cache (verdict cache first), without the network."""
        sha = localcache.resolve_revision(ask.settings.cache_dir, ask.repo_type, ask.repo_id, ask.revision)
        if sha is None:
            return None
        scan = self._cached(ask, sha)
        if scan is None:
            files = localcache.snapshot_files(ask.settings.cache_dir, ask.repo_type, ask.repo_id, sha)
            # A snapshot may hold only some files: its scan is not stored as the revision's.
            scan = scan_revision(self._job(ask, sha), files, remote=False)
            scan.revision = ask.revision
            scan.scanned_at = time.time()
        scan.offline = True
        return scan

    def _scan_offline(self, ask: _Ask) -> RepoScan:
        scan = self._local_or_none(ask) or self._cached(ask, None)
        if scan is not None:
            scan.offline = True
            return scan
        label = f"{ask.repo_id}@{ask.revision}" if ask.revision else ask.repo_id
        raise HubError(
            "offline",
            f"offline mode: {ask.repo_type} {label} is not in the local Hugging Face cache "
            f"({ask.settings.cache_dir}) and was never scanned before",
        )

    def cached_scan(
        self, repo_id: str, repo_type: RepoType | str = "model", revision: str | None = None
    ) -> RepoScan | None:
        """What we know without any network: the verdict cache, else a scan of the local HF cache; None otherwise."""
        ask = _Ask(self.settings(), repo_id, repo_type, revision, None, None)
        try:
            return self._cached(ask, None) or self._local_or_none(ask)
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
            with HubHttp(
                s.endpoint,
                s.token,
                timeout=self.timeout,
                cancel=cancel,
                session=self._shared_session(),
                bounds=self.bounds,
            ) as http:
                # From the default branch's head, whatever that branch is called.
                head_sha = revision_info(http, repo_type, repo_id, None, security=False).commit_sha
                commits = list_commits(http, repo_type, repo_id, head_sha, limit=bound)
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
