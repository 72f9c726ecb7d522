"""The import contracts of pyproject.toml cover what exists, and import-linter enforces them.

A new format package under ``analyzers/`` must join the independence contract, a new analyzers
module the list that only ``malhug.analyzers.api`` may be imported from outside: otherwise
``make layers`` would keep passing while the rule it stands for no longer holds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
ANALYZERS = ROOT / "analyzers"
# Packages every format may import: what formats share, and the table of dangerous callables.
SHARED_PACKAGES = {"shared", "knowledge"}


def _contract(contract_id: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c.get("id") == contract_id]
    return contract


def _packages() -> set[str]:
    return {p.name for p in ANALYZERS.iterdir() if (p / "__init__.py").is_file()}


def _format_packages() -> set[str]:
    return {f"malhug.analyzers.{name}" for name in _packages() - SHARED_PACKAGES}


def test_every_format_package_is_in_the_independence_contract() -> None:
    contract = _contract("independent-formats")
    assert contract["type"] == "independence"
    assert set(contract["modules"]) == _format_packages()
    assert {
        "malhug.analyzers.containers",
        "malhug.analyzers.keras",
        "malhug.analyzers.pickle",
        "malhug.analyzers.usercode",
    } <= (_format_packages())


def test_shared_packages_may_import_no_format_package() -> None:
    contract = _contract("shared-stays-shared")
    assert set(contract["source_modules"]) == {f"malhug.analyzers.{name}" for name in SHARED_PACKAGES}
    assert _format_packages() | {"malhug.analyzers.dispatch", "malhug.analyzers.detect"} <= set(
        contract["forbidden_modules"]
    )


def test_every_analyzers_module_but_the_api_is_protected() -> None:
    contract = _contract("api-only")
    assert contract["type"] == "protected"
    assert contract["allowed_importers"] == ["malhug.analyzers"]
    modules = {p.stem for p in ANALYZERS.glob("*.py") if p.stem not in ("__init__", "api")}
    expected = {f"malhug.analyzers.{name}" for name in modules | _packages()}
    assert set(contract["protected_modules"]) == expected


def test_the_layers_contract_lists_every_top_level_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (layers,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    # The monitor is a layer beside the language server: both use the hub, neither uses the other.
    assert layers["layers"] == [
        "malhug.cli",
        "malhug.server | malhug.monitor",
        "malhug.hub",
        "malhug.analyzers",
        "malhug.core",
    ]
    packages = {p.name for p in (ROOT / "src" / "malhug").iterdir() if (p / "__init__.py").is_file()}
    listed = {name.split(".")[1] for layer in layers["layers"] for name in layer.split(" | ")}
    assert packages - {"output"} <= listed | {"server", "analyzers"}, packages - listed


def _layout(tmp_path: Path) -> Path:
    """A copy of the installed package's tree (as ``make layout`` lays it out) that a test may edit."""
    tree = tmp_path / "layout"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "src" / "malhug", tree / "malhug", ignore=ignore)
    shutil.copytree(ANALYZERS, tree / "malhug" / "analyzers", ignore=ignore)
    shutil.copytree(ROOT / "server", tree / "malhug" / "server", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tree


def _lint_imports(tmp_path: Path, tree: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "lint-imports"
    if not script.exists():
        pytest.skip("import-linter is not installed in this environment")
    args = [str(script), "--no-cache"] + [arg for c in contracts for arg in ("--contract", c)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)


def _prepend_import(path: Path, line: str) -> None:
    text = path.read_text()
    head, sep, rest = text.partition("from __future__ import annotations\n")
    assert sep, f"{path} has no __future__ import to insert after"
    path.write_text(f"{head}{sep}\n{line}\n{rest}")


@pytest.mark.slow
def test_a_cross_format_import_breaks_the_contracts(tmp_path: Path) -> None:
    tree = _layout(tmp_path)
    kept = _lint_imports(tmp_path, tree, "independent-formats", "api-only")
    assert kept.returncode == 0, kept.stdout + kept.stderr

    _prepend_import(tree / "malhug" / "analyzers" / "containers" / "common.py", "import malhug.analyzers.keras.config")
    _prepend_import(tree / "malhug" / "server" / "settings.py", "import malhug.analyzers.limits")
    broken = _lint_imports(tmp_path, tree, "independent-formats", "api-only")
    assert broken.returncode != 0
    out = " ".join(broken.stdout.split())
    assert "malhug.analyzers.containers is not allowed to import malhug.analyzers.keras" in out
    assert "malhug.analyzers.containers.common -> malhug.analyzers.keras.config" in out
    assert "malhug.server.settings -> malhug.analyzers.limits" in out


def test_every_name_of_the_api_resolves() -> None:
    from malhug.analyzers import api

    missing = [name for name in api.__all__ if getattr(api, name, None) is None]
    assert missing == []
    assert api.analyze_text.__module__ == "malhug.analyzers.scripts.analyzer"
    with pytest.raises(AttributeError, match="no attribute 'scan_nothing'"):
        api.scan_nothing  # noqa: B018


def test_a_context_made_without_the_dispatcher_has_no_seams() -> None:
    from malhug.analyzers.context import ScanContext
    from malhug.analyzers.dispatch import SEAMS

    with pytest.raises(RuntimeError, match="no seams"):
        ScanContext(name="a.zip").scan_nested(b"\x80\x04N.", "inner.pkl")
    ctx = ScanContext(name="a.zip", seams=SEAMS)
    assert ctx.scan_nested(b"\x80\x04N.", "inner.pkl") == "pickle"
    assert ctx.formats == ["pickle"]
