"""The report of a risky hub target carries the fix the editor offers: the newest revision that scans
clean (full sha), or why there is none; bounded by a stated number of commits.

Poisoned-update scenario: a model repository whose latest commits replace clean weights with a
pickle that runs a command on load (the pattern of the malicious Hugging Face models reported by
JFrog, "Data Scientists Targeted by Malicious Hugging Face ML Models with Silent Backdoor", 2024).
"""

from __future__ import annotations

import json

import pytest

from malhug.cli import main
from malhug.hub.cli import SAFE_REVISION_LIMIT
from tests.fakehub import FakeHub
from tests.hub import payloads as P

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers


def _scan(capsys: pytest.CaptureFixture[str], *args: str, fmt: str = "json") -> tuple[int, str]:
    code = main(["scan", *args, "--format", fmt])
    return code, capsys.readouterr().out


def test_risky_head_names_the_newest_clean_revision(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    repo = hub.repo("org/model")
    repo.commit({"w.pkl": P.benign_pickle()}, title="v1")
    good = repo.commit({"README.md": "docs"}, title="v2")
    repo.commit({"w.pkl": P.evil_pickle()}, title="poison")
    code, out = _scan(capsys, "hf:org/model", "--endpoint", hub.endpoint)
    safe = json.loads(out)["hub"]["hf:org/model"]["safe_revision"]
    assert code == 1
    assert safe == {"commit": good, "commits_checked": 2, "limit": SAFE_REVISION_LIMIT, "reason": None}
    code, text = _scan(capsys, "hf:org/model", "--endpoint", hub.endpoint, fmt="text")
    assert f"safe revision: {good} (the newest of 2 commits checked that scans clean; pin hf:org/model@{good})" in text
    code, sarif = _scan(capsys, "hf:org/model", "--endpoint", hub.endpoint, fmt="sarif")
    props = json.loads(sarif)["runs"][0]["properties"]
    assert props["safe_revisions"]["hf:org/model"]["commit"] == good


def test_every_revision_risky_says_why_there_is_none(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    repo = hub.repo("org/bad")
    repo.commit({"w.pkl": P.evil_pickle()})
    code, out = _scan(capsys, "hf:org/bad", "--endpoint", hub.endpoint)
    safe = json.loads(out)["hub"]["hf:org/bad"]["safe_revision"]
    assert code == 1 and safe["commit"] is None and safe["commits_checked"] == 1
    assert safe["reason"] == "every revision scanned is risky: the whole history, 1 commit"
    _, text = _scan(capsys, "hf:org/bad", "--endpoint", hub.endpoint, fmt="text")
    assert "safe revision: none: every revision scanned is risky: the whole history, 1 commit" in text


def test_history_longer_than_the_limit(
    hub: FakeHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import malhug.hub.cli as hub_cli

    monkeypatch.setattr(hub_cli, "SAFE_REVISION_LIMIT", 2)
    repo = hub.repo("org/long")
    repo.commit({"w.pkl": P.benign_pickle()})
    repo.commit({"w.pkl": P.evil_pickle()})
    repo.commit({"README.md": "x"})
    code, out = _scan(capsys, "hf:org/long", "--endpoint", hub.endpoint)
    safe = json.loads(out)["hub"]["hf:org/long"]["safe_revision"]
    assert code == 1 and safe["commit"] is None and safe["limit"] == 2 and safe["commits_checked"] == 2
    assert safe["reason"] == "none of the newest 2 commits scans clean (the search stops there)"


def test_clean_target_has_no_safe_revision_search(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    hub.repo("org/good").commit({"w.pkl": P.benign_pickle()})
    code, out = _scan(capsys, "hf:org/good", "--endpoint", hub.endpoint)
    assert code == 0 and json.loads(out)["hub"]["hf:org/good"]["safe_revision"] is None
    assert not hub.requests(lambda r: "/commits/" in r.path)


def test_offline_risky_target_says_the_hub_is_needed(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    sha = hub.repo("org/bad").commit({"w.pkl": P.evil_pickle()})
    _scan(capsys, f"hf:org/bad@{sha}", "--endpoint", hub.endpoint)
    code, out = _scan(capsys, f"hf:org/bad@{sha}", "--offline")
    safe = json.loads(out)["hub"][f"hf:org/bad@{sha}"]["safe_revision"]
    assert code == 1 and safe["commit"] is None and safe["commits_checked"] == 0
    assert safe["reason"] == "the Hub could not be asked: this verdict came from the local caches without it"


def test_unreachable_hub_is_not_asked_again(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    hub.repo("org/bad").commit({"w.pkl": P.evil_pickle()})
    assert _scan(capsys, "hf:org/bad@main", "--endpoint", hub.endpoint)[0] == 1
    hub.stop()
    code, out = _scan(capsys, "hf:org/bad@main", "--endpoint", hub.endpoint)
    section = json.loads(out)["hub"]["hf:org/bad@main"]
    assert code == 1 and section["stale"] is True
    assert section["safe_revision"]["commits_checked"] == 0
    assert section["safe_revision"]["reason"].startswith("the Hub could not be asked: ")
