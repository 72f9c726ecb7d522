"""The wheel holds every package of the three source folders and the rule catalog data.

An editable install imports a subpackage even when packaging forgot it; only the wheel tells.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"src/malhug": "malhug", "analyzers": "malhug/analyzers", "server": "malhug/server"}


def _expected_modules() -> set[str]:
    expected = set()
    for folder, prefix in FOLDERS.items():
        base = ROOT / folder
        for py in base.rglob("*.py"):
            rel = py.relative_to(base)
            if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                continue
            if not (py.parent / "__init__.py").exists():
                continue
            expected.add(f"{prefix}/{rel.as_posix()}")
    return expected


@pytest.mark.slow
def test_wheel_contains_every_module_and_the_rules(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("malhug-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = _expected_modules() - names
    assert not missing, f"modules missing from the wheel: {sorted(missing)[:20]}"
    for toml in (ROOT / "src/malhug/core/rules").glob("*.toml"):
        assert f"malhug/core/rules/{toml.name}" in names
    assert any(n.endswith("entry_points.txt") for n in names)
