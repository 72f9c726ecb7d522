"""The verdict cache: what we already know about file contents and repository revisions.

SQLite in WAL mode under ``MALHUG_CACHE_DIR`` or ``platformdirs.user_cache_dir("malhug")``; several
processes (CLI runs, language servers) share it. Keys include the analyzer version and the rule-set
digest, so a new MalHug never trusts an old verdict. A broken or locked cache never fails a scan:
it is logged and the scan goes on uncached.

- file verdicts: content id (LFS sha256 or git blob id) -> FileReport
- revision scans: (repo type, repo id, commit, download cap) -> RepoScan (so a warm rescan reads no file)
- refs: (repo type, repo id, revision as asked) -> the commit it last resolved to (instant editor results)
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from malhug import __version__
from malhug.core.model import FileReport
from malhug.core.rules import CATALOG
from malhug.hub.types import RepoScan

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, report TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS repos (key TEXT PRIMARY KEY, scan TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS refs (key TEXT PRIMARY KEY, sha TEXT NOT NULL, updated REAL NOT NULL);
"""


@functools.cache
def analyzer_version() -> str:
    """MalHug's version + a digest of the analyzer sources + the rule-set digest (the cache key's salt)."""
    h = hashlib.sha256(__version__.encode())
    try:
        root = resources.files("malhug.analyzers")
        stack = [root]
        names = []
        while stack:
            folder = stack.pop()
            for entry in folder.iterdir():
                if entry.is_dir() and entry.name != "__pycache__":
                    stack.append(entry)
                elif entry.name.endswith((".py", ".toml", ".json")):
                    names.append(entry)
        for entry in sorted(names, key=lambda e: str(e)):
            h.update(str(entry).encode())
            h.update(entry.read_bytes())
    except OSError as exc:  # a zipped install: the version alone then
        log.debug("cannot hash the analyzer sources: %s", exc)
    return f"{__version__}+{h.hexdigest()[:12]}.{CATALOG.digest}"


def default_cache_dir() -> Path:
    if value := os.environ.get("MALHUG_CACHE_DIR"):
        return Path(value)
    import platformdirs

    return Path(platformdirs.user_cache_dir("malhug"))


BUSY_TIMEOUT_S = 10.0


def _initialize(conn: sqlite3.Connection) -> None:
    """WAL mode and the schema. Switching to WAL needs a moment alone with the file and SQLite
    answers "database is locked" at once, without waiting, while other processes open the same new
    cache: retry for as long as an ordinary write would wait."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.01
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


class VerdictCache:
    """The SQLite verdict cache at ``path`` (default: ``<cache dir>/verdicts.sqlite3``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else default_cache_dir() / "verdicts.sqlite3"
        self._ready = False

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        try:
            if not self._ready:
                _initialize(conn)
                self._ready = True
            with conn:
                yield conn
        finally:
            conn.close()

    def _get(self, table: str, column: str, key: str) -> str | None:
        try:
            with self._db() as db:
                row = db.execute(f"SELECT {column} FROM {table} WHERE key = ?", (key,)).fetchone()
        except (sqlite3.Error, OSError) as exc:
            log.warning("verdict cache %s unreadable: %s", self.path, exc)
            return None
        return row[0] if row else None

    def _put(self, table: str, key: str, value: str) -> None:
        try:
            with self._db() as db:
                db.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)", (key, value, time.time()))
        except (sqlite3.Error, OSError) as exc:
            log.warning("verdict cache %s not updated: %s", self.path, exc)

    # --- file verdicts
    @staticmethod
    def file_key(content_id: str, context: str = "") -> str:
        """The key of a file verdict: the content, what else decides the verdict (``context``: for
        code, whether loading runs it), and the analyzer and rules that produced it."""
        return f"{content_id}|{context}|{analyzer_version()}"

    def get_file(self, content_id: str, path: str, context: str = "") -> FileReport | None:
        raw = self._get("files", "report", self.file_key(content_id, context))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            report = FileReport.from_dict({**data, "path": path})
            report.size = data.get("size")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("verdict cache entry for %s unusable: %s", content_id, exc)
            return None
        return report

    def put_file(self, content_id: str, report: FileReport, context: str = "") -> None:
        self._put("files", self.file_key(content_id, context), json.dumps({**report.to_dict(), "size": report.size}))

    # --- revision scans
    @staticmethod
    def repo_key(repo_type: str, repo_id: str, commit_sha: str, max_download: int) -> str:
        return f"{repo_type}|{repo_id}|{commit_sha}|{max_download}|{analyzer_version()}"

    def get_repo(self, repo_type: str, repo_id: str, commit_sha: str, max_download: int) -> RepoScan | None:
        raw = self._get("repos", "scan", self.repo_key(repo_type, repo_id, commit_sha, max_download))
        if raw is None:
            return None
        try:
            return RepoScan.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("verdict cache entry for %s@%s unusable: %s", repo_id, commit_sha, exc)
            return None

    def put_repo(self, scan: RepoScan, max_download: int) -> None:
        if scan.commit_sha is None or scan.error is not None:
            return
        self._put(
            "repos",
            self.repo_key(scan.repo_type, scan.repo_id, scan.commit_sha, max_download),
            json.dumps(scan.to_dict()),
        )

    # --- refs
    def get_ref(self, repo_type: str, repo_id: str, revision: str | None) -> str | None:
        return self._get("refs", "sha", f"{repo_type}|{repo_id}|{revision or ''}")

    def put_ref(self, repo_type: str, repo_id: str, revision: str | None, sha: str) -> None:
        self._put("refs", f"{repo_type}|{repo_id}|{revision or ''}", sha)

    def clear(self) -> None:
        """Forget everything (the editor's "Clear Cache" command)."""
        try:
            with self._db() as db:
                for table in ("files", "repos", "refs"):
                    db.execute(f"DELETE FROM {table}")
        except (sqlite3.Error, OSError) as exc:
            log.warning("verdict cache %s not cleared: %s", self.path, exc)
