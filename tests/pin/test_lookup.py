"""``PinLookup``: one lookup per (type, repository, revision as written), bounded, clean revisions only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from malhug.core.model import FileReport, Severity, Verdict
from malhug.core.rules import finding
from malhug.hub.pinning import PinLookup
from malhug.hub.types import RepoScan, SafeRevision

HEAD = "1" * 40
OLD = "2" * 40


@dataclass
class _Settings:
    offline: bool = True


@dataclass
class FakeClient:
    verdicts: dict[str, Verdict]
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def settings(self) -> _Settings:
        return _Settings()

    def scan_repo(self, repo_id: str, repo_type: str, revision: str | None) -> RepoScan:
        self.calls.append(("scan", (repo_type, repo_id, revision)))
        sha = revision or HEAD
        bad = (
            [finding("MH101", "posix.system", severity=Severity.CRITICAL)]
            if self.verdicts[sha] is not Verdict.CLEAN
            else []
        )
        report = FileReport(path="pytorch_model.bin", format="pickle", findings=bad)
        return RepoScan(repo_id, "model", revision, sha, files=[report])

    def find_safe_revision(self, repo_id: str, repo_type: str) -> SafeRevision:
        self.calls.append(("history", (repo_type, repo_id)))
        clean = [sha for sha in (HEAD, OLD) if self.verdicts[sha] is Verdict.CLEAN]
        return SafeRevision(repo_id, "model", clean[0] if clean else None, HEAD, 2)


def test_one_lookup_per_reference_and_the_newest_clean_revision() -> None:
    client = FakeClient({HEAD: Verdict.MALICIOUS, OLD: Verdict.CLEAN})
    lookup = PinLookup(client)  # type: ignore[arg-type]
    first = lookup.decide("model", "org/m", None)
    assert lookup.decide("model", "org/m", None) is first
    assert first.sha == OLD
    assert client.calls == [("scan", ("model", "org/m", None)), ("history", ("model", "org/m"))]


def test_a_revision_that_scans_malicious_is_never_pinned() -> None:
    client = FakeClient({HEAD: Verdict.MALICIOUS, OLD: Verdict.MALICIOUS})
    decision = PinLookup(client).decide("model", "org/m", HEAD)  # type: ignore[arg-type]
    assert decision.sha is None
    assert decision.reason.startswith("111111111111 is malicious, and none of the newest 2 commit(s)")


def test_a_clean_pinned_revision_is_kept_without_a_history_search() -> None:
    client = FakeClient({HEAD: Verdict.MALICIOUS, OLD: Verdict.CLEAN})
    assert PinLookup(client).decide("model", "org/m", OLD).sha == OLD  # type: ignore[arg-type]
    assert client.calls == [("scan", ("model", "org/m", OLD))]


def test_lookups_are_bounded() -> None:
    client = FakeClient({HEAD: Verdict.CLEAN, OLD: Verdict.CLEAN})
    lookup = PinLookup(client, max_lookups=1)  # type: ignore[arg-type]
    assert lookup.decide("model", "org/a", None).sha == HEAD
    over = lookup.decide("model", "org/b", None)
    assert over.sha is None and over.reason == "not looked up: more than 1 distinct references"
    assert len(client.calls) == 1
