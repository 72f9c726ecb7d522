"""The revision ``malhug pin`` writes for a reference: the newest that scans clean, looked up once per reference.

``PinLookup.decide(repo_type, repo_id, revision)`` answers a ``PinDecision`` (the analyzers' value
type) and remembers it, so a project that names one repository in fifty places costs one lookup per
(type, repository, revision as written). At most ``max_lookups`` distinct references are looked up in
one run; the rest are answered "not looked up" (bounded work on a hostile project).

The rule is the quick fix's: a pin is offered only for a revision that scans clean.
- ``revision`` is a full sha: kept when that commit scans clean; else the newest clean one.
- a branch or tag (or none: the default branch): its commit when it scans clean; else the newest
  commit of the default branch's history (``HubClient.find_safe_revision``, bounded by the history
  depth) that does.
- an error (missing, gated, rate limited, offline with nothing cached) is the reason, never a pin.
``safetensors``: the pinned commit lists a ``.safetensors`` file (one tree listing, bounded).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from malhug.analyzers.api import PinDecision
from malhug.core.model import Verdict
from malhug.hub.client import HubClient
from malhug.hub.http import HubError, HubHttp
from malhug.hub.remote import FULL_SHA, list_files
from malhug.hub.settings import redact

log = logging.getLogger(__name__)
DEFAULT_MAX_LOOKUPS = 200


def _verdict_reason(sha: str | None, verdict: Verdict) -> str:
    return f"{(sha or '?')[:12]} is {verdict.value}"


@dataclass
class PinLookup:
    client: HubClient
    max_lookups: int = DEFAULT_MAX_LOOKUPS
    answers: dict[tuple[str, str, str | None], PinDecision] = field(default_factory=dict)
    lookups: int = 0  # distinct references looked up on the Hub (or in the caches)

    def decide(self, repo_type: str, repo_id: str, revision: str | None) -> PinDecision:
        key = (repo_type, repo_id, revision)
        if key not in self.answers:
            if self.lookups >= self.max_lookups:
                return PinDecision(None, reason=f"not looked up: more than {self.max_lookups} distinct references")
            self.lookups += 1
            self.answers[key] = self._decide(repo_type, repo_id, revision)
        return self.answers[key]

    def _decide(self, repo_type: str, repo_id: str, revision: str | None) -> PinDecision:
        scan = self.client.scan_repo(repo_id, repo_type, revision)
        if scan.error is not None:
            return PinDecision(None, reason=f"{scan.error_kind or 'error'}: {scan.error}")
        if scan.verdict is Verdict.CLEAN and scan.commit_sha:
            return PinDecision(scan.commit_sha, self._has_safetensors(repo_type, repo_id, scan.commit_sha))
        what = _verdict_reason(scan.commit_sha, scan.verdict)
        safe = self.client.find_safe_revision(repo_id, repo_type)
        if safe.error is not None:
            return PinDecision(None, reason=f"{what}; no clean revision found: {safe.error}")
        if safe.commit_sha is None:
            return PinDecision(
                None,
                reason=f"{what}, and none of the newest {safe.commits_checked} commit(s) of the default branch "
                "scans clean; do not load this repository",
            )
        return PinDecision(safe.commit_sha, self._has_safetensors(repo_type, repo_id, safe.commit_sha))

    def _has_safetensors(self, repo_type: str, repo_id: str, sha: str) -> bool:
        """Whether commit ``sha`` lists a ``.safetensors`` file (False offline or when the listing fails)."""
        s = self.client.settings()
        if s.offline or not FULL_SHA.match(sha):
            return False
        try:
            with HubHttp(s.endpoint, s.token, timeout=self.client.timeout, bounds=self.client.bounds) as http:
                listed = list_files(http, repo_type, repo_id, sha, max_files=http.bounds.listing_files)
        except HubError as exc:
            log.info("no file list of %s@%s: %s", repo_id, sha[:12], redact(exc.message, s.token))
            return False
        return any(f.path.endswith(".safetensors") for f in listed)
