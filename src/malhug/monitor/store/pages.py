"""Reads of the whole store a page at a time, for reports: memory does not grow with the store.

Repositories come in the report's order (malicious, suspicious, error, clean, then unscanned; by type
and id within each), each group read with keyset pagination (``WHERE (type, id) > last ORDER BY type,
id LIMIT page``): every query returns at most ``page`` rows, whatever the size of the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from malhug.monitor.store.db import Database

PAGE = 200
VERDICT_GROUPS: tuple[str | None, ...] = ("malicious", "suspicious", "error", "clean", None)
_KNOWN = "('malicious', 'suspicious', 'error', 'clean')"


class PagedReads:
    db: Database

    def iter_repos(self, since: float | None = None, page: int = PAGE) -> Iterator[dict[str, Any]]:
        """Every repository with its newest scan (``since``: scanned at or after that time), in the
        report's order, read ``page`` rows at a time."""
        for verdict in VERDICT_GROUPS:
            where = "r.verdict = ?" if verdict else f"(r.verdict IS NULL OR r.verdict NOT IN {_KNOWN})"
            args: tuple[Any, ...] = (verdict,) if verdict else ()
            if since is not None:
                where += " AND s.scanned_at >= ?"
                args += (since,)
            after = ("", "")
            while True:
                with self.db.tx() as cur:
                    rows = cur.execute(
                        "SELECT r.repo_type, r.repo_id, r.scanned_sha, r.verdict, r.first_seen, s.scanned_at,"
                        " s.files, r.state, r.why, s.error FROM repos r LEFT JOIN scans s"
                        " ON s.repo_type = r.repo_type AND s.repo_id = r.repo_id AND s.sha = r.scanned_sha"
                        f" WHERE {where} AND (r.repo_type > ? OR (r.repo_type = ? AND r.repo_id > ?))"
                        " ORDER BY r.repo_type, r.repo_id LIMIT ?",
                        (*args, after[0], after[0], after[1], page),
                    ).fetchall()
                yield from (repo_entry(row) for row in rows)
                if len(rows) < page:
                    break
                after = (str(rows[-1][0]), str(rows[-1][1]))

    def iter_events(self, since: float | None = None, page: int = PAGE) -> Iterator[tuple[Any, ...]]:
        """The events' rows (``Event`` fields) in order, ``page`` at a time."""
        after = 0
        while True:
            with self.db.tx() as cur:
                rows = cur.execute(
                    "SELECT seq, at, kind, repo_type, repo_id, sha, old_verdict, new_verdict, detail FROM events"
                    " WHERE seq > ? AND at >= ? ORDER BY seq LIMIT ?",
                    (after, since or 0.0, page),
                ).fetchall()
            yield from (tuple(r) for r in rows)
            if len(rows) < page:
                return
            after = int(rows[-1][0])


def repo_entry(row: tuple[Any, ...]) -> dict[str, Any]:
    """A repository's entry of the report (the JSON contract's keys) from a row of the repos/scans join."""
    repo_type, repo_id, sha, verdict, first_seen, scanned_at, files, state, why, error = row
    return {
        "type": repo_type,
        "id": repo_id,
        "sha": sha,
        "verdict": verdict,
        "files": json.loads(files) if files else [],
        "first_seen": first_seen,
        "scanned_at": scanned_at,
        "state": state,
        "why": why,
        "error": error,
    }
