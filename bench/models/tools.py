"""The scanners under comparison: how each is invoked on one file and on a folder, and how its output
maps to a verdict.

In the cold runs every tool runs as a separate process per file; ``measure`` records its wall time
and the peak resident memory of that process alone (``os.wait4`` returns the child's own
``ru_maxrss``). ``BATCH`` holds each tool's own folder mode (fickling has none); the in-process
calls live in ``inproc.py``.

malhug runs from ``.venv-bench-malhug`` (a regular, non-editable install, see ``venvs.py``) unless
``--malhug-venv`` names another venv (``.venv``, the editable development install, for debugging).

Verdict mapping (``malicious | suspicious | clean | error``):

- malhug: the file's ``verdict`` in ``--format json``.
- picklescan: exit 1 ("Infected files" > 0, i.e. a *dangerous* global) -> malicious; otherwise
  "Suspicious globals" > 0 -> suspicious; exit 2 or a scan error -> error; else clean.
- modelscan: from its JSON report: a CRITICAL/HIGH issue -> malicious; MEDIUM/LOW -> suspicious;
  otherwise an entry in ``errors`` -> error; otherwise clean (also when it skipped the file as an
  unsupported format, exit 3).
- fickling: ``--check-safety`` JSON ``severity``: LIKELY_UNSAFE, LIKELY_OVERTLY_MALICIOUS,
  OVERTLY_MALICIOUS -> malicious; SUSPICIOUS, POSSIBLY_UNSAFE -> suspicious; LIKELY_SAFE -> clean;
  no JSON and a non-zero exit (it could not parse the file) -> error, exit 1 without JSON -> malicious.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAIN_VENV = ROOT / ".venv"
BENCH_VENV = ROOT / ".venv-bench"
MALHUG_VENV = ROOT / ".venv-bench-malhug"
TOOL_NAMES = ("malhug", "picklescan", "modelscan", "fickling")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_kb: int
    timed_out: bool = False


TIME = Path("/usr/bin/time")


def measure(cmd: list[str], timeout: float = 300.0, cwd: Path | None = None) -> Run:
    """Run ``cmd``; wall time and the child's own peak RSS (KiB).

    The child is started through ``/usr/bin/time`` when present: ``ru_maxrss`` of a child forked
    straight from this (large) process would include the pages it had before ``exec``.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as rss:
        argv = [str(TIME), "-f", "%M", "-o", rss.name, *cmd] if TIME.exists() else cmd
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, start_new_session=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            seconds=seconds,
            peak_rss_kb=_rss_from(Path(rss.name)) or int(usage.ru_maxrss),
            timed_out=timed_out.is_set(),
        )


def _rss_from(path: Path) -> int:
    try:
        return int(path.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return 0


@dataclass(frozen=True)
class Tool:
    name: str
    command: Callable[[Path, Path], list[str]]  # (file, scratch json path) -> argv
    verdict: Callable[[Run, Path], str]  # (run, scratch json path) -> verdict


def _malhug_cmd(venv: Path) -> Callable[[Path, Path], list[str]]:
    def command(path: Path, _: Path) -> list[str]:
        return [str(venv / "bin" / "malhug"), "scan", str(path), "--format", "json", "--offline", "--no-cache"]

    return command


def _malhug_verdict(run: Run, _: Path) -> str:
    try:
        return str(json.loads(run.stdout)["files"][0]["verdict"])
    except (ValueError, KeyError, IndexError):
        return "error"


def _picklescan_cmd(path: Path, _: Path) -> list[str]:
    return [str(BENCH_VENV / "bin" / "picklescan"), "-p", str(path)]


def _count(text: str, label: str) -> int:
    for line in text.splitlines():
        if line.startswith(label):
            try:
                return int(line.split(":", 1)[1])
            except ValueError:
                return 0
    return 0


def _picklescan_verdict(run: Run, _: Path) -> str:
    if run.returncode == 1 or _count(run.stdout, "Infected files") > 0:
        return "malicious"
    if run.returncode not in (0, 1):
        return "error"
    if _count(run.stdout, "Suspicious globals") > 0:
        return "suspicious"
    return "clean"


def _modelscan_cmd(path: Path, report: Path) -> list[str]:
    return [str(BENCH_VENV / "bin" / "modelscan"), "-p", str(path), "-r", "json", "-o", str(report)]


def _modelscan_verdict(run: Run, report: Path) -> str:
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        return "error" if run.returncode not in (0, 3) else "clean"
    severities = {str(i.get("severity", "")).upper() for i in data.get("issues", [])}
    if severities & {"CRITICAL", "HIGH"}:
        return "malicious"
    if severities & {"MEDIUM", "LOW"}:
        return "suspicious"
    if data.get("errors"):
        return "error"
    return "clean"


def _fickling_cmd(path: Path, report: Path) -> list[str]:
    return [str(BENCH_VENV / "bin" / "fickling"), "--check-safety", str(path), "--json-output", str(report)]


_FICKLING_MALICIOUS = {"LIKELY_UNSAFE", "LIKELY_OVERTLY_MALICIOUS", "OVERTLY_MALICIOUS"}
_FICKLING_SUSPICIOUS = {"SUSPICIOUS", "POSSIBLY_UNSAFE"}


def _fickling_verdict(run: Run, report: Path) -> str:
    try:
        severity = str(json.loads(report.read_text()).get("severity", "")).upper()
    except (OSError, ValueError, AttributeError):
        severity = ""
    if severity in _FICKLING_MALICIOUS:
        return "malicious"
    if severity in _FICKLING_SUSPICIOUS:
        return "suspicious"
    if severity == "LIKELY_SAFE":
        return "clean"
    if run.returncode == 0:
        return "clean"
    return "malicious" if run.returncode == 1 and "rror" not in run.stdout + run.stderr else "error"


def tools(malhug_venv: Path = MALHUG_VENV) -> dict[str, Tool]:
    return {
        "malhug": Tool("malhug", _malhug_cmd(malhug_venv), _malhug_verdict),
        "picklescan": Tool("picklescan", _picklescan_cmd, _picklescan_verdict),
        "modelscan": Tool("modelscan", _modelscan_cmd, _modelscan_verdict),
        "fickling": Tool("fickling", _fickling_cmd, _fickling_verdict),
    }


def crashed(run: Run) -> bool:
    """The tool died (a traceback, a signal or our timeout) rather than reporting on what it read."""
    text = run.stdout + run.stderr
    return run.timed_out or run.returncode < 0 or "Traceback (most recent call last)" in text


def scan_one(tool: Tool, path: Path, timeout: float = 300.0) -> tuple[str, Run]:
    with tempfile.TemporaryDirectory(prefix="malhug-bench-") as tmp:
        report = Path(tmp) / "report.json"
        run = measure(tool.command(path, report), timeout=timeout, cwd=Path(tmp))
        verdict = "error" if run.timed_out else tool.verdict(run, report)
    return verdict, run


# Folder mode: each tool's own CLI over a whole folder, the way a user scans a repository.


@dataclass(frozen=True)
class Batch:
    command: Callable[[Path, Path], list[str]]  # (folder, scratch report path) -> argv
    scanned: Callable[[Run, Path], int | None]  # (run, report) -> files the tool says it scanned


def _malhug_scanned(run: Run, _: Path) -> int | None:
    try:
        return len(json.loads(run.stdout)["files"])
    except (ValueError, KeyError, TypeError):
        return None


def _picklescan_scanned(run: Run, _: Path) -> int | None:
    return _count(run.stdout, "Scanned files") if "Scanned files:" in run.stdout else None


def _modelscan_scanned(run: Run, report: Path) -> int | None:
    """Top-level files with at least one scanned entry (a zip's members are listed as FILE:MEMBER)."""
    try:
        listed = json.loads(report.read_text())["summary"]["scanned"].get("scanned_files", [])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return len({str(name).split(":", 1)[0] for name in listed})


def batches(malhug_venv: Path = MALHUG_VENV) -> dict[str, Batch]:
    """fickling has no folder mode (one PICKLE_FILE per invocation): it is absent here."""
    return {
        "malhug": Batch(_malhug_cmd(malhug_venv), _malhug_scanned),
        "picklescan": Batch(_picklescan_cmd, _picklescan_scanned),
        "modelscan": Batch(_modelscan_cmd, _modelscan_scanned),
    }


def scan_folder(batch: Batch, folder: Path, timeout: float = 900.0) -> tuple[int | None, Run]:
    with tempfile.TemporaryDirectory(prefix="malhug-bench-") as tmp:
        report = Path(tmp) / "report.json"
        run = measure(batch.command(folder, report), timeout=timeout, cwd=Path(tmp))
        return batch.scanned(run, report), run


def versions(malhug_venv: Path = MALHUG_VENV) -> dict[str, str]:
    out = {}
    for name, exe in (
        ("malhug", malhug_venv / "bin" / "malhug"),
        ("picklescan", BENCH_VENV / "bin" / "pip"),
        ("modelscan", BENCH_VENV / "bin" / "pip"),
        ("fickling", BENCH_VENV / "bin" / "pip"),
    ):
        if name == "malhug":
            run = measure([str(exe), "--version"], timeout=60)
            out[name] = (run.stdout.strip() or run.stderr.strip()).removeprefix("malhug ")  # "malhug 0.1.0"
        else:
            run = measure([str(exe), "show", name], timeout=60)
            out[name] = next(
                (ln.split(":", 1)[1].strip() for ln in run.stdout.splitlines() if ln.startswith("Version")), "?"
            )
    return out
