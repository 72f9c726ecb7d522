"""Mine the gadget table: ``python -m tools.gadgets`` run by the ``.venv-gadgets`` interpreter
(``make gadgets``), which has the pinned packages of ``requirements/gadgets.txt`` installed.

Reads the standard library and the pinned packages' sources with ``ast`` (nothing is imported),
and writes ``analyzers/knowledge/gadgets.jsonl``: a provenance line, then one gadget per line,
sorted by name.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys
import sysconfig
from pathlib import Path

from tools.gadgets.callgraph import CallGraph
from tools.gadgets.mine import (
    CAP,
    DEPTH,
    STDLIB,
    find_gadgets,
    read_tree,
    select,
    stdlib_root,
    tool_digest,
    with_aliases,
    write_table,
)

ROOT = Path(__file__).resolve().parents[2]
PINS = ROOT / "requirements" / "gadgets.txt"
OUT = ROOT / "analyzers" / "knowledge" / "gadgets.jsonl"
# Top-level module -> the distribution pinned in requirements/gadgets.txt.
MINED = {
    "numpy": "numpy",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "joblib": "joblib",
    "pandas": "pandas",
    "transformers": "transformers",
    "datasets": "datasets",
    "torch": "torch",
    "keras": "keras",
}


def read_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gadgets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pins", type=Path, default=PINS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    pins = read_pins(args.pins)
    site = Path(sysconfig.get_paths()["purelib"])
    packages: dict[str, tuple[str, str]] = {}
    modules = read_tree(stdlib_root())
    for info in modules:
        packages[info.name.split(".")[0]] = (STDLIB, platform.python_version())
    for top, dist in MINED.items():
        if dist not in pins:
            continue
        installed = importlib.metadata.version(dist).split("+")[0]
        if installed != pins[dist]:
            print(f"{dist} {installed} is installed, {pins[dist]} is pinned: run make gadgets", file=sys.stderr)
            return 2
        modules.extend(read_tree(site / top, top))
        packages[top] = (dist, installed)
    graph = CallGraph(modules)
    kept, totals = select(with_aliases(find_gadgets(graph, packages), graph), CAP)
    provenance = {
        "tool": "tools/gadgets",
        "tool_sha256": tool_digest(),
        "python": platform.python_version(),
        "pins": pins,
        "depth": DEPTH,
        "cap_per_package_and_sink": CAP,
        "modules_read": len(modules),
        "found": totals,
        "kept": {p: sum(1 for g in kept if g.package == p) for p in totals},
    }
    write_table(args.out, kept, provenance)
    print(f"{len(kept)} gadgets kept of {sum(totals.values())} found: {totals}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
