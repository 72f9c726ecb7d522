"""``.pre-commit-hooks.yaml``: it parses, and every hook runs a real command with options the parser accepts.

The file is our own configuration, read with ``yaml.safe_load`` (data only).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from malhug.cli import build_parser
from malhug.core.filetypes import MODEL_SUFFIXES

ROOT = Path(__file__).resolve().parents[2]
HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"


def hooks() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(HOOKS_FILE.read_text())
    assert isinstance(data, list)
    return {h["id"]: h for h in data}


def _parses(entry: str, *files: str) -> bool:
    argv = shlex.split(entry)
    assert argv[0] == "malhug"
    try:
        build_parser().parse_args([*argv[1:], *files])  # pre-commit appends the file names
    except SystemExit:
        return False
    return True


def _commands() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices or ())


def test_the_file_declares_both_hooks_with_the_keys_pre_commit_needs() -> None:
    found = hooks()
    assert set(found) == {"malhug-scan", "malhug-pin-check"}
    for hook in found.values():
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python"  # pre-commit installs this package and runs its console script


def test_malhug_scan_runs_a_real_command_on_python_notebooks_and_model_files() -> None:
    hook = hooks()["malhug-scan"]
    assert hook["entry"] == "malhug scan" and _parses(hook["entry"], "a.py", "b.ipynb")
    assert _parses(hook["entry"] + " --follow-references", "a.py")  # the documented extra argument
    files = re.compile(hook["files"])
    for name in ("train.py", "tool.pyw", "explore.ipynb", "MODEL.PKL", *(f"m{s}" for s in MODEL_SUFFIXES)):
        assert files.search(name), name
    for name in ("README.md", "data.csv", "config.json", "pyproject.toml"):
        assert not files.search(name), name


def test_malhug_pin_check_names_the_pin_command() -> None:
    hook = hooks()["malhug-pin-check"]
    assert hook["entry"] == "malhug pin --check" and hook["types_or"] == ["python", "jupyter"]
    assert "pin" in _commands()
    assert _parses(hook["entry"], "a.py", "b.ipynb")


def test_the_commands_in_docs_ci_parse() -> None:
    text = (ROOT / "docs" / "CI.md").read_text()
    lines = re.findall(r"(?:^|run: |^\s*)(malhug (?:scan|pin)[^\n#`]*)", text, flags=re.MULTILINE)
    assert any("--follow-references --format sarif -o malhug.sarif" in line for line in lines)
    assert "github/codeql-action/upload-sarif" in text and "pip install malhug" in text
    assert any(line.startswith("malhug pin") for line in lines)
    for line in lines:
        assert _parses(line.strip()), line
