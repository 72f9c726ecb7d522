"""``malhug pin``: pin every Hub reference of a project to the newest revision that scans clean.

The codemod is pure (``malhug.analyzers.api.plan_text``); the revisions come from the hub layer
(``malhug.hub.pinning.PinLookup``, one lookup per reference). Files are written atomically (a temp
file in the same folder, then a rename; the mode is kept), and only when the codemod's round-trip
checks passed. ``--check`` and ``--diff`` write nothing.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from malhug.cli.status import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS

if TYPE_CHECKING:
    from malhug.analyzers.api import FilePlan

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "site-packages",
        "__pycache__",
        "node_modules",
        ".tox",
        ".nox",
        ".ipynb_checkpoints",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)
SUFFIXES = (".py", ".ipynb")
MAX_FILE_BYTES = 4 * 2**20  # a larger .py file is reported, not read
MAX_FILES = 20_000


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pin = sub.add_parser("pin", help="pin every hub reference in Python code to the newest revision that scans clean")
    pin.add_argument("paths", nargs="*", metavar="PATH", help="Python files or folders (default: the current folder)")
    pin.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file would change")
    pin.add_argument("--diff", action="store_true", help="write nothing; print a unified diff of the changes")
    pin.add_argument("--offline", action="store_true", help="never use the network; only the local caches")
    pin.add_argument("--endpoint", metavar="URL", help="Hub endpoint (default: HF_ENDPOINT or https://huggingface.co)")
    pin.set_defaults(run=run)


def python_files(paths: list[str], errors: list[str]) -> Iterator[Path]:
    """The ``.py`` and ``.ipynb`` files under ``paths`` in name order; environments and VCS folders skipped."""
    count = 0
    for raw in paths:
        root = Path(raw)
        if root.is_symlink():
            errors.append(f"{raw}: a symbolic link; not followed")
            continue
        if root.is_file():
            yield root
            continue
        if not root.is_dir():
            errors.append(f"{raw}: no such file or folder")
            continue
        for folder, dirs, files in os.walk(root, onerror=lambda e: errors.append(f"{e.filename}: {e.strerror}")):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not Path(folder, d).is_symlink())
            for name in sorted(files):
                path = Path(folder, name)
                if name.endswith(SUFFIXES) and not path.is_symlink() and path.is_file():
                    count += 1
                    if count > MAX_FILES:
                        errors.append(f"{raw}: more than {MAX_FILES} Python files; the rest were not read")
                        return
                    yield path


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` (same mode, same bytes for what did not change, newlines as written)."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".malhug-pin", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _read(path: Path) -> tuple[str | None, str | None]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None, f"larger than {MAX_FILE_BYTES} bytes; not read"
        with open(path, encoding="utf-8", newline="") as f:
            return f.read(), None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot be read: {exc}"


def _print_plan(path: Path, plan: FilePlan, verb: str, out: TextIO) -> None:
    for note in plan.changes:
        print(f"{path}:{note.line}:{note.column}: {verb} {note.message}", file=out)
    for note in plan.notes:
        print(f"{path}:{note.line}:{note.column}: note: {note.message}", file=out)
    for note in plan.problems:
        print(f"{path}:{note.line}:{note.column}: error: {note.message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from malhug.analyzers.api import plan_notebook, plan_text
    from malhug.hub.client import HubClient
    from malhug.hub.pinning import PinLookup

    client = HubClient(endpoint=args.endpoint, offline=True if args.offline else None)
    lookup = PinLookup(client)
    dry = args.check or args.diff
    verb = "would set" if dry else "set"
    out = sys.stderr if args.diff else sys.stdout  # --diff keeps stdout a patch
    errors: list[str] = []
    changed = problems = files = 0
    try:
        for path in python_files(args.paths or ["."], errors):
            files += 1
            text, why = _read(path)
            if text is None:
                errors.append(f"{path}: {why}")
                continue
            planner = plan_notebook if path.suffix == ".ipynb" else plan_text
            plan = planner(text, lookup.decide)
            if plan.error is not None:
                errors.append(f"{path}: left untouched: {plan.error}")
                continue
            _print_plan(path, plan, verb, out)
            problems += len(plan.problems)
            if not plan.changed:
                continue
            changed += 1
            if args.diff:
                name = path.as_posix()
                diff = difflib.unified_diff(
                    plan.text.splitlines(keepends=True),
                    plan.new_text.splitlines(keepends=True),
                    fromfile=f"a/{name}",
                    tofile=f"b/{name}",
                )
                sys.stdout.writelines(diff)
            if not dry:
                write_atomically(path, plan.new_text)
    finally:
        client.close()
    for error in errors:
        print(f"malhug pin: {error}", file=sys.stderr)
    state = "would change" if dry else "changed"
    print(
        f"{files} file(s) read, {changed} {state}, {problems} reference(s) not pinned, {len(errors)} error(s)", file=out
    )
    if errors or problems:
        return EXIT_ERROR
    return EXIT_FINDINGS if dry and changed else EXIT_CLEAN
