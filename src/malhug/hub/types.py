"""Results of the hub layer, as the CLI and the language server consume them.

The contract between ``malhug.hub`` and its callers (CLI, language server). Extend compatibly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from malhug.core.model import FileReport, Verdict

RepoType = Literal["model", "dataset"]


@dataclass
class RepoScan:
    """Our verdict on one revision of one repository."""

    repo_id: str
    repo_type: RepoType
    revision: str | None  # as asked (branch, tag, sha or None for the default branch)
    commit_sha: str | None  # the full commit it resolved to
    files: list[FileReport] = field(default_factory=list)
    # Files listed but not fully scanned (over the max-download cap, unsupported), with the reason.
    skipped: dict[str, str] = field(default_factory=dict)
    # What the Hub itself says (securityStatus / per-file security data), reported beside ours.
    hub_security: dict[str, Any] | None = None
    # Whether the revision ships code that loading may run (scripts, auto_map targets).
    ships_code: bool = False
    bytes_read: int = 0
    from_cache: bool = False
    # A user-facing error (repo not found, gated, offline with nothing cached, ...); verdict is ERROR then.
    error: str | None = None
    error_kind: str | None = None  # not-found | revision-not-found | gated | unauthorized | rate-limited | timeout | offline | network

    @property
    def verdict(self) -> Verdict:
        if self.error is not None:
            return Verdict.ERROR
        worst = Verdict.worst([f.verdict for f in self.files])
        if worst is Verdict.CLEAN and self.skipped:
            return Verdict.SUSPICIOUS
        return worst


@dataclass
class SafeRevision:
    """The newest commit whose risky files all scan clean, within the searched bound."""

    repo_id: str
    repo_type: RepoType
    commit_sha: str | None  # None when no commit within the bound scans clean
    head_sha: str | None
    commits_checked: int
    is_head: bool = False
    error: str | None = None
