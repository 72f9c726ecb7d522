"""Script benchmark: malhug's loading-script analysis against Bandit and GuardDog on the same files.

    .venv/bin/python -m bench.scripts.run [--tools malhug,bandit,guarddog] [--write-results]

Exports the project's script corpus into ``bench/work/scripts/`` (git-ignored): the 9 real malicious
dataset scripts of the MalHug corpus, every positive rule fixture, the obfuscation variants and the
embedded payloads of the tests (as ``.py`` files) on one side; the benign loading scripts and
remote-code files and every benign rule fixture on the other. Creates ``.venv-bench-scripts`` from
``bench/scripts/requirements.txt`` (pinned Bandit and GuardDog) when missing. Each peer runs once per
file in its own process. Also measures malhug's speed on 2,000-line scripts (in process, best of
several runs, CPU time of this process and wall time). ``--write-results`` writes
``bench/scripts/RESULTS.md``.

Detection (a file counts as flagged):
- malhug: the file's verdict is ``malicious`` or ``suspicious`` (a finding of severity medium or
  higher); the "malicious only" column counts high/critical.
- Bandit: any issue (any severity and confidence); the strict column: severity MEDIUM or HIGH.
- GuardDog (``pypi scan <folder>``): any rule match, including ``capability-*``; the strict
  column: a ``threat-*`` rule.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from malhug.core.model import Severity

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / "work" / "scripts"
VENV = ROOT / ".venv-bench-scripts"
REQUIREMENTS = ROOT / "bench" / "scripts" / "requirements.txt"
RESULTS = ROOT / "bench" / "scripts" / "RESULTS.md"


@dataclass
class Sample:
    name: str
    label: str  # malicious | benign
    group: str
    text: str
    path: Path = field(default_factory=Path)

    @property
    def lines(self) -> int:
        return self.text.count("\n") + 1


@dataclass
class Outcome:
    flagged: bool
    strict: bool
    seconds: float
    detail: str = ""
    error: str = ""


def corpus() -> list[Sample]:
    """The script corpus, from the test fixtures (source text only)."""
    from tests.scripts.benign_sources import BENIGN
    from tests.scripts.corpus_scripts import CORPUS_SCRIPTS
    from tests.scripts.test_embedded import PYTHON_CASES, SHELL_CASES
    from tests.scripts.test_flows import CASES as FLOWS
    from tests.scripts.test_rules import BENIGN as RULE_BENIGN
    from tests.scripts.test_rules import OBFUSCATED, POSITIVE

    samples: list[Sample] = []
    for repo, code in sorted(CORPUS_SCRIPTS.items()):
        samples.append(Sample(repo.replace("/", "__"), "malicious", "corpus", code))
    for rule, (code, _cat, sev, _ev) in sorted(POSITIVE.items()):
        if sev.value not in ("info", "low"):
            samples.append(Sample(f"rule_{rule}", "malicious", "rule", code))
    for how, code in sorted(OBFUSCATED.items()):
        samples.append(Sample(f"obfuscated_{how.replace(' ', '_')}", "malicious", "obfuscation", code))
    for i, (code, _cat, _rule) in enumerate(PYTHON_CASES):
        samples.append(Sample(f"payload_{i:02d}", "malicious", "payload", code + "\n"))
    for i, (command, _cat, _needle) in enumerate(SHELL_CASES):
        samples.append(Sample(f"shell_{i:02d}", "malicious", "shell", f"import os\nos.system({command!r})\n"))
    for name, (code, *_rest) in sorted(FLOWS.items()):
        if name != "data_tool_is_only_suspicious":  # a legitimate pattern malhug marks suspicious
            samples.append(Sample(f"flow_{name}", "malicious", "flow", code))
    for name, code in sorted(BENIGN.items()):
        samples.append(Sample(name, "benign", "benign", code))
    for rule, code in sorted(RULE_BENIGN.items()):
        samples.append(Sample(f"benign_{rule}", "benign", "rule-benign", code))
    return samples


def export(samples: list[Sample]) -> None:
    if WORK.exists():
        shutil.rmtree(WORK)
    for s in samples:
        folder = WORK / s.label / s.name
        folder.mkdir(parents=True)
        s.path = folder / f"{s.name}.py"
        s.path.write_text(s.text, encoding="utf-8")


def ensure_venv() -> None:
    if (VENV / "bin" / "bandit").exists() and (VENV / "bin" / "guarddog").exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "-r", str(REQUIREMENTS)], check=True)


def run_malhug(sample: Sample) -> Outcome:
    from malhug.analyzers.scripts.analyzer import analyze_text

    started = time.perf_counter()
    # Every file in this corpus stands for code that loading runs (a loading script or a remote-code
    # module), whatever its file name here: say so rather than let the analyzer guess from the name.
    findings = analyze_text(sample.text, str(sample.path), load_time=True)
    seconds = time.perf_counter() - started
    flagged = [f for f in findings if malhug_flags(f.severity)]
    return Outcome(
        bool(flagged),
        any(malhug_flags(f.severity, strict=True) for f in findings),
        seconds,
        ", ".join(sorted({f"{f.rule}:{f.category.value}" for f in flagged})),
    )


def malhug_flags(severity: Severity, *, strict: bool = False) -> bool:
    """A malhug finding flags its file at medium or higher (strict: high or higher)."""
    from malhug.core.model import Severity

    return severity >= (Severity.HIGH if strict else Severity.MEDIUM)


def _proc(cmd: list[str], timeout: float = 120.0) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return proc, time.perf_counter() - started


def run_bandit(sample: Sample) -> Outcome:
    proc, seconds = _proc([str(VENV / "bin" / "bandit"), "-q", "-f", "json", str(sample.path)])
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return Outcome(False, False, seconds, error=(proc.stderr or proc.stdout)[-300:])
    return bandit_outcome(data.get("results", []), seconds)


def bandit_outcome(issues: list[dict[str, Any]], seconds: float, error: str = "") -> Outcome:
    """Bandit flags a file with any issue (strict: an issue of severity MEDIUM or HIGH)."""
    return Outcome(
        bool(issues),
        any(i.get("issue_severity") in ("MEDIUM", "HIGH") for i in issues),
        seconds,
        ", ".join(sorted({f"{i['test_id']}:{i.get('issue_severity', '?')}" for i in issues})),
        error=error,
    )


def run_guarddog(sample: Sample) -> Outcome:
    proc, seconds = _proc(
        [str(VENV / "bin" / "guarddog"), "pypi", "scan", str(sample.path.parent), "--output-format", "json"]
    )
    start = proc.stdout.find("{")
    try:
        data = json.loads(proc.stdout[start:]) if start >= 0 else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        return Outcome(False, False, seconds, error=(proc.stderr or proc.stdout)[-300:])
    hits = sorted(rule for rule, matches in (data.get("results") or {}).items() if matches)
    threats = [r for r in hits if r.startswith("threat-")]
    return Outcome(
        bool(hits),
        bool(threats),
        seconds,
        ", ".join(hits),
        error="" if not data.get("errors") else str(data["errors"])[:300],
    )


TOOLS: dict[str, Callable[[Sample], Outcome]] = {"malhug": run_malhug, "bandit": run_bandit, "guarddog": run_guarddog}


def version(tool: str) -> str:
    if tool == "malhug":
        from malhug import __version__

        return __version__
    exe = VENV / "bin" / tool
    proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    return " ".join((proc.stdout or proc.stderr).split()[:3])


def scores(samples: list[Sample], outcomes: dict[str, Outcome], strict: bool) -> dict[str, float | int]:
    tp = sum(
        1
        for s in samples
        if s.label == "malicious" and (outcomes[s.name].strict if strict else outcomes[s.name].flagged)
    )
    fp = sum(
        1 for s in samples if s.label == "benign" and (outcomes[s.name].strict if strict else outcomes[s.name].flagged)
    )
    pos = sum(1 for s in samples if s.label == "malicious")
    neg = len(samples) - pos
    return {
        "tp": tp,
        "fp": fp,
        "fn": pos - tp,
        "tn": neg - fp,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / pos if pos else 0.0,
    }


def big_script(lines: int, tail: str = "") -> str:
    """Whole benign scripts and remote-code files (classes renamed) until ``lines``, then ``tail``."""
    from tests.scripts.benign_sources import BENIGN

    parts = [
        BENIGN["generator_builder"],
        BENIGN["modeling_tinylm"],
        BENIGN["config_subclasses"],
        BENIGN["requests_pandas"],
    ]
    out: list[str] = []
    i = 0
    while sum(p.count("\n") for p in out) + tail.count("\n") < lines:
        out.append(re.sub(r"^(\s*)class (\w)", rf"\1class V{i}_\2", parts[i % len(parts)], flags=re.M))
        i += 1
    return "\n".join(out) + "\n" + tail


def speed(repeat: int = 7) -> dict[str, object]:
    """Best-of-``repeat`` timings of analyze_text on generated 2,000-line scripts."""
    import ast

    import libcst as cst

    from malhug.analyzers.scripts import relevance
    from malhug.analyzers.scripts.analyzer import analyze_text
    from tests.scripts.corpus_scripts import CORPUS_SCRIPTS
    from tests.scripts.modeling_source import modeling_file

    stealer = CORPUS_SCRIPTS["Besthpz/best"]  # findings, traces and positions included
    cases = {
        "remote-code modeling file": modeling_file(2000),
        "remote-code modeling file + real stealer": modeling_file(2000) + "\n" + stealer,
        "loading-script fixtures glued, 43 files (synthetic)": big_script(2000),
        "loading-script fixtures glued + real stealer": big_script(2000, stealer),
    }
    out: dict[str, object] = {}
    for name, text in cases.items():
        pruned = relevance.prune(text, ast.parse(text))
        kept = sum(1 for line in (pruned.text or text).splitlines() if line.strip() and line.strip() != '"""')
        wall, cpu, parse = [], [], []
        findings = 0
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            findings = len(analyze_text(text))
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            p0 = time.process_time()
            cst.parse_module(text)
            parse.append(time.process_time() - p0)
        out[name] = {
            "lines": text.count("\n"),
            "code_lines": sum(1 for line in text.splitlines() if line.strip()),
            "kept_lines": kept,
            "findings": findings,
            "best_wall_ms": round(min(wall) * 1000, 1),
            "median_wall_ms": round(sorted(wall)[len(wall) // 2] * 1000, 1),
            "best_cpu_ms": round(min(cpu) * 1000, 1),
            "libcst_parse_cpu_ms": round(min(parse) * 1000, 1),
        }
    return out


def render(
    samples: list[Sample], results: dict[str, dict[str, Outcome]], versions: dict[str, str], perf: dict[str, object]
) -> str:
    mal = sum(1 for s in samples if s.label == "malicious")
    lines = [
        "# Script benchmark",
        "",
        f"Generated by `.venv/bin/python -m bench.scripts.run --write-results` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.machine()} with {os.cpu_count()} cores shared with other jobs (wall times are noisy).",
        "",
        f"Corpus: {len(samples)} Python files — {mal} malicious (9 real dataset scripts of the MalHug corpus, rule positives, "
        f"obfuscation variants, source/sink flow cases, embedded payloads and shell one-liners wrapped in `os.system`), {len(samples) - mal} benign "
        "(loading scripts in several builder styles, remote-code modeling/configuration/tokenizer files, rule benign fixtures).",
        "",
        "| tool | version | flagged = | precision | recall | TP | FP | FN | TN | strict precision | strict recall | s/file |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    meaning = {
        "malhug": "verdict suspicious+ (strict: malicious)",
        "bandit": "any issue (strict: severity MEDIUM+)",
        "guarddog": "any rule incl. capability-* (strict: a threat-* rule)",
    }
    for tool, outcomes in results.items():
        loose = scores(samples, outcomes, strict=False)
        tight = scores(samples, outcomes, strict=True)
        per_file = sum(o.seconds for o in outcomes.values()) / max(1, len(outcomes))
        lines.append(
            f"| {tool} | {versions.get(tool, '')} | {meaning[tool]} | {loose['precision']:.2f} | {loose['recall']:.2f} | "
            f"{loose['tp']} | {loose['fp']} | {loose['fn']} | {loose['tn']} | {tight['precision']:.2f} | {tight['recall']:.2f} | {per_file:.3f} |"
        )
    if "malhug" in results:
        total_lines = sum(s.lines for s in samples)
        total_s = sum(o.seconds for o in results["malhug"].values())
        lines += [
            "",
            f"malhug throughput on the corpus: {total_lines} lines in {total_s:.3f} s = {total_lines / max(total_s, 1e-9):,.0f} lines/s (in process).",
        ]
    lines += [
        "",
        "## 2,000-line scripts (in process, best of 7; target < 100 ms)",
        "",
        "`analyze_text`, the whole analysis with findings, traces and positions. Non-blank lines kept: the",
        "code libcst parses after the units the analysis cannot learn anything from are blanked",
        "(analyzers/scripts/relevance.py). Last column: libcst's parse of the whole text, what every run",
        "cost before that.",
        "",
        "| script | lines | non-blank lines | kept for libcst | findings | best wall ms | median wall ms | best CPU ms | < 100 ms | libcst parse of all of it (CPU ms) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in perf.items():
        assert isinstance(row, dict)
        met = "yes" if float(row["best_wall_ms"]) < 100 else "**no**"
        lines.append(
            f"| {name} | {row['lines']} | {row['code_lines']} | {row['kept_lines']} | {row['findings']} | {row['best_wall_ms']} | {row['median_wall_ms']} | {row['best_cpu_ms']} | {met} | {row['libcst_parse_cpu_ms']} |"
        )
    lines += ["", "## Misses and false alarms", ""]
    for tool, outcomes in results.items():
        missed = [s.name for s in samples if s.label == "malicious" and not outcomes[s.name].flagged]
        false = [
            f"{s.name} ({outcomes[s.name].detail})" for s in samples if s.label == "benign" and outcomes[s.name].flagged
        ]
        errors = [f"{s.name}: {outcomes[s.name].error}" for s in samples if outcomes[s.name].error]
        lines.append(f"- **{tool}** missed: {', '.join(missed) or 'none'}")
        lines.append(f"  - false alarms: {', '.join(false) or 'none'}")
        if errors:
            lines.append(f"  - errors: {'; '.join(errors[:5])}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tools", default="malhug,bandit,guarddog")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    tools = [t for t in args.tools.split(",") if t]
    samples = corpus()
    export(samples)
    if any(t != "malhug" for t in tools):
        ensure_venv()
    results: dict[str, dict[str, Outcome]] = {}
    versions: dict[str, str] = {}
    for tool in tools:
        versions[tool] = version(tool)
        results[tool] = {}
        for s in samples:
            try:
                results[tool][s.name] = TOOLS[tool](s)
            except subprocess.TimeoutExpired:
                results[tool][s.name] = Outcome(False, False, 120.0, error="timeout")
        print(f"{tool}: done ({len(samples)} files)", file=sys.stderr)
    perf = speed()
    text = render(samples, results, versions, perf)
    data = {t: {n: o.__dict__ for n, o in r.items()} for t, r in results.items()} | {"speed": perf}
    publish(text, data, WORK / "results.json", RESULTS if args.write_results else None)
    return 0


def publish(text: str, data: object, raw: Path, results: Path | None) -> None:
    """Print the Markdown report, keep the raw figures in ``raw`` and, when asked, the report in ``results``."""
    print(text)
    raw.write_text(json.dumps(data, indent=1), encoding="utf-8")
    if results is not None:
        results.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
