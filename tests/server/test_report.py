"""*Show Report* never cuts the evidence that proves a verdict (issue #16); the hover may, and says where
the rest is.

The payload is the reverse shell of the star23/funnythingy123a models (JFrog, "Data Scientists Targeted by
Malicious Hugging Face ML Models with Silent Backdoor", 2024), in a pickle built from opcodes, defanged to
127.0.0.1: its socket and connect calls come after the first 160 characters the hover shows, and its
``pty.spawn`` after the 240 characters the pickle analyzer used to keep of a string argument.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from malhug.analyzers.api import scan_file
from malhug.core.model import Category, FileReport, Finding, Severity, Verdict
from malhug.hub.types import RepoScan
from malhug.server import hover
from malhug.server.settings import Settings
from tests.builders.payloads import star23_reverse_shell
from tests.builders.pickles import call, pickle_of
from tests.server.conftest import HubRepos, safetensors_bytes
from tests.server.harness import server_env, start_client, stop_client

SHA = "c" * 40
# The POSIX branch whole: the socket, the connection, the descriptors and the shell it spawns.
DECISIVE = ("s=socket.socket();s.connect((RHOST,RPORT))", "os.dup2(s.fileno(),fd)", 'pty.spawn("/bin/sh")')


def reverse_shell_pickle() -> bytes:
    return pickle_of([call("builtins.exec", star23_reverse_shell())])


def shell_scan(tmp_path: Path) -> RepoScan:
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(reverse_shell_pickle())
    report = scan_file(path, display="pytorch_model.bin", hash_file=False)
    return RepoScan("org/shell", "model", None, SHA, files=[report])


def test_the_full_report_shows_the_reverse_shell_whole(tmp_path: Path) -> None:
    scan = shell_scan(tmp_path)
    [finding] = scan.files[0].findings
    assert scan.verdict is Verdict.MALICIOUS and finding.category is Category.REVERSE_SHELL
    full = hover.repo_markdown(None, scan, None, Settings(), full=True)
    assert "**MalHug: `org/shell` is malicious**" in full
    assert hover.code_block(finding.evidence, "    ") in full  # the evidence as the analyzer gave it, uncut
    for part in DECISIVE:
        assert part in full, full
    assert hover.FULL_REPORT_HINT not in full


def test_the_hover_cuts_and_points_to_the_full_report(tmp_path: Path) -> None:
    short = hover.repo_markdown(None, shell_scan(tmp_path), None, Settings())
    assert "reverse-shell" in short and "RHOST" in short
    assert "s.connect" not in short  # past the hover's cut: the fixture tests what the hover leaves out
    assert short.endswith(hover.FULL_REPORT_HINT)


def test_a_short_hover_has_no_pointer() -> None:
    finding = Finding("MH101", Severity.CRITICAL, Category.COMMAND_EXEC, "pickle calls os.system", evidence="x")
    scan = RepoScan("org/a", "model", None, SHA, files=[FileReport(path="a.bin", format="pickle", findings=[finding])])
    assert hover.FULL_REPORT_HINT not in hover.repo_markdown(None, scan, None, Settings())


def test_evidence_cannot_close_its_code_block() -> None:
    text = "x = 1\n```\n[click](javascript:alert(1))\n````"
    block = hover.code_block(text)
    assert block.startswith("`````text\n") and block.endswith("\n`````")
    assert block == "`````text\n" + text + "\n`````"


@pytest.mark.e2e
@pytest.mark.timeout(120)
async def test_show_report_over_stdio_keeps_the_payload(tmp_path: Path, hub: HubRepos) -> None:
    shell = hub.hub.repo("org/shell")
    shell.commit({"pytorch_model.bin": reverse_shell_pickle(), "model.safetensors": safetensors_bytes()}, title="w")
    client = await start_client(tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.hub.endpoint))
    try:
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="malhug.showReport", arguments=["hf:org/shell"])
        )
        assert result["report"]["verdict"] == "malicious"
        markdown = result["markdown"]
        for part in DECISIVE:
            assert part in markdown, markdown
        assert "reverse-shell" in markdown and hover.FULL_REPORT_HINT not in markdown
    finally:
        await stop_client(client)
