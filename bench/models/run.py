"""Model-scanner benchmark: malhug against picklescan, modelscan and fickling on the same files.

    .venv/bin/python -m bench.models.run [--quick] [--skip-large] [--tools malhug,picklescan,...]
                                         [--write-results]

Builds the corpus into ``bench/work/`` (git-ignored): the 91 real-world rows (tests/corpus), the
evasions (tests/builders/evasions.py), the benign set (tests/builders/benign.py), and sparse 1 GiB and
4 GiB checkpoints. Creates ``.venv-bench`` with the pinned peers (bench/models/requirements.txt) when
missing. Runs every tool once per file in its own process and writes ``bench/work/results.json``;
``--write-results`` also writes ``bench/models/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.models import report
from bench.models.tools import BENCH_VENV, MAIN_VENV, ROOT, TOOLS, measure, scan_one, versions

WORK = ROOT / "bench" / "work"
REQUIREMENTS = ROOT / "bench" / "models" / "requirements.txt"
GIB = 1 << 30


@dataclass
class Sample:
    path: Path
    label: str  # malicious | benign
    group: str  # corpus | evasion | benign | large
    size: int
    kind: str = ""  # payload style / format, for the per-kind table


def build(quick: bool, skip_large: bool) -> list[Sample]:
    from tests.builders.benign import BENIGN
    from tests.builders.benign_matrix import BENIGN_MATRIX
    from tests.builders.evasions import EVASIONS
    from tests.builders.large import sparse_checkpoint
    from tests.corpus.expected import artifacts

    corpus = WORK / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    scratch = WORK / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []

    def put(rel: str, data: bytes, label: str, group: str, kind: str) -> None:
        path = corpus / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        samples.append(Sample(path, label, group, len(data), kind))

    cases = artifacts()[:12] if quick else artifacts()
    for case_id, art in cases:
        put(
            f"malicious/corpus/{case_id}",
            art.build(),
            "malicious",
            "corpus",
            re.sub(r" \S+/data\.pkl", "", art.style).split(" (")[0],
        )
    for name, builder in sorted(EVASIONS.items())[: 5 if quick else None]:
        put(f"malicious/evasion/{name}", builder(scratch), "malicious", "evasion", "evasion: " + name)
    benign = {**BENIGN, **{f"matrix/{k}": v for k, v in BENIGN_MATRIX.items()}}
    for name, builder in sorted(benign.items())[: 6 if quick else None]:
        put(f"benign/{name}", builder(scratch), "benign", "benign", name.split("/")[1] if "/" in name else "benign")
    if not skip_large:
        large = WORK / "large"
        large.mkdir(parents=True, exist_ok=True)
        for name, size in (("checkpoint-1GiB.bin", GIB), ("checkpoint-4GiB.bin", 4 * GIB)):
            path = sparse_checkpoint(large / name, size)
            samples.append(Sample(path, "benign", "large", path.stat().st_size, "large checkpoint"))
    return samples


def ensure_bench_venv() -> None:
    if (BENCH_VENV / "bin" / "picklescan").exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "-r", str(REQUIREMENTS)], check=True)


def malhug_api_no_hash(path: Path) -> dict[str, object]:
    """malhug's analysis alone (no whole-file sha256), in a fresh process."""
    code = (
        "import sys; from malhug.analyzers.api import scan_file; "
        "r = scan_file(sys.argv[1], hash_file=False); print(r.verdict.value, r.bytes_read)"
    )
    run = measure([str(MAIN_VENV / "bin" / "python"), "-c", code, str(path)], timeout=600)
    verdict, _, read = run.stdout.strip().partition(" ")
    return {"verdict": verdict or "error", "seconds": run.seconds, "peak_rss_kb": run.peak_rss_kb, "bytes_read": read}


def python_startup() -> dict[str, float]:
    """Interpreter + import cost of malhug alone, to read per-file times against."""
    run = measure([str(MAIN_VENV / "bin" / "python"), "-c", "import malhug.analyzers.api"], timeout=60)
    return {"seconds": run.seconds, "peak_rss_kb": run.peak_rss_kb}


def batch_malhug(folder: Path) -> dict[str, object]:
    run = measure(
        [str(MAIN_VENV / "bin" / "malhug"), "scan", str(folder), "--format", "json", "--offline", "--no-cache"],
        timeout=900,
    )
    try:
        files = len(json.loads(run.stdout)["files"])
    except (ValueError, KeyError):
        files = 0
    return {"files": files, "seconds": run.seconds, "peak_rss_kb": run.peak_rss_kb}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small subset (smoke test of the harness)")
    ap.add_argument("--skip-large", action="store_true", help="no 1/4 GiB checkpoints")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ",".join(TOOLS))
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per tool per file")
    ap.add_argument("--write-results", action="store_true", help="write bench/models/RESULTS.md")
    args = ap.parse_args(argv)

    started = time.time()
    tools = [TOOLS[t] for t in args.tools.split(",") if t]
    if any(t.name != "malhug" for t in tools):
        ensure_bench_venv()
    samples = build(args.quick, args.skip_large)
    print(f"built {len(samples)} files in {time.time() - started:.1f}s", file=sys.stderr)

    rows = []
    for tool in tools:
        t0 = time.time()
        for s in samples:
            verdict, run = scan_one(tool, s.path, timeout=args.timeout)
            rows.append(
                {
                    "tool": tool.name,
                    "file": str(s.path.relative_to(WORK)),
                    "label": s.label,
                    "group": s.group,
                    "size": s.size,
                    "kind": s.kind,
                    "verdict": verdict,
                    "seconds": round(run.seconds, 4),
                    "peak_rss_kb": run.peak_rss_kb,
                    "returncode": run.returncode,
                    "stderr": run.stderr[-300:] if verdict == "error" else "",
                }
            )
        print(f"{tool.name}: {len(samples)} files in {time.time() - t0:.1f}s", file=sys.stderr)

    extra: dict[str, object] = {"python_startup": python_startup()}
    if "malhug" in args.tools:
        extra["malhug_batch"] = batch_malhug(WORK / "corpus")
        extra["malhug_api_no_hash"] = {
            str(s.path.relative_to(WORK)): malhug_api_no_hash(s.path) for s in samples if s.group == "large"
        }
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "command": "python -m bench.models.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "versions": versions() if tools else {},
        "samples": [{**asdict(s), "path": str(s.path.relative_to(WORK))} for s in samples],
        "rows": rows,
        "extra": extra,
        "seconds": round(time.time() - started, 1),
    }
    (WORK / "results.json").write_text(json.dumps(results, indent=1))
    text = report.render(results)
    print(text)
    if args.write_results:
        (ROOT / "bench" / "models" / "RESULTS.md").write_text(text)
    return 0


def machine() -> dict[str, object]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")
        )
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return {
        "system": f"{platform.system()} {platform.release()}",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / (1 << 20), 1),
        "python": platform.python_version(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


if __name__ == "__main__":
    sys.exit(main())
