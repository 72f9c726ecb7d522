"""What the monitor reads and writes: repositories, leased work, scans, file verdicts, kept bytes,
events, the watermark, the shared rate budget and the last errors.

Every write that must happen together is one transaction, so a runner killed at any moment leaves
the store as it was before or after that step: work stays queued until its scan is committed, and a
lease that its owner no longer renews expires and is claimed again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from malhug.monitor.store.db import Database
from malhug.monitor.store.kept import KeptOps
from malhug.monitor.store.pages import PagedReads, repo_entry

OK = "ok"
STATES = ("ok", "gated", "private", "disabled", "vanished")


@dataclass(frozen=True)
class WorkItem:
    repo_type: str
    repo_id: str
    sha: str
    attempts: int


@dataclass(frozen=True)
class Event:
    seq: int
    at: float
    kind: str
    repo_type: str
    repo_id: str
    sha: str | None
    old_verdict: str | None
    new_verdict: str | None
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind,
            "type": self.repo_type,
            "id": self.repo_id,
            "sha": self.sha,
            "old_verdict": self.old_verdict,
            "new_verdict": self.new_verdict,
            "detail": self.detail,
        }


class Store(KeptOps, PagedReads):
    """The monitor store over one ``Database`` (SQLite file or PostgreSQL URL)."""

    def __init__(self, db: Database):
        self.db = db

    def __repr__(self) -> str:
        return f"Store({self.db!r})"

    def close(self) -> None:
        self.db.close()

    # --- repositories and work
    def note_listed(
        self, repo_type: str, repo_id: str, sha: str | None, last_modified: str | None, state: str, why: str | None
    ) -> bool:
        """Record what the listing said; queue ``repo@sha`` when the repository is readable and its sha
        is new to us. Returns whether it was queued."""
        now = time.time()
        with self.db.tx() as cur:
            row = cur.execute(
                "SELECT listed_sha, state FROM repos WHERE repo_type = ? AND repo_id = ?", (repo_type, repo_id)
            ).fetchone()
            if row is None:
                cur.execute(
                    "INSERT INTO repos (repo_type, repo_id, listed_sha, last_modified, state, why, first_seen)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (repo_type, repo_id, sha, last_modified, state, why, now),
                )
            else:
                if row[0] == sha and state == OK and row[1] != OK:
                    return False  # its scan found it gone or closed (``unreachable``): not retried in a loop
                cur.execute(
                    "UPDATE repos SET listed_sha = ?, last_modified = ?, state = ?, why = ?"
                    " WHERE repo_type = ? AND repo_id = ?",
                    (sha, last_modified, state, why, repo_type, repo_id),
                )
            if state != OK or sha is None or (row is not None and row[0] == sha and row[1] == OK):
                return False
            return self._queue(cur, repo_type, repo_id, sha, "listing", now)

    def enqueue(self, repo_type: str, repo_id: str, sha: str, source: str) -> bool:
        """Queue ``repo@sha`` (a webhook, a list): known repositories keep their first-seen time."""
        now = time.time()
        with self.db.tx() as cur:
            cur.execute(
                "INSERT INTO repos (repo_type, repo_id, listed_sha, state, first_seen) VALUES (?, ?, ?, 'ok', ?)"
                " ON CONFLICT (repo_type, repo_id) DO UPDATE SET listed_sha = excluded.listed_sha",
                (repo_type, repo_id, sha, now),
            )
            return self._queue(cur, repo_type, repo_id, sha, source, now)

    @staticmethod
    def _queue(cur: Any, repo_type: str, repo_id: str, sha: str, source: str, now: float) -> bool:
        scanned = cur.execute(
            "SELECT 1 FROM scans WHERE repo_type = ? AND repo_id = ? AND sha = ?", (repo_type, repo_id, sha)
        ).fetchone()
        if scanned is not None:
            return False
        cur.execute(
            "INSERT INTO work (repo_type, repo_id, sha, source, queued_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (repo_type, repo_id, sha) DO NOTHING",
            (repo_type, repo_id, sha, source, now),
        )
        return bool(cur.rowcount)

    def claim(self, owner: str, limit: int, lease_s: float) -> list[WorkItem]:
        """Up to ``limit`` pending items, leased to ``owner`` for ``lease_s`` seconds (oldest first)."""
        now = time.time()
        out: list[WorkItem] = []
        with self.db.tx() as cur:
            rows = cur.execute(
                "SELECT repo_type, repo_id, sha, attempts FROM work WHERE done = 0"
                " AND (lease_owner IS NULL OR lease_expiry < ?)"
                " ORDER BY queued_at, repo_type, repo_id LIMIT ?",
                (now, limit),
            ).fetchall()
            for repo_type, repo_id, sha, attempts in rows:
                cur.execute(
                    "UPDATE work SET lease_owner = ?, lease_expiry = ?, attempts = attempts + 1"
                    " WHERE repo_type = ? AND repo_id = ? AND sha = ? AND done = 0"
                    " AND (lease_owner IS NULL OR lease_expiry < ?)",
                    (owner, now + lease_s, repo_type, repo_id, sha, now),
                )
                if cur.rowcount:
                    out.append(WorkItem(repo_type, repo_id, sha, int(attempts) + 1))
        return out

    def leaseholders(self) -> list[str]:
        with self.db.tx() as cur:
            rows = cur.execute("SELECT DISTINCT lease_owner FROM work WHERE done = 0 AND lease_owner IS NOT NULL")
            return [str(r[0]) for r in rows.fetchall()]

    def free_leases(self, owner: str) -> int:
        """Give back what ``owner`` holds and did not finish (a runner known to be dead, or this one at a
        clean stop); returns how many items."""
        with self.db.tx() as cur:
            cur.execute(
                "UPDATE work SET lease_owner = NULL, lease_expiry = NULL WHERE lease_owner = ? AND done = 0", (owner,)
            )
            return cur.rowcount

    def renew(self, owner: str, lease_s: float) -> None:
        with self.db.tx() as cur:
            cur.execute(
                "UPDATE work SET lease_expiry = ? WHERE lease_owner = ? AND done = 0", (time.time() + lease_s, owner)
            )

    def postpone(self, item: WorkItem, delay_s: float) -> None:
        """Leave ``item`` queued but untouchable for ``delay_s`` seconds (a passing Hub trouble)."""
        with self.db.tx() as cur:
            cur.execute(
                "UPDATE work SET lease_owner = 'retry-later', lease_expiry = ?"
                " WHERE repo_type = ? AND repo_id = ? AND sha = ? AND done = 0",
                (time.time() + delay_s, item.repo_type, item.repo_id, item.sha),
            )

    def retries_pending(self) -> bool:
        """Whether work waits for a retry (``postpone``)."""
        with self.db.tx() as cur:
            row = cur.execute("SELECT 1 FROM work WHERE done = 0 AND lease_owner = 'retry-later' LIMIT 1").fetchone()
        return row is not None

    def unreachable(self, item: WorkItem, state: str, why: str) -> None:
        """The scan of ``item`` found the repository gated, private or gone: recorded with why, the work
        done, no scan (its verdict stays what it was); the listing does not queue that sha again."""
        with self.db.tx() as cur:
            cur.execute(
                "UPDATE repos SET state = ?, why = ? WHERE repo_type = ? AND repo_id = ?",
                (state, why, item.repo_type, item.repo_id),
            )
            cur.execute(
                "UPDATE work SET done = 1, lease_owner = NULL WHERE repo_type = ? AND repo_id = ? AND sha = ?",
                (item.repo_type, item.repo_id, item.sha),
            )

    def finish(self, item: WorkItem, owner: str, scan: dict[str, Any]) -> Event | None:
        """Commit the scan of ``item`` (a ``RepoScan.to_dict()`` with ``verdict``): scan row, work done,
        the repository's verdict, and an event when the verdict changed. Idempotent."""
        now = time.time()
        verdict = scan["verdict"]
        with self.db.tx() as cur:
            cur.execute(
                "INSERT INTO scans (repo_type, repo_id, sha, verdict, files, error, bytes_read, from_cache, scanned_at,"
                " contents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo_type, repo_id, sha) DO UPDATE SET"
                " verdict = excluded.verdict, files = excluded.files, error = excluded.error, contents = excluded.contents,"
                " bytes_read = excluded.bytes_read, from_cache = excluded.from_cache, scanned_at = excluded.scanned_at",
                (
                    item.repo_type,
                    item.repo_id,
                    item.sha,
                    verdict,
                    json.dumps(scan.get("files", [])),
                    scan.get("error"),
                    int(scan.get("bytes_read") or 0),
                    int(bool(scan.get("from_cache"))),
                    now,
                    json.dumps(scan.get("kept") or {}),
                ),
            )
            cur.execute(
                "UPDATE work SET done = 1, lease_owner = NULL WHERE repo_type = ? AND repo_id = ? AND sha = ?",
                (item.repo_type, item.repo_id, item.sha),
            )
            return self._set_verdict(cur, item.repo_type, item.repo_id, item.sha, verdict, now, "scan")

    def _set_verdict(
        self, cur: Any, repo_type: str, repo_id: str, sha: str, verdict: str, now: float, why: str
    ) -> Event | None:
        row = cur.execute(
            "SELECT verdict, scanned_sha FROM repos WHERE repo_type = ? AND repo_id = ?", (repo_type, repo_id)
        ).fetchone()
        old, old_sha = (row[0], row[1]) if row is not None else (None, None)
        cur.execute(
            "UPDATE repos SET verdict = ?, scanned_sha = ? WHERE repo_type = ? AND repo_id = ?",
            (verdict, sha, repo_type, repo_id),
        )
        if old == verdict and (old_sha == sha or verdict in ("clean", "error")):
            return None
        if old is None and verdict == "clean":
            return None
        kind = "verdict-changed" if old != verdict else "new-revision-flagged"
        detail = json.dumps({"previous_sha": old_sha, "by": why})
        return self._event(cur, now, kind, repo_type, repo_id, sha, old, verdict, detail)

    @staticmethod
    def _event(
        cur: Any,
        now: float,
        kind: str,
        repo_type: str,
        repo_id: str,
        sha: str | None,
        old: str | None,
        new: str | None,
        detail: str | None,
    ) -> Event:
        cur.execute(
            "INSERT INTO events (at, kind, repo_type, repo_id, sha, old_verdict, new_verdict, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now, kind, repo_type, repo_id, sha, old, new, detail),
        )
        seq = cur.execute("SELECT MAX(seq) FROM events").fetchone()[0]
        return Event(int(seq), now, kind, repo_type, repo_id, sha, old, new, detail)

    def rescanned(self, repo_type: str, repo_id: str, sha: str, scan: dict[str, Any]) -> Event | None:
        """Replace a stored scan by a re-analysis of its kept bytes."""
        item = WorkItem(repo_type, repo_id, sha, 0)
        now = time.time()
        with self.db.tx() as cur:
            cur.execute(
                "UPDATE scans SET verdict = ?, files = ?, scanned_at = ? WHERE repo_type = ? AND repo_id = ? AND sha = ?",
                (scan["verdict"], json.dumps(scan.get("files", [])), now, item.repo_type, item.repo_id, item.sha),
            )
            return self._set_verdict(cur, repo_type, repo_id, sha, scan["verdict"], now, "rescan")

    # --- reading
    def pending(self) -> int:
        with self.db.tx() as cur:
            return int(cur.execute("SELECT COUNT(*) FROM work WHERE done = 0").fetchone()[0])

    def repos(self, since: float | None = None) -> list[dict[str, Any]]:
        """Every repository with its newest scan (``since``: scanned at or after that time)."""
        with self.db.tx() as cur:
            rows = cur.execute(
                "SELECT r.repo_type, r.repo_id, r.scanned_sha, r.verdict, r.first_seen, s.scanned_at, s.files,"
                " r.state, r.why, s.error FROM repos r LEFT JOIN scans s ON s.repo_type = r.repo_type"
                " AND s.repo_id = r.repo_id AND s.sha = r.scanned_sha ORDER BY r.repo_type, r.repo_id"
            ).fetchall()
        entries = (repo_entry(row) for row in rows)
        return [e for e in entries if since is None or (e["scanned_at"] is not None and e["scanned_at"] >= since)]

    def iter_scanned(self, page: int = 500) -> Iterator[tuple[str, str, str, str]]:
        """``(type, id, newest scanned sha, verdict)`` of every scanned repository, read a page at a time
        (memory does not grow with the store)."""
        after = ("", "")
        while True:
            with self.db.tx() as cur:
                rows = cur.execute(
                    "SELECT repo_type, repo_id, scanned_sha, verdict FROM repos WHERE scanned_sha IS NOT NULL"
                    " AND (repo_type > ? OR (repo_type = ? AND repo_id > ?)) ORDER BY repo_type, repo_id LIMIT ?",
                    (after[0], after[0], after[1], page),
                ).fetchall()
            for row in rows:
                yield (str(row[0]), str(row[1]), str(row[2]), str(row[3]))
            if len(rows) < page:
                return
            after = (str(rows[-1][0]), str(rows[-1][1]))

    def scan_of(self, repo_type: str, repo_id: str, sha: str) -> dict[str, Any] | None:
        with self.db.tx() as cur:
            row = cur.execute(
                "SELECT verdict, files, error, contents FROM scans WHERE repo_type = ? AND repo_id = ? AND sha = ?",
                (repo_type, repo_id, sha),
            ).fetchone()
        if row is None:
            return None
        return {"verdict": row[0], "files": json.loads(row[1]), "error": row[2], "kept": json.loads(row[3])}

    def events(self, since: float | None = None, after_seq: int = 0) -> list[Event]:
        with self.db.tx() as cur:
            rows = cur.execute(
                "SELECT seq, at, kind, repo_type, repo_id, sha, old_verdict, new_verdict, detail FROM events"
                " WHERE seq > ? AND at >= ? ORDER BY seq",
                (after_seq, since or 0.0),
            ).fetchall()
        return [Event(int(r[0]), *r[1:]) for r in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """Repositories by verdict and by state, and work by status."""
        with self.db.tx() as cur:
            verdicts = cur.execute("SELECT COALESCE(verdict, 'unscanned'), COUNT(*) FROM repos GROUP BY 1").fetchall()
            states = cur.execute("SELECT state, COUNT(*) FROM repos GROUP BY state").fetchall()
            work = cur.execute("SELECT done, COUNT(*) FROM work GROUP BY done").fetchall()
        return {
            "verdicts": {str(k): int(v) for k, v in verdicts},
            "states": {str(k): int(v) for k, v in states},
            "work": {("done" if d else "pending"): int(n) for d, n in work},
        }

    def state_of(self, repo_type: str, repo_id: str) -> tuple[str, str | None] | None:
        with self.db.tx() as cur:
            row = cur.execute(
                "SELECT state, why FROM repos WHERE repo_type = ? AND repo_id = ?", (repo_type, repo_id)
            ).fetchone()
        return None if row is None else (row[0], row[1])

    # --- watermark
    def watermark(self, name: str) -> str | None:
        with self.db.tx() as cur:
            row = cur.execute("SELECT value FROM watermark WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_watermark(self, name: str, value: str) -> None:
        with self.db.tx() as cur:
            cur.execute(
                "INSERT INTO watermark (name, value, updated) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated",
                (name, value, time.time()),
            )

    def watermarks(self) -> dict[str, str]:
        with self.db.tx() as cur:
            return {str(n): str(v) for n, v in cur.execute("SELECT name, value FROM watermark").fetchall()}

    # --- errors
    def note_error(self, what: str, message: str) -> None:
        with self.db.tx() as cur:
            cur.execute("INSERT INTO errors (at, what, message) VALUES (?, ?, ?)", (time.time(), what, message[:2000]))

    def last_errors(self, n: int = 10) -> list[dict[str, Any]]:
        with self.db.tx() as cur:
            rows = cur.execute("SELECT at, what, message FROM errors ORDER BY seq DESC LIMIT ?", (n,)).fetchall()
        return [{"at": at, "what": what, "message": message} for at, what, message in rows]
