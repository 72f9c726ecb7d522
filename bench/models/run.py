"""Model-scanner benchmark: malhug against picklescan, modelscan and fickling on the same files.

    .venv/bin/python -m bench.models.run [--quick] [--skip-large] [--tools malhug,picklescan,...]
                                         [--repeat N] [--malhug-venv PATH] [--write-results]

Builds the corpus into ``bench/work/`` (git-ignored): the 91 real-world rows (tests/corpus), the
evasions (tests/builders/evasions.py, tests/builders/gadget_evasions.py), the benign set (tests/builders/benign.py), and sparse 1 GiB and
4 GiB checkpoints. Creates ``.venv-bench`` with the pinned peers (bench/models/requirements.txt) when
missing, and installs the checkout into ``.venv-bench-malhug`` as a regular wheel on every run
(bench/models/venvs.py). Then times every tool on the same files three ways:

- cold: once per file in its own process (the detection tables come from these runs);
- batch: the whole corpus folder in one invocation of the tool's own CLI (fickling has no folder mode);
- in-process: the tool's Python API per file in one warm process (bench/models/inproc.py).

Writes ``bench/work/results.json``; ``--write-results`` also writes ``bench/models/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.models import report
from bench.models.tools import (
    BENCH_VENV,
    MAIN_VENV,
    MALHUG_VENV,
    ROOT,
    TOOL_NAMES,
    Batch,
    Run,
    batches,
    crashed,
    measure,
    scan_folder,
    scan_one,
    tools,
    versions,
)
from bench.models.venvs import ensure_bench_venv, ensure_malhug_venv, source_state

WORK = ROOT / "bench" / "work"
INPROC = Path(__file__).with_name("inproc.py")
GIB = 1 << 30


@dataclass
class Sample:
    path: Path
    label: str  # malicious | benign
    group: str  # corpus | evasion | gadgets | benign | large
    size: int
    kind: str = ""  # payload style / format, for the per-kind table


def build(quick: bool, skip_large: bool) -> list[Sample]:
    from tests.builders.benign import BENIGN
    from tests.builders.benign_matrix import BENIGN_MATRIX
    from tests.builders.evasions import EVASIONS
    from tests.builders.gadget_evasions import GADGET_EVASIONS, GADGET_LOOKALIKES
    from tests.builders.large import sparse_checkpoint
    from tests.builders.sidefile_evasions import SIDEFILE_EVASIONS, SIDEFILE_LOOKALIKES
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
    for name, builder in sorted(GADGET_EVASIONS.items())[: 3 if quick else None]:
        put(f"malicious/gadgets/{name}", builder(scratch), "malicious", "gadgets", "evasion: gadget " + name)
    for name, builder in sorted(GADGET_LOOKALIKES.items()):
        put(f"benign/gadgets/{name}", builder(scratch), "benign", "benign", "gadget look-alike")
    # Side files and frames: every file of a case in its own folder, the tools scan the first one.
    for label, cases in (("malicious", SIDEFILE_EVASIONS), ("benign", SIDEFILE_LOOKALIKES)):
        for name, files_of in sorted(cases.items()):
            files = files_of(scratch)
            for rel, data in list(files.items())[1:]:
                (corpus / label / "sidefiles" / name / rel).parent.mkdir(parents=True, exist_ok=True)
                (corpus / label / "sidefiles" / name / rel).write_bytes(data)
            first, data = next(iter(files.items()))
            kind = "evasion: side file " + name if label == "malicious" else "side-file look-alike"
            put(f"{label}/sidefiles/{name}/{first}", data, label, "evasion" if label == "malicious" else "benign", kind)
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


def _scratch() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="malhug-bench-")


def malhug_api_no_hash(python: Path, path: Path) -> dict[str, object]:
    """malhug's analysis alone (no whole-file sha256), in a fresh process."""
    code = (
        "import sys; from malhug.analyzers.api import scan_file; "
        "r = scan_file(sys.argv[1], hash_file=False); print(r.verdict.value, r.bytes_read)"
    )
    with _scratch() as tmp:
        run = measure([str(python), "-c", code, str(path)], timeout=600, cwd=Path(tmp))
    verdict, _, read = run.stdout.strip().partition(" ")
    return {"verdict": verdict or "error", "seconds": run.seconds, "peak_rss_kb": run.peak_rss_kb, "bytes_read": read}


def startup(malhug_venv: Path, repeat: int) -> dict[str, float]:
    """Median wall times of a bare interpreter, of importing malhug's analysis API (non-editable install,
    and the editable .venv when present), of ``malhug --version`` and of importing libcst and h5py:
    the floor under a cold run."""
    py = str(malhug_venv / "bin" / "python")
    cases = {
        "interpreter": [py, "-c", "pass"],
        "import_api": [py, "-c", "import malhug.analyzers.api"],
        "cli_version": [str(malhug_venv / "bin" / "malhug"), "--version"],
        # Libraries the analysis requires and imports only when a file needs them: libcst for Python
        # payloads (the script analysis is built on it), h5py (with NumPy) for Keras H5 files.
        "import_libcst": [py, "-c", "import libcst"],
        "import_h5py": [py, "-c", "import h5py"],
    }
    if malhug_venv.resolve() != MAIN_VENV.resolve() and (MAIN_VENV / "bin" / "python").exists():
        cases["import_api_editable"] = [str(MAIN_VENV / "bin" / "python"), "-c", "import malhug.analyzers.api"]
    out = {}
    with _scratch() as tmp:
        for key, cmd in cases.items():
            out[key] = statistics.median(measure(cmd, timeout=60, cwd=Path(tmp)).seconds for _ in range(repeat))
    return out


def _crash_line(run: Run) -> str:
    if run.timed_out:
        return "timed out"
    lines = [ln for ln in (run.stdout + run.stderr).splitlines() if ln.strip()]
    return lines[-1][:200] if lines else f"exit {run.returncode}"


def _folder_runs(batch: Batch, folder: Path, repeat: int, timeout: float) -> dict[str, Any]:
    """The tool's folder mode, ``repeat`` times (once when it crashes); median seconds."""
    runs: list[tuple[int | None, Run]] = []
    for _ in range(repeat):
        runs.append(scan_folder(batch, folder, timeout=timeout))
        if crashed(runs[-1][1]):
            break
    scanned, last = runs[-1]
    return {
        "files": sum(1 for p in folder.rglob("*") if p.is_file()),
        "scanned": scanned,
        "seconds": statistics.median(r.seconds for _, r in runs),
        "runs": len(runs),
        "peak_rss_kb": max(r.peak_rss_kb for _, r in runs),
        "returncode": last.returncode,
        "crashed": crashed(last),
        "crash": _crash_line(last) if crashed(last) else "",
    }


def batch_runs(
    names: list[str], malhug_venv: Path, rows: list[dict[str, Any]], repeat: int, timeout: float
) -> dict[str, Any]:
    """Each tool's own CLI over the corpus folder. When it crashes, once more over a copy of the folder
    (hard links) without the files its cold runs crashed on."""
    corpus = WORK / "corpus"
    modes = batches(malhug_venv)
    out: dict[str, Any] = {}
    for name in names:
        if name not in modes:
            out[name] = {"mode": None}
            continue
        res = _folder_runs(modes[name], corpus, repeat, timeout)
        if res["crashed"]:
            culprits = sorted(
                r["file"] for r in rows if r["tool"] == name and r["crashed"] and r["file"].startswith("corpus/")
            )
            if culprits:
                reduced = WORK / "batch" / name
                if reduced.exists():
                    shutil.rmtree(reduced)
                shutil.copytree(corpus, reduced, copy_function=os.link)
                for rel in culprits:
                    (reduced / Path(rel).relative_to("corpus")).unlink()
                res["without"] = {"excluded": culprits, **_folder_runs(modes[name], reduced, repeat, timeout)}
        out[name] = res
        print(
            f"{name}: batch {res['seconds']:.2f}s, scanned {res['scanned']}, crashed {res['crashed']}", file=sys.stderr
        )
    return out


def inproc_runs(
    names: list[str], malhug_venv: Path, samples: list[Sample], repeat: int, timeout: float
) -> dict[str, Any]:
    """Each tool's Python API per file in one warm process of its own venv (bench/models/inproc.py)."""
    files = [s for s in samples if s.group != "large"]
    listing = WORK / "inproc-files.txt"
    listing.write_text("".join(f"{s.path}\n" for s in files))
    out: dict[str, Any] = {}
    for name in names:
        venv = malhug_venv if name == "malhug" else BENCH_VENV
        cmd = [str(venv / "bin" / "python"), str(INPROC), "--tool", name, "--files", str(listing)]
        with _scratch() as tmp:
            run = measure([*cmd, "--repeat", str(repeat)], timeout=timeout, cwd=Path(tmp))
        try:
            data = json.loads(run.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            out[name] = {"failed": _crash_line(run)}
            continue
        for f in data["files"]:
            f["file"] = str(Path(f["file"]).relative_to(WORK))
        out[name] = {**data, "seconds": run.seconds, "peak_rss_kb": run.peak_rss_kb}
        mean = statistics.mean(f["seconds"] for f in data["files"]) if data["files"] else 0.0
        print(f"{name}: in-process mean {1000 * mean:.3f} ms/file", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small subset (smoke test of the harness)")
    ap.add_argument("--skip-large", action="store_true", help="no 1/4 GiB checkpoints")
    ap.add_argument("--tools", default=",".join(TOOL_NAMES), help="comma-separated subset of " + ",".join(TOOL_NAMES))
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per tool per file")
    ap.add_argument("--repeat", type=int, default=3, help="timed in-process passes; folder runs; start-up runs")
    ap.add_argument(
        "--malhug-venv",
        type=Path,
        default=MALHUG_VENV,
        help="venv malhug runs from (default .venv-bench-malhug, reinstalled from the checkout on every run;"
        " .venv runs the editable development install as it is, for debugging)",
    )
    ap.add_argument("--write-results", action="store_true", help="write bench/models/RESULTS.md")
    args = ap.parse_args(argv)

    started = time.time()
    names = [t for t in args.tools.split(",") if t]
    unknown = set(names) - set(TOOL_NAMES)
    if unknown:
        ap.error(f"unknown tools: {', '.join(sorted(unknown))}")
    malhug_venv = args.malhug_venv if args.malhug_venv.is_absolute() else ROOT / args.malhug_venv
    if any(t != "malhug" for t in names):
        ensure_bench_venv()
    malhug_install = ensure_malhug_venv(malhug_venv) if "malhug" in names else ""
    samples = build(args.quick, args.skip_large)
    print(f"built {len(samples)} files in {time.time() - started:.1f}s", file=sys.stderr)

    rows = []
    by_name = tools(malhug_venv)
    for name in names:
        tool = by_name[name]
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
                    "crashed": crashed(run),
                    "stderr": run.stderr[-300:] if verdict == "error" else "",
                }
            )
        print(f"{tool.name}: {len(samples)} files in {time.time() - t0:.1f}s", file=sys.stderr)

    extra: dict[str, object] = {
        "batch": batch_runs(names, malhug_venv, rows, args.repeat, timeout=900),
        "inproc": inproc_runs(names, malhug_venv, samples, args.repeat, timeout=1800),
    }
    if "malhug" in names:
        extra["malhug_install"] = {
            "venv": str(malhug_venv.relative_to(ROOT)),
            "imports_from": malhug_install,
            **source_state(),
        }
        extra["startup"] = startup(malhug_venv, max(args.repeat, 5))
        extra["malhug_api_no_hash"] = {
            str(s.path.relative_to(WORK)): malhug_api_no_hash(malhug_venv / "bin" / "python", s.path)
            for s in samples
            if s.group == "large"
        }
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "command": "python -m bench.models.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "versions": versions(malhug_venv) if names else {},
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
