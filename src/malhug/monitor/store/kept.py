"""The store's caches: file verdicts by (content, analyzer salt), the hub layer's other cached answers
(revision scans, refs) and the kept bytes, content-addressed."""

from __future__ import annotations

import hashlib
import json
import time

from malhug.monitor.store.db import Database


class KeptOps:
    db: Database

    # --- file verdicts and the hub layer's other cached answers
    def get_file_verdict(self, content_key: str, salt: str) -> str | None:
        with self.db.tx() as cur:
            row = cur.execute(
                "SELECT report FROM file_verdicts WHERE content_key = ? AND salt = ?", (content_key, salt)
            ).fetchone()
        return None if row is None else str(row[0])

    def put_file_verdict(self, content_key: str, salt: str, report: str) -> None:
        with self.db.tx() as cur:
            cur.execute(
                "INSERT INTO file_verdicts (content_key, salt, report, created) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (content_key, salt) DO UPDATE SET report = excluded.report,"
                " analyses = file_verdicts.analyses + 1",
                (content_key, salt, report, time.time()),
            )

    def analyses(self) -> dict[tuple[str, str], int]:
        """How often each (content, salt) was analyzed: more than once means work was repeated."""
        with self.db.tx() as cur:
            rows = cur.execute("SELECT content_key, salt, analyses FROM file_verdicts").fetchall()
        return {(str(k), str(s)): int(n) for k, s, n in rows}

    def get_cached(self, table: str, key: str) -> str | None:
        with self.db.tx() as cur:
            row = cur.execute("SELECT value FROM hub_cache WHERE tbl = ? AND key = ?", (table, key)).fetchone()
        return None if row is None else str(row[0])

    def put_cached(self, table: str, key: str, value: str) -> None:
        with self.db.tx() as cur:
            cur.execute(
                "INSERT INTO hub_cache (tbl, key, value, created) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (tbl, key) DO UPDATE SET value = excluded.value, created = excluded.created",
                (table, key, value, time.time()),
            )

    def clear_cached(self) -> None:
        with self.db.tx() as cur:
            cur.execute("DELETE FROM hub_cache")

    # --- kept bytes
    def keep(self, content_id: str, path: str, size: int, segments: list[tuple[int, bytes]]) -> None:
        """The bytes the analyzers read of one file, by offset (content-addressed, stored once)."""
        refs = []
        with self.db.tx() as cur:
            for offset, data in segments:
                digest = hashlib.sha256(data).hexdigest()
                cur.execute(
                    "INSERT INTO blobs (digest, size, data) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING",
                    (digest, len(data), data),
                )
                refs.append([offset, digest])
            cur.execute(
                "INSERT INTO kept (content_id, path, size, segments) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (content_id) DO UPDATE SET segments = excluded.segments",
                (content_id, path, size, json.dumps(refs)),
            )

    def kept(self, content_id: str) -> tuple[int, list[tuple[int, bytes]]] | None:
        with self.db.tx() as cur:
            row = cur.execute("SELECT size, segments FROM kept WHERE content_id = ?", (content_id,)).fetchone()
            if row is None:
                return None
            out = []
            for offset, digest in json.loads(row[1]):
                blob = cur.execute("SELECT data FROM blobs WHERE digest = ?", (digest,)).fetchone()
                if blob is None:
                    return None
                out.append((int(offset), bytes(blob[0])))
        return int(row[0]), out
