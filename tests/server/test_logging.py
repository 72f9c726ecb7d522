"""What the server writes to the editor's output (issue #16): no warning for a late ``$/cancelRequest``, one
source prefix per line (``server.workspace: ...``), the level only as the logMessage type."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from malhug.server.state import SourceFormatter
from tests.server.conftest import evil_pickle
from tests.server.rawlsp import RawServer

LOG, INFO, WARNING = 4, 3, 2  # window/logMessage types


def _record(name: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, "w.pkl: %s", ("malicious",), None)


def test_one_source_prefix_and_no_level_in_log_messages() -> None:
    assert SourceFormatter().format(_record("malhug.server.workspace")) == "server.workspace: w.pkl: malicious"
    assert SourceFormatter().format(_record("pygls.protocol")) == "pygls.protocol: w.pkl: malicious"
    stderr = SourceFormatter("%(levelname)s %(source)s: %(message)s")
    assert stderr.format(_record("malhug.hub.client", logging.WARNING)) == "WARNING hub.client: w.pkl: malicious"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[RawServer]:
    raw = RawServer(tmp_path, HF_HUB_OFFLINE="1")
    yield raw
    raw.close()


def _hover(server: RawServer) -> int:
    params = {"textDocument": {"uri": "file:///nowhere/x.py"}, "position": {"line": 0, "character": 0}}
    msg_id = server.request("textDocument/hover", params)
    server.reply(msg_id)
    return msg_id


def _logs(server: RawServer) -> list[dict[str, object]]:
    return [m["params"] for m in server.seen if m.get("method") == "window/logMessage"]


@pytest.mark.e2e
def test_a_cancel_for_an_answered_request_logs_no_warning(server: RawServer, tmp_path: Path) -> None:
    server.initialize(tmp_path / "ws", {"malhug": {"logLevel": "debug"}})
    answered = _hover(server)
    server.notify("$/cancelRequest", {"id": answered})  # what VS Code sends for a superseded hover
    server.notify("$/cancelRequest", {"id": 987654})  # an id the server never saw
    _hover(server)  # answered only after both notifications were handled (one dispatcher, in order)
    server.close()
    stderr = b"".join(server.stderr).decode()
    assert "WARNING" not in stderr and "Cancel notification" not in stderr, stderr
    logs = _logs(server)
    assert {"type": LOG, "message": f"server.transport: cancel of request {answered}: already answered"} in logs
    assert not [m for m in logs if m["type"] in (WARNING, 1)], logs


@pytest.mark.e2e
def test_log_messages_carry_one_prefix(server: RawServer, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "w.pkl").write_bytes(evil_pickle())
    server.initialize(ws, {"malhug": {"logLevel": "info"}})
    found = server.wait(
        lambda m: m.get("method") == "window/logMessage" and "w.pkl" in m["params"]["message"],
        timeout=30,
        what="the log line of the scan of w.pkl",
    )
    assert found["params"] == {"type": INFO, "message": "server.workspace: w.pkl: malicious"}
    for params in _logs(server):
        message = str(params["message"])
        assert not message.startswith(("INFO", "WARNING", "ERROR", "DEBUG", "malhug")), message
        assert message.split(": ", 1)[0].replace(".", "").replace("_", "").isalnum(), message
