"""The monitor store, the same tests on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import time

from malhug.monitor.store import Database, Store
from malhug.monitor.store.schema import MIGRATIONS

SHA1, SHA2 = "a" * 40, "b" * 40


def _scan(verdict: str, path: str = "pytorch_model.bin") -> dict:
    return {"verdict": verdict, "files": [{"path": path, "verdict": verdict, "findings": []}], "bytes_read": 10}


def test_migrations_apply_once_and_record_the_version(store_target: str) -> None:
    first = Database(store_target)
    assert first.migrate() == len(MIGRATIONS)
    again = Database(store_target)  # a second runner on the same store: nothing to apply
    assert again.migrate() == len(MIGRATIONS)
    with again.tx() as cur:
        assert cur.execute("SELECT COUNT(*), MAX(version) FROM schema_version").fetchone() == (1, len(MIGRATIONS))
    first.close()
    again.close()


def test_a_new_sha_is_queued_once_and_a_known_one_not_again(store: Store) -> None:
    assert store.note_listed("model", "org/m", SHA1, "2026-01-01T00:00:00Z", "ok", None) is True
    assert store.note_listed("model", "org/m", SHA1, "2026-01-01T00:00:00Z", "ok", None) is False
    (item,) = store.claim("runner-1", 10, 60)
    assert (item.repo_id, item.sha, item.attempts) == ("org/m", SHA1, 1)
    store.finish(item, "runner-1", _scan("clean"))
    assert store.note_listed("model", "org/m", SHA1, "2026-01-01T00:00:00Z", "ok", None) is False
    assert store.note_listed("model", "org/m", SHA2, "2026-01-02T00:00:00Z", "ok", None) is True
    assert store.pending() == 1


def test_gated_and_vanished_repos_are_recorded_with_why_and_not_queued(store: Store) -> None:
    assert store.note_listed("model", "org/gated", SHA1, None, "gated", "gated: manual approval") is False
    assert store.state_of("model", "org/gated") == ("gated", "gated: manual approval")
    assert store.pending() == 0
    assert store.counts()["states"] == {"gated": 1}


def test_a_lease_keeps_work_from_a_second_runner_until_it_expires(store: Store) -> None:
    store.note_listed("model", "org/m", SHA1, None, "ok", None)
    (item,) = store.claim("runner-1", 10, 0.2)
    assert store.claim("runner-2", 10, 60) == []
    time.sleep(0.3)  # runner-1 died: its lease ran out
    (again,) = store.claim("runner-2", 10, 60)
    assert (again.sha, again.attempts) == (SHA1, 2)
    store.finish(again, "runner-2", _scan("clean"))
    assert store.claim("runner-1", 10, 60) == []


def test_verdict_changes_are_events_and_a_first_clean_scan_is_not(store: Store) -> None:
    store.note_listed("model", "org/m", SHA1, None, "ok", None)
    (item,) = store.claim("r", 1, 60)
    assert store.finish(item, "r", _scan("clean")) is None
    store.note_listed("model", "org/m", SHA2, None, "ok", None)
    (item,) = store.claim("r", 1, 60)
    event = store.finish(item, "r", _scan("malicious"))
    assert event is not None
    assert (event.kind, event.repo_id, event.sha, event.old_verdict, event.new_verdict) == (
        "verdict-changed",
        "org/m",
        SHA2,
        "clean",
        "malicious",
    )
    assert [e.seq for e in store.events()] == [event.seq]
    (repo,) = store.repos()
    assert (repo["type"], repo["id"], repo["sha"], repo["verdict"]) == ("model", "org/m", SHA2, "malicious")
    assert repo["files"] == [{"path": "pytorch_model.bin", "verdict": "malicious", "findings": []}]


def test_webhook_enqueue_keeps_first_seen_and_skips_scanned_shas(store: Store) -> None:
    assert store.enqueue("dataset", "org/d", SHA1, "webhook") is True
    first_seen = store.repos()[0]["first_seen"]
    (item,) = store.claim("r", 1, 60)
    store.finish(item, "r", _scan("suspicious", "loader.py"))
    assert store.enqueue("dataset", "org/d", SHA1, "webhook") is False
    assert store.repos()[0]["first_seen"] == first_seen


def test_file_verdicts_count_repeated_analyses(store: Store) -> None:
    store.put_file_verdict("sha256:ab|", "salt1", '{"verdict": "clean"}')
    store.put_file_verdict("sha256:ab|", "salt2", '{"verdict": "clean"}')
    assert store.get_file_verdict("sha256:ab|", "salt1") == '{"verdict": "clean"}'
    assert store.get_file_verdict("sha256:ab|", "salt3") is None
    store.put_file_verdict("sha256:ab|", "salt1", '{"verdict": "clean"}')
    assert store.analyses() == {("sha256:ab|", "salt1"): 2, ("sha256:ab|", "salt2"): 1}


def test_kept_bytes_are_content_addressed_and_come_back_by_offset(store: Store) -> None:
    store.keep("sha256:f1", "a.bin", 1000, [(0, b"PK\x03\x04head"), (990, b"tail\x00")])
    store.keep("sha256:f2", "b.bin", 1000, [(0, b"PK\x03\x04head")])  # same bytes: one blob
    assert store.kept("sha256:f1") == (1000, [(0, b"PK\x03\x04head"), (990, b"tail\x00")])
    assert store.kept("sha256:nope") is None
    with store.db.tx() as cur:
        assert cur.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 2


def test_watermark_and_errors(store: Store) -> None:
    assert store.watermark("model") is None
    store.set_watermark("model", "2026-01-01T00:00:00Z")
    store.set_watermark("model", "2026-02-01T00:00:00Z")
    assert store.watermarks() == {"model": "2026-02-01T00:00:00Z"}
    store.note_error("listing", "the Hub answered 500")
    assert [e["message"] for e in store.last_errors()] == ["the Hub answered 500"]


def test_iter_scanned_pages_through_every_scanned_repo(store: Store) -> None:
    for i in range(7):
        store.note_listed("model", f"org/m{i}", f"{i:040x}", None, "ok", None)
    store.note_listed("dataset", "org/d", SHA1, None, "ok", None)
    store.note_listed("model", "org/unscanned", SHA2, None, "gated", "gated")
    for item in store.claim("r", 100, 60):
        store.finish(item, "r", _scan("clean"))
    got = list(store.iter_scanned(page=3))
    assert [(t, i) for t, i, _, _ in got] == [("dataset", "org/d")] + [("model", f"org/m{i}") for i in range(7)]
    assert {v for _, _, _, v in got} == {"clean"}


def test_a_repo_found_gone_by_its_scan_is_not_queued_again_for_that_sha(store: Store) -> None:
    store.note_listed("model", "org/gone", SHA1, None, "ok", None)
    (item,) = store.claim("r", 1, 60)
    store.unreachable(item, "vanished", "repository not found")
    assert store.pending() == 0
    assert store.note_listed("model", "org/gone", SHA1, None, "ok", None) is False  # the listing lags
    assert store.state_of("model", "org/gone") == ("vanished", "repository not found")
    assert store.repos()[0]["verdict"] is None
    assert store.note_listed("model", "org/gone", SHA2, None, "ok", None) is True  # back, with a new commit
    assert store.state_of("model", "org/gone") == ("ok", None)
