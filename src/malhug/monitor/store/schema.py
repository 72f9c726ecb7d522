"""The monitor store's schema: numbered migrations, applied in order, shared by SQLite and PostgreSQL.

A migration is a list of statements written once for both engines; ``{blob}`` and ``{serial}`` name
the two types that differ (``BLOB``/``BYTEA``, ``INTEGER PRIMARY KEY``/``BIGSERIAL PRIMARY KEY``).
Never edit a released migration: add the next one.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        # One row per repository known to the monitor: what the listing said last, and its state.
        """CREATE TABLE repos (
            repo_type TEXT NOT NULL, repo_id TEXT NOT NULL,
            listed_sha TEXT, last_modified TEXT,
            state TEXT NOT NULL DEFAULT 'ok', why TEXT,
            first_seen DOUBLE PRECISION NOT NULL,
            scanned_sha TEXT, verdict TEXT,
            PRIMARY KEY (repo_type, repo_id))""",
        # Work keyed by (repo, sha): leased to one runner at a time, done once.
        """CREATE TABLE work (
            repo_type TEXT NOT NULL, repo_id TEXT NOT NULL, sha TEXT NOT NULL,
            source TEXT NOT NULL, queued_at DOUBLE PRECISION NOT NULL,
            lease_owner TEXT, lease_expiry DOUBLE PRECISION,
            attempts INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (repo_type, repo_id, sha))""",
        "CREATE INDEX work_pending ON work (done, queued_at)",
        # The scan of one revision: its verdict and the file reports of scan's JSON.
        """CREATE TABLE scans (
            repo_type TEXT NOT NULL, repo_id TEXT NOT NULL, sha TEXT NOT NULL,
            verdict TEXT NOT NULL, files TEXT NOT NULL, error TEXT,
            contents TEXT NOT NULL DEFAULT '{{}}',
            bytes_read BIGINT NOT NULL DEFAULT 0, from_cache INTEGER NOT NULL DEFAULT 0,
            scanned_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (repo_type, repo_id, sha))""",
        # File verdicts by content (LFS sha256 or git blob id, plus what decides how it loads) and salt
        # (analyzer version + rule digest); ``analyses`` counts how often it was written.
        """CREATE TABLE file_verdicts (
            content_key TEXT NOT NULL, salt TEXT NOT NULL, report TEXT NOT NULL,
            analyses INTEGER NOT NULL DEFAULT 1, created DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (content_key, salt))""",
        # Other cached answers of the hub layer's verdict cache (revision scans, refs).
        """CREATE TABLE hub_cache (
            tbl TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (tbl, key))""",
        # Kept bytes, content-addressed (sha256 of the bytes).
        "CREATE TABLE blobs (digest TEXT PRIMARY KEY, size BIGINT NOT NULL, data {blob} NOT NULL)",
        # Which kept bytes make up what the analyzers read of one file: [[offset, digest], ...], by
        # content id + "|" + what decides how it is analyzed (``scans.contents`` maps paths to it).
        """CREATE TABLE kept (
            content_id TEXT PRIMARY KEY, path TEXT NOT NULL, size BIGINT NOT NULL, segments TEXT NOT NULL)""",
        """CREATE TABLE events (
            seq {serial}, at DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL,
            repo_type TEXT NOT NULL, repo_id TEXT NOT NULL, sha TEXT,
            old_verdict TEXT, new_verdict TEXT, detail TEXT)""",
        "CREATE TABLE watermark (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated DOUBLE PRECISION NOT NULL)",
        # The shared rate budget: per bucket (api, file) and window.
        """CREATE TABLE budget (
            bucket TEXT PRIMARY KEY, window_start DOUBLE PRECISION NOT NULL, window_s DOUBLE PRECISION NOT NULL,
            quota BIGINT NOT NULL, used BIGINT NOT NULL, blocked_until DOUBLE PRECISION NOT NULL DEFAULT 0)""",
        """CREATE TABLE errors (
            seq {serial}, at DOUBLE PRECISION NOT NULL, what TEXT NOT NULL, message TEXT NOT NULL)""",
    ),
)

TYPES = {
    "sqlite": {"blob": "BLOB", "serial": "INTEGER PRIMARY KEY"},
    "postgres": {"blob": "BYTEA", "serial": "BIGSERIAL PRIMARY KEY"},
}


def statements(engine: str, version: int) -> list[str]:
    """The statements of migration ``version`` (1-based) for ``engine``."""
    return [s.format(**TYPES[engine]) for s in MIGRATIONS[version - 1]]
