"""What a fresh ``malhug scan FILE`` process imports (never how long it takes).

Each benchmark run starts one process per file, so import cost is part of every file's scan. A local
scan must not load the hub layer, the verdict cache, the script parser, libraries only some formats
need, logging (nothing is logged) or dataclasses; a clean file must not even parse the rule catalog.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.builders.pickles import call, pickle_of

# Never needed to scan a local pickle with --offline --no-cache.
NEVER = (
    "libcst",  # the Python-script analysis (a shell command does not need it)
    "huggingface_hub",
    "httpx",
    "sqlite3",  # the verdict cache
    "malhug.hub",
    "malhug.server",
    "h5py",
    "numpy",
    "logging",  # imported only when something is logged
    # A dataclass compiles its methods at import (~0.3 ms a class) and dataclasses imports inspect
    # (~4 ms): classes on a scan's path are malhug.core.record Records instead.
    "dataclasses",
    "inspect",
    "tarfile",
    "lz4",
    "py7zr",
    "shutil",  # argparse's help formatter imports it for the terminal width (cli._Formatter does not)
)
# The Python-payload analysis: a shell command that runs no Python needs none of it.
PYTHON_ANALYSIS = ("malhug.analyzers.scripts.engine", "malhug.analyzers.scripts.relevance", "ast")
# Needed only to report a finding (the rule catalog's TOML files).
ONLY_FOR_FINDINGS = ("tomllib",)

_CHILD = """
import json, sys
from malhug.cli import main
with open(sys.argv[2], "w") as out:
    sys.stdout = out
    code = main(["scan", sys.argv[1], "--format", "json", "--offline", "--no-cache"])
    sys.stdout = sys.__stdout__
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _cold_scan(path: Path, tmp_path: Path) -> tuple[int, Any, set[str]]:
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(report)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(proc.stdout)
    return result["code"], json.loads(report.read_text()), set(result["modules"])


def _loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


def test_a_shell_command_pickle_loads_only_what_its_analysis_needs(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle_of([call("posix.system", "echo cold-start")]))
    code, report, modules = _cold_scan(path, tmp_path)
    assert code == 1
    (file,) = report["files"]
    assert file["verdict"] == "malicious"
    assert "MH101" in {f["rule"] for f in file["findings"]}
    assert "malhug.analyzers.scripts.shell" in modules  # the command was analyzed
    assert not [name for name in (*NEVER, *PYTHON_ANALYSIS) if _loaded(modules, name)]


@pytest.mark.parametrize("protocol", [2, 4])
def test_a_clean_pickle_loads_neither_the_rule_catalog_nor_heavy_modules(tmp_path: Path, protocol: int) -> None:
    path = tmp_path / "weights.pkl"
    path.write_bytes(pickle.dumps({"weights": [0.5, 1.5], "names": ("a", "b"), "step": 3}, protocol=protocol))
    code, report, modules = _cold_scan(path, tmp_path)
    assert code == 0
    (file,) = report["files"]
    assert (file["format"], file["verdict"], file["findings"]) == ("pickle", "clean", [])
    assert "malhug.analyzers.pickle.analyzer" in modules
    assert not [name for name in (*NEVER, *ONLY_FOR_FINDINGS) if _loaded(modules, name)]
