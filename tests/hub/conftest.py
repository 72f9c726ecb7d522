"""Hub tests: every test gets its own fake Hub, HF cache, verdict cache and a clean environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from malhug.hub.cache import VerdictCache
from malhug.hub.client import HubClient
from tests.fakehub import FakeHub

HF_VARS = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_ENDPOINT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
    "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE",
)  # fmt: skip


@pytest.fixture(autouse=True)
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from huggingface_hub.utils import _detect_agent

    # huggingface_hub's own downloads must not look up huggingface.co (see keep_huggingface_hub_local).
    monkeypatch.setattr(_detect_agent, "_registry", {"standardEnvVars": [], "harnesses": {}})
    for name in HF_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("MALHUG_CACHE_DIR", str(tmp_path / "malhug-cache"))
    return tmp_path


@pytest.fixture()
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub(tmp_path / "hub") as h:
        yield h


@pytest.fixture()
def hf_cache(tmp_path: Path) -> Path:
    """The Hugging Face cache folder the environment points at."""
    return tmp_path / "hf-home" / "hub"


@pytest.fixture()
def make_client(hub: FakeHub, tmp_path: Path) -> Callable[..., HubClient]:
    def make(**kwargs: Any) -> HubClient:
        kwargs.setdefault("endpoint", hub.endpoint)
        kwargs.setdefault("verdict_cache", VerdictCache(tmp_path / "verdicts.sqlite3"))
        return HubClient(**kwargs)

    return make
