"""The start-up guard: what a fresh ``malhug`` process imports (never how long it takes).

The rule, stated here and nowhere else in the code: a scan of a benign pickle imports neither
libcst, h5py nor huggingface_hub, and ``malhug --version`` stays under 100 ms. Those three are the
heavy imports (the script analysis, Keras HDF5, the hub) that only some files or commands need, so
they are imported where they are needed, lazily; everything else is imported the ordinary way, at
the top of its module. ``--version`` is kept fast by importing no analyzer, hub, server or libcst
module at all; ``make bench-startup`` measures it (``bench/startup/RESULTS.md``): tests count, they
never time.

Also forbidden here, because it is about layering rather than milliseconds and costs nothing to
keep: a scan of a local file does not load the hub layer (``malhug.hub`` and its HTTP client,
httpx) or the language server (``malhug.server``).
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HEAVY = ("libcst", "h5py", "huggingface_hub")
LAYERING = ("malhug.hub", "malhug.server", "httpx")
# What ``--version`` must not load on top of HEAVY and LAYERING: any analyzer.
ANALYZERS = ("malhug.analyzers",)

_SCAN = """
import json, sys
from malhug.cli import main
with open(sys.argv[2], "w") as out:
    sys.stdout = out
    code = main(["scan", sys.argv[1], "--format", "json", "--offline", "--no-cache"])
    sys.stdout = sys.__stdout__
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

_VERSION = """
import io, json, sys
from malhug.cli import main
sys.stdout = io.StringIO()
code = main(["--version"])
printed, sys.stdout = sys.stdout.getvalue(), sys.__stdout__
print(json.dumps({"code": code, "printed": printed, "modules": sorted(sys.modules)}))
"""


def _child(script: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120, check=True
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if any(m == name or m.startswith(name + ".") for m in modules)]


@pytest.mark.parametrize("protocol", [2, 4])
def test_a_benign_pickle_scan_imports_no_heavy_library_and_no_other_layer(tmp_path: Path, protocol: int) -> None:
    path = tmp_path / "weights.pkl"
    path.write_bytes(pickle.dumps({"weights": [0.5, 1.5], "names": ("a", "b"), "step": 3}, protocol=protocol))
    report_path = tmp_path / "report.json"
    result = _child(_SCAN, str(path), str(report_path))
    assert result["code"] == 0
    (file,) = json.loads(report_path.read_text())["files"]
    assert (file["format"], file["verdict"], file["findings"]) == ("pickle", "clean", [])
    assert "malhug.analyzers.pickle.analyzer" in result["modules"]  # the scan did run
    assert _loaded(result["modules"], HEAVY + LAYERING) == []


def test_version_imports_no_analyzer_hub_server_or_heavy_library() -> None:
    from malhug import __version__

    result = _child(_VERSION)
    assert (result["code"], result["printed"]) == (0, f"malhug {__version__}\n")
    assert "malhug.cli" in result["modules"]
    assert _loaded(result["modules"], HEAVY + LAYERING + ANALYZERS) == []
