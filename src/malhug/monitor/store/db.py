"""Connections to the store: SQLite (WAL, one file) or PostgreSQL (psycopg 3), the same SQL for both.

SQL is written once with ``?`` parameters; PostgreSQL gets ``%s``. Each thread has its own
connection; ``tx()`` is one transaction (SQLite takes the write lock at its start, so two runners
never deadlock upgrading a read lock).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from malhug.monitor.store.schema import MIGRATIONS, statements

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30.0


def default_store_path() -> Path:
    """``$XDG_DATA_HOME/malhug/monitor.sqlite3`` (the user data folder of the platform)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("malhug")) / "monitor.sqlite3"


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


class Cursor:
    """A cursor whose SQL uses ``?`` on both engines."""

    def __init__(self, raw: Any, engine: str):
        self.raw = raw
        self.engine = engine

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if self.engine == "postgres":
            sql = sql.replace("?", "%s")
        self.raw.execute(sql, tuple(params))
        return self

    def fetchone(self) -> Any:
        return self.raw.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self.raw.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self.raw.rowcount)


class Database:
    """One store location; ``target`` is a file path or a ``postgresql://`` URL."""

    def __init__(self, target: str | os.PathLike[str]):
        self.target = str(target)
        self.engine = "postgres" if is_postgres(self.target) else "sqlite"
        self._local = threading.local()
        self._migrated = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Database({self.engine}: {self.safe_target})"

    @property
    def safe_target(self) -> str:
        """The target without a password."""
        if self.engine == "postgres" and "@" in self.target:
            scheme, _, rest = self.target.partition("://")
            cred, _, host = rest.rpartition("@")
            return f"{scheme}://{cred.partition(':')[0]}:***@{host}" if ":" in cred else self.target
        return self.target

    def _connect(self) -> Any:
        if self.engine == "postgres":
            import psycopg

            return psycopg.connect(self.target, autocommit=True)
        path = Path(self.target)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def tx(self) -> Iterator[Cursor]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        self.migrate()
        with self._raw_tx() as cur:
            yield cur

    @contextmanager
    def _raw_tx(self) -> Iterator[Cursor]:
        conn = self._conn()
        raw = conn.cursor()
        if self.engine == "sqlite":
            _retry_locked(lambda: raw.execute("BEGIN IMMEDIATE"))
        else:
            raw.execute("BEGIN")
        try:
            yield Cursor(raw, self.engine)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        else:
            raw.execute("COMMIT")
        finally:
            raw.close()

    def migrate(self) -> int:
        """Apply the migrations not yet applied; returns the schema version."""
        if self._migrated:
            return len(MIGRATIONS)
        with self._lock:
            with self._raw_tx() as cur:
                if self.engine == "postgres":  # one migrator at a time across machines
                    cur.execute("SELECT pg_advisory_xact_lock(4242)")
                cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = cur.execute("SELECT MAX(version) FROM schema_version").fetchone()
                current = int(row[0] or 0)
                for version in range(current + 1, len(MIGRATIONS) + 1):
                    log.info("store %s: migration %d", self.safe_target, version)
                    for sql in statements(self.engine, version):
                        cur.execute(sql)
                    cur.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            self._migrated = True
        return len(MIGRATIONS)


def _retry_locked(action: Any) -> Any:
    """SQLite answers "database is locked" at once for some operations (switching to WAL, BEGIN
    IMMEDIATE past the busy handler): retry for as long as an ordinary write would wait."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.01
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def open_store(target: str | os.PathLike[str] | None = None) -> Any:
    """The store at ``target`` (default: the user data folder's SQLite file)."""
    from malhug.monitor.store.ops import Store

    return Store(Database(target if target is not None else default_store_path()))
