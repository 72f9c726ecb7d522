"""The lists the VS Code client shares with Python: ``tools/gen_lists.py`` loaded as a module."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.tooling import load_tool

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "client-vscode" / "package.json"


@pytest.fixture(scope="session")
def gen() -> ModuleType:
    return load_tool("gen_lists")


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data
