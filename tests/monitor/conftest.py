"""Fixtures of the monitor tests: a store on each backend (SQLite file; a real PostgreSQL server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from malhug.monitor.store import Database, Store
from tests.monitor.postgres import binaries, postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bindir = binaries()
    if bindir is None:
        reason = "PostgreSQL binaries missing (/usr/lib/postgresql/*/bin): tools/setup-python.sh installs them"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with postgres_server(bindir) as url:
        yield url


def _fresh_schema(url: str) -> str:
    """A database of its own for one test: a new schema on the session's server."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{name}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_target(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return str(tmp_path / "monitor.sqlite3")
    return _fresh_schema(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    s = Store(Database(store_target))
    yield s
    s.close()
