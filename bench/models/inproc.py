"""In-process timing: one tool's Python API called per file inside one warm process; prints JSON.

    VENV/bin/python bench/models/inproc.py --tool NAME --files LIST [--repeat N]

Run as a script with the tool's own venv (``.venv-bench`` for the peers, ``.venv-bench-malhug`` for
malhug), so it imports only the standard library and the tool. LIST holds one path per line. One
warm-up pass over every file (imports, caches, first-call costs), then ``--repeat`` timed passes;
a file's time is the median of its timed passes (``time.perf_counter`` around the call alone).
Nothing renders a report: each call returns the tool's own result object.

The calls, as the tools' CLIs make them:
- malhug: ``malhug.analyzers.dispatch.scan_file(path)`` (what ``malhug scan FILE`` calls per file,
  whole-file sha256 included);
- picklescan: ``picklescan.scanner.scan_file_path(path)`` (``picklescan -p FILE``);
- modelscan: ``ModelScan(settings=DEFAULT_SETTINGS).scan(path)``, one instance for the run
  (``modelscan -p FILE``; ``scan`` resets its state);
- fickling: ``fickle.StackedPickle.load(f, fail_on_decode_error=False)`` then
  ``analysis.check_safety`` on each pickle (``fickling --check-safety FILE``).

The verdict mapping is the one in tools.py; an exception or a tool-reported scan error makes the
file ``error`` and its message is kept.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata

Outcome = tuple[str, str | None]  # (verdict, error message)


def _malhug() -> Callable[[str], Outcome]:
    from malhug.analyzers.dispatch import scan_file

    def scan(path: str) -> Outcome:
        report = scan_file(path)
        return str(report.verdict.value), report.error

    return scan


def _picklescan() -> Callable[[str], Outcome]:
    from picklescan.scanner import scan_file_path

    def scan(path: str) -> Outcome:
        r = scan_file_path(path)
        if r.infected_files or r.issues_count:
            return "malicious", None
        if r.scan_err:
            return "error", "scan_err"
        return ("suspicious" if r.suspicious_count else "clean"), None

    return scan


def _modelscan() -> Callable[[str], Outcome]:
    from modelscan.modelscan import ModelScan
    from modelscan.settings import DEFAULT_SETTINGS

    scanner = ModelScan(settings=DEFAULT_SETTINGS)

    def scan(path: str) -> Outcome:
        report = scanner.scan(path)
        severities = {str(i.get("severity", "")).upper() for i in report.get("issues", [])}
        if severities & {"CRITICAL", "HIGH"}:
            return "malicious", None
        if severities & {"MEDIUM", "LOW"}:
            return "suspicious", None
        if report.get("errors"):
            return "error", "; ".join(str(e.get("description", e)) for e in report["errors"])[:300]
        return "clean", None

    return scan


def _fickling() -> Callable[[str], Outcome]:
    from fickling import fickle
    from fickling.analysis import Severity, check_safety

    malicious = {"LIKELY_UNSAFE", "LIKELY_OVERTLY_MALICIOUS", "OVERTLY_MALICIOUS"}

    def scan(path: str) -> Outcome:
        with open(path, "rb") as f:
            try:
                stacked = fickle.StackedPickle.load(f, fail_on_decode_error=False)
            except fickle.PickleDecodeError as exc:
                return "error", f"PickleDecodeError: {exc}"[:300]
        worst = Severity.LIKELY_SAFE
        for pickled in stacked:
            severity = check_safety(pickled).severity
            if severity > worst:
                worst = severity
        if worst.name in malicious:
            return "malicious", None
        return ("clean" if worst == Severity.LIKELY_SAFE else "suspicious"), None

    return scan


SETUPS: dict[str, Callable[[], Callable[[str], Outcome]]] = {
    "malhug": _malhug,
    "picklescan": _picklescan,
    "modelscan": _modelscan,
    "fickling": _fickling,
}


def _call(scan: Callable[[str], Outcome], path: str) -> tuple[float, Outcome]:
    started = time.perf_counter()
    try:
        outcome = scan(path)
    except Exception as exc:  # noqa: BLE001 - a peer's crash on one file is a result: the file is "error"
        outcome = ("error", f"{type(exc).__name__}: {exc}"[:300])
    return time.perf_counter() - started, outcome


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tool", required=True, choices=sorted(SETUPS))
    ap.add_argument("--files", required=True, help="a text file, one path per line")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes after the warm-up pass")
    args = ap.parse_args()
    paths = [line for line in open(args.files, encoding="utf-8").read().splitlines() if line]
    out = sys.stdout
    # The peers log and print while scanning; the JSON alone goes to stdout.
    with contextlib.redirect_stdout(sys.stderr):
        started = time.perf_counter()
        scan = SETUPS[args.tool]()
        setup_seconds = time.perf_counter() - started
        warm = [_call(scan, p) for p in paths]
        passes = [[_call(scan, p)[0] for p in paths] for _ in range(max(args.repeat, 1))]
    files = [
        {
            "file": path,
            "seconds": statistics.median(run[i] for run in passes),
            "verdict": warm[i][1][0],
            "error": warm[i][1][1],
        }
        for i, path in enumerate(paths)
    ]
    json.dump(
        {
            "tool": args.tool,
            "version": metadata.version(args.tool),
            "setup_seconds": setup_seconds,
            "warmup_seconds": sum(t for t, _ in warm),
            "repeat": len(passes),
            "files": files,
        },
        out,
    )
    out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
