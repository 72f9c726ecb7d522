"""A hub verdict for a moving reference that the Hub could not confirm is ``stale``, never a pass.

The attack: a repository is scanned clean at ``main``; its owner then pushes a poisoned commit to
``main``; a CI job that cannot reach the Hub must not pass the old verdict off as the current one.
A pinned full commit served from the caches is fine: its content cannot move.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from malhug.cli import main
from malhug.hub.client import HubClient
from tests.fakehub import FakeHub
from tests.hub import payloads as P
from tests.hub.test_errors import closing_server

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers
__all__ = ["closing_server"]  # a fixture these tests use


def _scan(capsys: pytest.CaptureFixture[str], *args: str, fmt: str = "json") -> tuple[int, str]:
    code = main(["scan", *args, "--format", fmt])
    return code, capsys.readouterr().out


@pytest.fixture()
def moved(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[str, str]]:
    """``org/model``: scanned clean at ``main``, then ``main`` moved to a poisoned commit."""
    repo = hub.repo("org/model")
    clean = repo.commit({"w.pkl": P.benign_pickle()})
    code, _ = _scan(capsys, "hf:org/model", "--endpoint", hub.endpoint)
    assert code == 0
    poisoned = repo.commit({"w.pkl": P.evil_pickle()})
    yield clean, poisoned


def test_unreachable_hub_reports_the_old_verdict_as_stale(
    moved: tuple[str, str], closing_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    clean, poisoned = moved
    code, out = _scan(capsys, "hf:org/model", "--endpoint", closing_server)
    report = json.loads(out)
    assert code == 2 and report["verdict"] == "error"
    section = report["hub"]["hf:org/model"]
    assert section["stale"] is True and section["commit"] == clean and section["verdict"] == "clean"
    assert section["scanned_at"].endswith("Z") and section["offline"] is True
    assert section["offline_rule"].startswith(f"verdict of {clean} scanned {section['scanned_at']}")
    [entry] = [f for f in report["files"] if f["path"] == "hf:org/model"]
    assert entry["verdict"] == "error" and entry["error"].startswith("stale: the Hub could not confirm")
    assert clean in entry["error"] and poisoned not in out

    code, text = _scan(capsys, "hf:org/model", "--endpoint", closing_server, fmt="text")
    assert code == 2 and "CLEAN:" not in text
    assert f"offline: verdict of {clean} scanned " in text and "the branch may have moved" in text
    code, sarif_text = _scan(capsys, "hf:org/model", "--endpoint", closing_server, fmt="sarif")
    run = json.loads(sarif_text)["runs"][0]
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert code == 2 and any(n.startswith("hf/org/model: stale: ") and clean in n for n in notes)


def test_once_reachable_the_moved_branch_is_scanned(
    moved: tuple[str, str], hub: FakeHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _, poisoned = moved
    code, out = _scan(capsys, "hf:org/model", "--endpoint", hub.endpoint)
    section = json.loads(out)["hub"]["hf:org/model"]
    assert code == 1 and section["commit"] == poisoned and section["stale"] is False
    assert section["offline_rule"] is None


def test_stale_malicious_verdict_exits_1(hub: FakeHub, closing_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    sha = hub.repo("org/model").commit({"w.pkl": P.evil_pickle()})
    assert _scan(capsys, "hf:org/model@main", "--endpoint", hub.endpoint)[0] == 1
    code, out = _scan(capsys, "hf:org/model@main", "--endpoint", closing_server)
    report = json.loads(out)
    assert code == 1 and report["hub"]["hf:org/model@main"]["stale"] is True
    assert report["hub"]["hf:org/model@main"]["commit"] == sha


def test_pinned_commit_from_the_cache_is_not_stale(
    moved: tuple[str, str], closing_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    clean, _ = moved
    code, out = _scan(capsys, f"hf:org/model@{clean}", "--endpoint", closing_server)
    report = json.loads(out)
    section = report["hub"][f"hf:org/model@{clean}"]
    assert code == 0 and report["verdict"] == "clean" and section["stale"] is False


def test_offline_states_its_rule(moved: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    clean, _ = moved
    code, out = _scan(capsys, "hf:org/model", "--offline")
    section = json.loads(out)["hub"]["hf:org/model"]
    assert code == 2 and section["stale"] is True
    assert section["offline_rule"] == (
        f"verdict of {clean} scanned {section['scanned_at']}; the branch may have moved since: not a pass"
    )
    code, out = _scan(capsys, f"hf:org/model@{clean}", "--offline")
    section = json.loads(out)["hub"][f"hf:org/model@{clean}"]
    assert code == 0 and section["stale"] is False
    assert section["offline_rule"] == f"pinned commit {clean} from the local caches: its content cannot move"


def test_client_records_when_it_scanned(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/model").commit({"w.pkl": P.benign_pickle()})
    client = make_client()
    first = client.scan_repo("org/model")
    again = client.scan_repo("org/model")
    assert first.scanned_at is not None and again.from_cache and again.scanned_at == first.scanned_at
