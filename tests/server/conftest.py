"""Fixtures for the language-server tests: the fake Hub with a poisoned and a clean repository."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builders.pickles import call, pickle_of
from tests.fakehub import FakeHub

SENTINEL = "echo malhug-sentinel-lsp"


def safetensors_bytes() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\x00\x00\x80\x3f"


def evil_pickle() -> bytes:
    """A pickle that would call os.system (built from opcodes, never loaded)."""
    return pickle_of([call("os.system", SENTINEL)])


@dataclass
class HubRepos:
    hub: FakeHub
    evil_clean_sha: str  # the older, clean commit of org/evil
    evil_head: str
    clean_head: str


@pytest.fixture()
def hub(tmp_path: Path) -> Iterator[HubRepos]:
    with FakeHub(tmp_path / "hub") as fake:
        evil = fake.repo("org/evil")
        good = evil.commit({"config.json": "{}", "model.safetensors": safetensors_bytes()}, title="init")
        head = evil.commit(
            {"pytorch_model.bin": evil_pickle()},
            title="add weights",
            security={"pytorch_model.bin": {"status": "unsafe"}},  # what the Hub's own scanner says
        )
        clean = fake.repo("org/clean")
        clean_head = clean.commit({"config.json": "{}", "model.safetensors": safetensors_bytes()}, title="init")
        yield HubRepos(fake, good, head, clean_head)
