"""The editor fails closed like the CLI (unit level): every analysis failure is a diagnostic.

Worker-side failures (analyzer missing, crashing, budget exhausted, source too large, nothing
parsed) become MH90x/MH514 findings; a worker that dies or misses its deadline is replaced and
reported; model files and hub references that could not be checked say so.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from malhug.analyzers.limits import DEFAULT_LIMITS
from malhug.analyzers.usercode.references import analyze_code
from malhug.analyzers.usercode.spans import SourceLines
from malhug.core.model import FileReport, Severity
from malhug.hub.types import RepoScan
from malhug.server import diagnostics, hover, scriptworker, workspace
from malhug.server.main import create_server
from malhug.server.settings import Settings

DEEP = "import os\nx = " + "+".join(["1"] * 30_000) + "\n"  # CPython parses it; the analysis cannot follow
UNPARSEABLE = "def f(:\n" * 200  # more broken statements than the parser repairs: nothing analyzed
TRAINING = "import os\nos.system('nvidia-smi')\n"
ONE_TYPO = "import os\ndef f(:\n    pass\nos.system('echo hi')\n"  # the editor's own Python support shows it


def issues_for(findings: list[Any], text: str, settings: Settings | None = None) -> list[diagnostics.Issue]:
    src = SourceLines(text)
    return diagnostics.document_issues(analyze_code(text), findings, src, {}, {}, settings or Settings())


def lsp(issue: diagnostics.Issue, text: str) -> types.Diagnostic:
    src = SourceLines(text)
    return diagnostics.to_diagnostic(issue, "file:///x.py", src.lines, None)


def rules(raw: list[dict[str, Any]]) -> list[str]:
    return [f.rule for f in scriptworker.to_findings(raw, "x_dataset.py")]


def test_worker_import_failure_is_mh903_not_an_empty_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "malhug.analyzers.scripts.analyzer", None)  # import raises ImportError
    findings = scriptworker.to_findings(scriptworker.analyze("import os\n", "x_dataset.py"), "x_dataset.py")
    assert [f.rule for f in findings] == ["MH903"]
    assert "could not be loaded" in findings[0].message and "not fully analyzed" in findings[0].message
    diag = lsp(issues_for(findings, "import os\n")[0], "import os\n")
    assert diag.code == "MH903" and diag.source == "malhug"
    assert diag.severity == types.DiagnosticSeverity.Warning  # the catalog's medium
    assert diag.range.start == types.Position(line=0, character=0)


def test_analyzer_crash_is_mh903_and_shown_above_any_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    import malhug.analyzers.scripts.analyzer as analyzer

    def boom(*args: object, **kwargs: object) -> list[object]:
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(analyzer, "analyze_text", boom)
    findings = scriptworker.to_findings(scriptworker.analyze("x = 1\n", "x_dataset.py"), "x_dataset.py")
    assert [f.rule for f in findings] == ["MH903"] and "ZeroDivisionError: injected" in findings[0].message
    strict = Settings(severity_threshold=Severity.CRITICAL)
    assert [i.rule for i in issues_for(findings, "x = 1\n", strict)] == ["MH903"]


def test_analyzer_out_of_stack_is_mh902(monkeypatch: pytest.MonkeyPatch) -> None:
    import malhug.analyzers.scripts.analyzer as analyzer

    def deep(*args: object, **kwargs: object) -> list[object]:
        raise RecursionError("too deep")

    monkeypatch.setattr(analyzer, "analyze_text", deep)
    assert rules(scriptworker.analyze("x = 1\n", "x_dataset.py")) == ["MH902"]


def test_incomplete_analysis_is_published_as_mh902() -> None:
    findings = scriptworker.to_findings(scriptworker.analyze(DEEP, "deep_dataset.py"), "deep_dataset.py")
    assert [f.rule for f in findings] == ["MH902"]
    assert "nesting too deep" in findings[0].message and "not fully analyzed" in findings[0].message
    (issue,) = issues_for(findings, DEEP)
    diag = lsp(issue, DEEP)
    assert diag.code == "MH902" and diag.severity == types.DiagnosticSeverity.Warning
    assert diag.range.start.line == 0


def test_source_over_the_size_limit_is_mh902() -> None:
    text = "#" * (DEFAULT_LIMITS.max_source_bytes + 1)
    findings = scriptworker.to_findings(scriptworker.analyze(text, "big_dataset.py"), "big_dataset.py")
    assert [f.rule for f in findings] == ["MH902"] and "size" in findings[0].message


def test_a_file_nothing_of_which_parses_is_mh514_a_typo_is_left_to_the_editor() -> None:
    findings = scriptworker.to_findings(scriptworker.analyze(UNPARSEABLE, "broken_dataset.py"), "broken_dataset.py")
    assert [f.rule for f in findings] == ["MH514"] and "could not be analyzed" in findings[0].message
    strict = Settings(severity_threshold=Severity.CRITICAL)
    assert [i.rule for i in issues_for(findings, UNPARSEABLE, strict)] == ["MH514"]  # never hidden
    assert rules(scriptworker.analyze(ONE_TYPO, "typo_dataset.py")) == ["MH505"]  # the rest is still analyzed


def _slow(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _slow_marked(marker: str, seconds: float) -> int:
    Path(marker).write_text(str(os.getpid()))
    return _slow(seconds)


async def _worker_pid(runner: scriptworker.ScriptRunner) -> int:
    for _ in range(1000):
        if runner.pids():
            return runner.pids()[0]
        await asyncio.sleep(0.02)
    raise AssertionError("no worker process started")


async def test_worker_killed_mid_analysis_is_reported_and_replaced() -> None:
    runner = scriptworker.ScriptRunner()
    try:
        task = asyncio.ensure_future(runner.run(_slow, 60))
        pid = await _worker_pid(runner)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(scriptworker.WorkerFailure) as failed:
            await task
        assert failed.value.rule == "MH903" and "died" in str(failed.value)
        assert await runner.run(_slow, 0) != pid  # the next analysis runs in a new worker
    finally:
        runner.shutdown()


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time)`` of ``pid`` from ``/proc/PID/stat``; None once the entry is gone (it can
    vanish between any two reads: the process is reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces or ")"
    return fields[0], fields[19]  # state (field 3), starttime (field 22)


def _same_process_alive(pid: int, start: str) -> bool:
    """The process that had ``start`` as its start time still runs: its entry is there, it is not a
    zombie (killed, not yet reaped) and its pid was not reused by a newer process."""
    now = _proc_stat(pid)
    return now is not None and now[0] not in "ZX" and now[1] == start


async def test_worker_past_its_deadline_is_killed_and_reported() -> None:
    runner = scriptworker.ScriptRunner(deadline=1.0)
    try:
        task = asyncio.ensure_future(runner.run(_slow, 60))
        pid = await _worker_pid(runner)
        started = _proc_stat(pid)
        assert started is not None and started[0] not in "ZX", "the worker was not running before its deadline"
        with pytest.raises(scriptworker.WorkerFailure) as failed:
            await task
        assert failed.value.rule == "MH902" and "deadline" in str(failed.value)
        for _ in range(500):  # the stuck process is gone, not left running
            if not _same_process_alive(pid, started[1]):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the stuck worker was not killed")
        runner.deadline = 60.0
        assert await runner.run(_slow, 0) != pid
    finally:
        runner.shutdown()


async def test_a_task_queued_behind_the_one_that_killed_the_worker_runs_again() -> None:
    runner = scriptworker.ScriptRunner(deadline=2.0)
    try:
        hostile = asyncio.ensure_future(runner.run(_slow, 60))
        pid = await _worker_pid(runner)
        runner.deadline = 60.0  # the hostile task keeps its 2 s; the next one gets time to start a worker
        innocent = asyncio.ensure_future(runner.run(_slow, 0))  # waits for its turn
        with pytest.raises(scriptworker.WorkerFailure):
            await hostile
        assert await innocent not in (pid, None)  # ran in the new worker, not blamed
    finally:
        runner.shutdown()


async def test_an_abandoned_analysis_does_not_eat_the_next_ones_deadline(tmp_path: Path) -> None:
    runner = scriptworker.ScriptRunner(deadline=5.0)
    try:
        marker = tmp_path / "started"
        closed = asyncio.ensure_future(runner.run(_slow_marked, str(marker), 60))  # its document is then closed
        for _ in range(2000):
            if marker.exists() and marker.read_text():
                break
            await asyncio.sleep(0.01)
        pid = int(marker.read_text())
        closed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closed
        runner.deadline = 60.0  # the next task's own deadline (a new worker's start-up counts in it)
        assert await runner.run(_slow, 0) not in (pid, None)  # the stuck task was killed, not waited for forever
    finally:
        runner.shutdown()


def _allocate(size: int) -> int:
    return len(bytearray(size))


async def test_the_worker_runs_under_a_memory_cap() -> None:
    runner = scriptworker.ScriptRunner(memory=1 << 30)
    try:
        with pytest.raises(MemoryError):
            await runner.run(_allocate, 2 << 30)
        assert await runner.run(_allocate, 1 << 20) == 1 << 20  # the worker survives it
    finally:
        runner.shutdown()


class FlakyRunner:
    """Stands in for ScriptRunner: fails while ``failing`` is set, else returns no findings."""

    def __init__(self) -> None:
        self.failing = True

    async def run(self, func: Any, *args: Any) -> list[dict[str, Any]]:
        if self.failing:
            raise scriptworker.WorkerFailure("MH903", "python: the analysis worker died while analyzing this file")
        return []

    def shutdown(self) -> None:
        pass


async def test_server_reports_a_dead_worker_once_per_run_of_failures() -> None:
    server = create_server()
    shown: list[str] = []
    server.show = lambda message, kind=types.MessageType.Warning: shown.append(message)  # type: ignore[method-assign]
    runner = FlakyRunner()
    server.scripts = runner  # type: ignore[assignment]
    try:
        for _ in range(3):  # three keystrokes, three dead workers
            findings = await server.run_scripts("x = 1\n", "a_dataset.py")
            assert [f.rule for f in findings] == ["MH903"] and "worker died" in findings[0].message
        assert len(shown) == 1 and "worker died" in shown[0] and "a_dataset.py" in shown[0]
        runner.failing = False
        assert await server.run_scripts("x = 1\n", "a_dataset.py") == []
        runner.failing = True
        await server.run_scripts("x = 1\n", "a_dataset.py")
        assert len(shown) == 2  # a new failure after a recovery is news again
    finally:
        server.shutdown_pools()


async def test_server_reports_an_unusable_pool_as_mh903() -> None:
    server = create_server()
    server.scripts.shutdown()

    class Closed:
        async def run(self, func: Any, *args: Any) -> Any:
            raise RuntimeError("cannot schedule new futures after shutdown")

        def shutdown(self) -> None:
            pass

    server.scripts = Closed()  # type: ignore[assignment]
    try:
        findings = await server.run_scripts("x = 1\n", "a_dataset.py")
        assert [f.rule for f in findings] == ["MH903"] and "could not run" in findings[0].message
    finally:
        server.shutdown_pools()


def test_local_checkpoint_whose_scan_crashes_is_mh903(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import malhug.analyzers.api as api

    def crash(*args: object, **kwargs: object) -> FileReport:
        raise MemoryError()

    monkeypatch.setattr(api, "scan_file", crash)
    path = tmp_path / "model.pt"
    path.write_bytes(b"\x80\x04")
    report = workspace.scan_one(path)
    assert [f.rule for f in report.findings] == ["MH902"] and report.verdict.value == "suspicious"
    (diag,) = diagnostics.file_diagnostics(report, Settings(severity_threshold=Severity.CRITICAL))
    assert diag.code == "MH902" and "not fully analyzed" in diag.message


def test_local_checkpoint_that_cannot_be_read_is_mh903_with_catalog_severity() -> None:
    report = FileReport(path="model.pt", format="unknown", error="cannot read: Permission denied")
    (diag,) = diagnostics.file_diagnostics(report, Settings())
    assert diag.code == "MH903" and diag.severity == types.DiagnosticSeverity.Warning
    assert "could not be analyzed" in diag.message and diag.code_description is not None


@pytest.mark.fires("MH712")
def test_hub_scan_failure_is_shown_as_not_checked() -> None:
    text = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("org/evil")\n'
    analysis = analyze_code(text)
    (ref,) = analysis.refs
    scan = RepoScan(
        repo_id="org/evil", repo_type="model", revision=None, commit_sha=None, error="boom", error_kind="internal"
    )
    (issue,) = diagnostics.hub_issue(ref, scan, None, SourceLines(text), Settings())
    assert issue.rule == "MH712" and "could not be checked" in issue.message
    markdown = hover.repo_markdown(ref, scan, None, Settings())
    assert "could not be checked" in markdown and "is clean" not in markdown and "unverified" in markdown
    pending = hover.pending_markdown(ref, scanning=False, offline=True)
    assert "not checked" in pending


def test_scope_fails_closed_when_the_folder_cannot_be_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from malhug.server import scriptscope

    (tmp_path / "helper.py").write_text(TRAINING)
    assert not scriptscope.LoadTimeScope().runs_on_load(str(tmp_path / "helper.py"), TRAINING)

    def unreadable(path: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(scriptscope.os, "scandir", unreadable)
    assert scriptscope.LoadTimeScope().runs_on_load(str(tmp_path / "helper.py"), TRAINING)


def test_scope_fails_closed_when_judging_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from malhug.server import scriptscope

    def broken(*args: object) -> set[Path]:
        raise RecursionError("hostile imports")

    (tmp_path / "helper.py").write_text(TRAINING)
    monkeypatch.setattr(scriptscope, "local_load_time_code", broken)
    assert scriptscope.LoadTimeScope().runs_on_load(str(tmp_path / "helper.py"), TRAINING)


def test_auto_map_target_in_a_folder_too_big_to_read_still_runs_on_load(tmp_path: Path) -> None:
    from malhug.server import scriptscope

    (tmp_path / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "custom_model.MyModel"}}))
    for index in range(scriptscope.MAX_FOLDER_FILES + 1):
        (tmp_path / f"m{index}.py").write_text("")
    (tmp_path / "custom_model.py").write_text(TRAINING)
    scope = scriptscope.LoadTimeScope()
    assert scope.runs_on_load(str(tmp_path / "custom_model.py"), TRAINING)
    assert not scope.runs_on_load(str(tmp_path / "m1.py"), TRAINING)


def test_hub_scan_with_a_file_that_could_not_be_read_names_it() -> None:
    text = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("org/evil")\n'
    (ref,) = analyze_code(text).refs
    unread = FileReport(path="pytorch_model.bin", format="unknown", error="could not read it from the Hub: reset")
    scan = RepoScan(repo_id="org/evil", repo_type="model", revision=None, commit_sha="a" * 40, files=[unread])
    (issue,) = diagnostics.hub_issue(ref, scan, None, SourceLines(text), Settings())
    assert issue.rule == "MH712" and "None" not in issue.message
    assert "could not be checked (1 file(s) not analyzed): pytorch_model.bin: could not read it" in issue.message
