"""Long fuzz runs: ``make fuzz`` (``mk/fuzz.mk``) calls ``python -m tests.fuzz.campaign``.

Every target (``tests/fuzz/test_fuzz_<target>.py``) gets an equal share of the budget and is run by
pytest with the ``fuzz`` hypothesis profile, one process at a time, niced, in batches: the first
batch measures the target's rate, the next ones size ``max_examples`` to the time left. Failing
inputs are shrunk by hypothesis and saved under ``tests/fuzz/regressions/`` (``MALHUG_FUZZ_SAVE``);
logs go to ``build/fuzz/<target>.log``. Prints (and writes ``build/fuzz/summary.md``) a table of
examples, minutes and failures per target. Exit status 1 when any target failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
OUT = ROOT / "build" / "fuzz"
FIRST_BATCH = 100
BATCH_SECONDS = 150


def all_targets() -> list[str]:
    return sorted(p.stem.removeprefix("test_fuzz_") for p in HERE.glob("test_fuzz_*.py"))


def _given_tests(target: str) -> int:
    return max(1, (HERE / f"test_fuzz_{target}.py").read_text(encoding="utf-8").count("@given("))


def _batch(target: str, examples: int, seconds: float, log: Path, skip: list[str]) -> tuple[int, int, list[str]]:
    """One pytest run; returns (examples run, exit status, failed test ids)."""
    stats = OUT / f"{target}.stats.json"
    stats.unlink(missing_ok=True)
    env = {
        **os.environ,
        "MALHUG_FUZZ_PROFILE": "fuzz",
        "MALHUG_FUZZ_EXAMPLES": str(examples),
        "MALHUG_FUZZ_SAVE": "1",
        "MALHUG_FUZZ_STATS": str(stats),
    }
    cmd = ["nice", "-n", "19", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=0"]
    cmd += ["-o", "addopts=", f"tests/fuzz/test_fuzz_{target}.py"]
    cmd += [arg for test in skip for arg in ("--deselect", test)]  # failed earlier: fuzz the others
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n=== {time.strftime('%H:%M:%S')} {target}: max_examples={examples}\n")
        out.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            text, _ = proc.communicate(timeout=min(seconds, BATCH_SECONDS * 2) + 30)
        except subprocess.TimeoutExpired:
            # Over budget: interrupt pytest as Ctrl-C would, so that it still writes its statistics.
            proc.send_signal(signal.SIGINT)
            try:
                text, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                text, _ = proc.communicate()
        status = proc.returncode
        out.write(text)
    run = sum(json.loads(stats.read_text()).values()) if stats.exists() else 0
    failed = re.findall(r"^FAILED (\S+)", text, flags=re.MULTILINE)
    return run, status, failed


def fuzz_target(target: str, budget: float) -> dict[str, object]:
    log = OUT / f"{target}.log"
    started = time.monotonic()
    total, batches, failed, statuses = 0, 0, [], []
    examples = FIRST_BATCH
    tests = _given_tests(target)
    while True:
        left = budget - (time.monotonic() - started)
        if left < 5 or len(failed) >= tests:
            break
        t0 = time.monotonic()
        run, status, fails = _batch(target, examples, left, log, failed)
        spent = time.monotonic() - t0
        total, batches = total + run, batches + 1
        failed += [f for f in fails if f not in failed]
        statuses.append(status)
        if status == 2 and not fails:
            break  # interrupted at the end of the budget
        if status not in (0, 1) or (status == 1 and not fails):
            break  # collection or usage error: nothing to gain by repeating
        rate = run / max(spent, 1e-3)
        left = budget - (time.monotonic() - started)
        # Batches of at most BATCH_SECONDS: a target whose tests run at different speeds cannot
        # overrun its budget by much, and a stopped batch loses little.
        examples = max(20, int(rate * min(left * 0.9, BATCH_SECONDS) / tests))
    minutes = (time.monotonic() - started) / 60
    return {
        "target": target,
        "examples": total,
        "minutes": round(minutes, 1),
        "batches": batches,
        "failed": failed,
        "statuses": statuses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("FUZZ_MINUTES", "60")))
    parser.add_argument("--targets", default=os.environ.get("FUZZ_TARGETS", ""), help="comma-separated; default: all")
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.replace(" ", ",").split(",") if t] or all_targets()
    unknown = sorted(set(targets) - set(all_targets()))
    if unknown:
        parser.error(f"no such fuzz target: {', '.join(unknown)} (have: {', '.join(all_targets())})")
    OUT.mkdir(parents=True, exist_ok=True)
    budget = args.minutes * 60 / len(targets)
    before = {p.name for p in (HERE / "regressions").glob("*.b64")}
    rows = []
    for target in targets:
        row = fuzz_target(target, budget)
        rows.append(row)
        print(
            f"{target}: {row['examples']} examples in {row['minutes']} min, failed: {row['failed'] or 'none'}",
            flush=True,
        )
    saved = sorted({p.name for p in (HERE / "regressions").glob("*.b64")} - before)
    lines = [
        f"fuzz campaign {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.minutes:g} minutes over {len(targets)} targets",
        "",
        "| target | examples | minutes | batches | failures |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['target']} | {r['examples']} | {r['minutes']} | {r['batches']} | {', '.join(r['failed']) or 'none'} |"
        for r in rows
    ]  # type: ignore[arg-type]
    lines += ["", f"new regression inputs: {', '.join(saved) or 'none'}"]
    (OUT / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 1 if any(r["failed"] or any(s not in (0, 2) for s in r["statuses"]) for r in rows) else 0  # type: ignore[union-attr]


if __name__ == "__main__":
    sys.exit(main())
