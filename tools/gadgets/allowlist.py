"""Measure what benign model files import and call, and how malhug judges them.

    .venv/bin/python tools/gadgets/allowlist.py [--extra DIR] [--write] [--json OUT]

Builds every benign file of the model benchmark (``tests/builders/benign.py``,
``tests/builders/benign_matrix.py``: written by the real torch, NumPy, scikit-learn, joblib, h5py,
...), adds the files in ``--extra`` (pandas and transformers files written by
``tools/gadgets/benign_extra.py`` in ``.venv-gadgets``), scans each with malhug in this process, and
records every global the pickle machine resolved: how often it is called as a function, and how
often it is rebuilt as a class. Prints the verdicts and the rules that fired (the false-positive
cost of the policy); ``--write`` regenerates ``analyzers/pickle/measured.py``, the measured part of
the allowlist: the functions benign files call (``__main__`` and test-local modules left out).
Nothing is unpickled: malhug reads the files symbolically.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "analyzers" / "pickle" / "measured.py"
_LOCAL = ("__main__.", "tests.", "bench.")
_CLASSLIKE_KINDS = ("newobj", "obj", "inst")


def _files(extra: Path | None, scratch: Path) -> list[tuple[str, bytes]]:
    from tests.builders.benign import BENIGN
    from tests.builders.benign_matrix import BENIGN_MATRIX

    files = [(name, build(scratch)) for name, build in sorted(BENIGN.items())]
    files += [(f"matrix/{name}", build(scratch)) for name, build in sorted(BENIGN_MATRIX.items())]
    if extra is not None:
        files += [(f"extra/{p.name}", p.read_bytes()) for p in sorted(extra.iterdir()) if p.is_file()]
    return files


def measure(files: list[tuple[str, bytes]]) -> dict[str, Any]:
    from malhug.analyzers.api import scan_bytes
    from malhug.analyzers.knowledge.names import looks_like_class
    from malhug.analyzers.pickle import judge as judge_module
    from malhug.analyzers.pickle.values import Global

    called: collections.Counter[str] = collections.Counter()
    built: collections.Counter[str] = collections.Counter()
    where: dict[str, set[str]] = collections.defaultdict(set)
    current = [""]
    original = judge_module.Judge.run

    def run(self: Any) -> None:  # record the trace, then judge as usual
        for call in self.trace.calls:
            func = call.func
            if type(func) is Global and call.kind != "setstate":
                name = func.canon[0]
                classlike = call.kind in _CLASSLIKE_KINDS or looks_like_class(name)
                (built if classlike else called)[name] += 1
                where[name].add(current[0])
        original(self)

    verdicts: collections.Counter[str] = collections.Counter()
    fired: collections.Counter[str] = collections.Counter()
    per_file: dict[str, Any] = {}
    judge_module.Judge.run = run  # type: ignore[method-assign]
    try:
        for name, data in files:
            current[0] = name
            report = scan_bytes(data, name=name.rsplit("/", 1)[-1])
            verdict = report.verdict.value
            verdicts[verdict] += 1
            rules = sorted({f.rule for f in report.findings if f.severity.value not in ("info",)})
            fired.update(rules)
            per_file[name] = {"verdict": verdict, "rules": rules}
    finally:
        judge_module.Judge.run = original  # type: ignore[method-assign]
    return {
        "files": len(files),
        "verdicts": dict(verdicts),
        "rules": dict(sorted(fired.items())),
        "not_clean": {k: v for k, v in per_file.items() if v["verdict"] != "clean"},
        "called": dict(sorted(called.items())),
        "built": dict(sorted(built.items())),
        "where": {k: sorted(v)[:3] for k, v in sorted(where.items())},
    }


def _versions() -> str:
    import importlib.metadata

    found = []
    for dist in ("torch", "numpy", "scikit-learn", "joblib", "h5py"):
        try:
            found.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def render(result: dict[str, Any], sources: list[str]) -> str:
    names = sorted(n for n in result["called"] if not n.startswith(_LOCAL))
    classes = sorted(n for n in result["built"] if not n.startswith(_LOCAL))
    lines = [
        '"""Functions that benign model files call while loading, measured on real files (generated).',
        "",
        "Written by ``tools/gadgets/allowlist.py --write`` from the benign files of the model benchmark",
        "(torch, NumPy, scikit-learn, joblib, h5py, plain pickles: ``tests/builders/benign*.py``) and the",
        "pandas and transformers files of ``tools/gadgets/benign_extra.py`` (``requirements/gadgets.txt``).",
        "Do not edit by hand: re-measure. ``allowlist.ALLOWED`` includes these names.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        f"# {result['files']} files: {', '.join(sources)}",
        f"# written with {_versions()} (.venv); the extra files with requirements/gadgets.txt's pins",
        "MEASURED_CALLS = frozenset(",
        "    {",
        *(f'        "{n}",' for n in names),
        "    }",
        ")",
        "",
        "# The classes the same files rebuild (a record of the measurement; rebuilding a class outside",
        "# the allowlist is a low note, MH108, so these are not part of the allowlist).",
        "MEASURED_CLASSES = frozenset(",
        "    {",
        *(f'        "{n}",' for n in classes),
        "    }",
        ")",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extra", type=Path, help="folder of files written by tools/gadgets/benign_extra.py")
    parser.add_argument("--write", action="store_true", help="regenerate analyzers/pickle/measured.py")
    parser.add_argument("--json", type=Path, help="write the whole measurement here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as scratch:
        files = _files(args.extra, Path(scratch))
    result = measure(files)
    summary = {k: result[k] for k in ("files", "verdicts", "rules", "not_clean")}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, sort_keys=True), encoding="utf-8")
    if args.write:
        sources = ["tests/builders/benign.py", "tests/builders/benign_matrix.py"]
        if args.extra:
            sources.append("tools/gadgets/benign_extra.py")
        OUT.write_text(render(result, sources), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
