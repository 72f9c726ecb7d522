"""The benchmark's virtual environments (all git-ignored, none of them is ``.venv``).

- ``.venv-bench``: the peers at the versions in ``bench/models/requirements.txt``; created when missing,
  installed again when that file changes.
- ``.venv-bench-malhug``: malhug installed the way a user installs it. Created when missing, with
  malhug's run-time dependencies (``[project].dependencies`` of pyproject.toml) at the versions
  pinned in ``requirements/dev.txt`` (reinstalled when either file changes). Then, on every run, a
  regular wheel of the current checkout (working tree, uncommitted changes included) is built and
  installed with ``--no-deps``: no editable finder on ``sys.meta_path``, files compiled from
  site-packages, as after ``pip install malhug``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from bench.models.tools import BENCH_VENV, MAIN_VENV, ROOT

PEER_REQUIREMENTS = ROOT / "bench" / "models" / "requirements.txt"
PINS = ROOT / "requirements" / "dev.txt"
PYPROJECT = ROOT / "pyproject.toml"
# What the wheel is built from (setup.py maps analyzers/ and server/ into the malhug package).
SOURCES = ("pyproject.toml", "setup.py", "README.md", "src", "analyzers", "server")
DEPS_STAMP = ".malhug-runtime-deps"


def ensure_bench_venv() -> None:
    """Create ``.venv-bench`` when missing; install the peers again when their requirements changed."""
    stamp = BENCH_VENV / ".peer-requirements"
    wanted = PEER_REQUIREMENTS.read_text()
    if (BENCH_VENV / "bin" / "picklescan").exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    if not (BENCH_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "-r", str(PEER_REQUIREMENTS)], check=True)
    stamp.write_text(wanted)


def runtime_dependencies() -> list[str]:
    return list(tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"])


def ensure_malhug_venv(venv: Path) -> str:
    """Make ``venv`` hold a fresh non-editable install of the checkout; returns where malhug imports from.

    ``venv == .venv`` (the editable development install) is used as it is.
    """
    python = venv / "bin" / "python"
    if venv.resolve() != MAIN_VENV.resolve():
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        deps = runtime_dependencies()
        key = hashlib.sha256("\n".join([*deps, PINS.read_text()]).encode()).hexdigest()
        stamp = venv / DEPS_STAMP
        if not stamp.exists() or stamp.read_text() != key:
            # -c: every dependency, direct or not, at the version the project pins for development
            # (without extras such as psycopg[binary]: pip's constraints refuse them).
            pins = venv / "constraints.txt"
            pins.write_text(re.sub(r"\[[^\]]*\]", "", PINS.read_text()))
            subprocess.run([str(python), "-m", "pip", "install", "-q", "-c", str(pins), *deps], check=True)
            stamp.write_text(key)
        install_checkout(python)
    where = subprocess.run(
        [str(python), "-c", "import malhug; print(malhug.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    ).stdout.strip()
    if venv.resolve() != MAIN_VENV.resolve() and not Path(where).resolve().is_relative_to(venv.resolve()):
        raise SystemExit(f"{venv}: malhug imports from {where}, not from the venv's own install")
    return where


def install_checkout(python: Path) -> None:
    """Build a wheel from a copy of the working tree (an in-tree build would write build/ and
    *.egg-info into the shared checkout) with the development venv's setuptools, and install it."""
    with tempfile.TemporaryDirectory(prefix="malhug-bench-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "node_modules")
        for name in SOURCES:
            path = ROOT / name
            if path.is_dir():
                shutil.copytree(path, src / name, ignore=ignore)
            else:
                shutil.copy2(path, src / name)
        dist = Path(tmp) / "dist"
        subprocess.run(
            [str(MAIN_VENV / "bin" / "python"), "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
            + ["-w", str(dist), str(src)],
            check=True,
        )
        (wheel,) = dist.glob("malhug-*.whl")
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall", str(wheel)],
            check=True,
        )


def source_state() -> dict[str, object]:
    """The commit the wheel's sources are at and the source files that differ from it (the working
    tree is what gets built)."""

    def git(*args: str) -> str:
        run = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return run.stdout if run.returncode == 0 else ""

    status = git("status", "--porcelain", "--untracked-files=all", "--", *SOURCES)
    changed = sorted({line[3:].strip() for line in status.splitlines() if line.strip()})
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or "?", "changed": changed}
