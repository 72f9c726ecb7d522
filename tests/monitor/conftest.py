"""Fixtures of the monitor tests: a store on each backend (SQLite file; a real PostgreSQL server)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from malhug.monitor.store import Database, Store
from tests.fakehub import FakeHub
from tests.monitor.postgres import binaries, fresh_schema, postgres_server


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


@pytest.fixture(params=["sqlite", "postgres"])
def store_target(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return str(tmp_path / "monitor.sqlite3")
    return fresh_schema(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    s = Store(Database(store_target))
    yield s
    s.close()


HF_VARS = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_ENDPOINT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
    "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE",
)  # fmt: skip


@pytest.fixture(autouse=True)
def monitor_env(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from huggingface_hub.utils import _detect_agent

    monkeypatch.setattr(_detect_agent, "_registry", {"standardEnvVars": [], "harnesses": {}})
    for name in HF_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("MALHUG_CACHE_DIR", str(tmp_path / "malhug-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture()
def hub(tmp_path) -> Iterator[FakeHub]:  # type: ignore[no-untyped-def]
    with FakeHub(tmp_path / "hub") as h:
        yield h
