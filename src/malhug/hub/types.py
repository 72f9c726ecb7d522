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
    # What the Hub itself says (securityStatus / per-file security data), reported beside ours:
    # {"repo": <securityRepoStatus as the Hub sends it, e.g. {"scansDone": true, "filesWithIssues":
    #  [{"path": ..., "level": "unsafe"}]}>, "files": {path: {"status": "safe|unsafe|...", "avScan": ...,
    #  "pickleImportScan": ...}}}; either key may be missing. Files the Hub flags also carry MH603.
    hub_security: dict[str, Any] | None = None
    # Whether the revision ships code that loading may run (scripts, auto_map targets).
    ships_code: bool = False
    bytes_read: int = 0
    from_cache: bool = False
    # A user-facing error (repo not found, gated, offline with nothing cached, ...); verdict is ERROR then.
    error: str | None = None
    # not-found | revision-not-found | gated | unauthorized | rate-limited | timeout | offline | network
    # (added by the hub layer: cancelled | internal)
    error_kind: str | None = None
    # Compatible extensions by the hub layer. ``files`` hold repo-relative paths; the CLI prefixes them
    # with ``hf:ORG/NAME@SHA/``. ``bytes_read`` counts file content received over the network.
    files_listed: int = 0  # files in the revision (scanned or not)
    metadata_bytes: int = 0  # API JSON received (revision info, listing)
    offline: bool = False  # answered from the local Hugging Face cache without the network
    scanned_at: float | None = None  # when our verdict was made (epoch seconds; kept by the verdict cache)

    @property
    def verdict(self) -> Verdict:
        if self.error is not None:
            return Verdict.ERROR
        worst = Verdict.worst([f.verdict for f in self.files])
        if worst is Verdict.CLEAN and self.skipped:
            return Verdict.SUSPICIOUS
        return worst

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo_id": self.repo_id,
            "repo_type": self.repo_type,
            "revision": self.revision,
            "commit_sha": self.commit_sha,
            "verdict": self.verdict.value,
            "files": [{**f.to_dict(), "size": f.size, "bytes_read": f.bytes_read} for f in self.files],
            "skipped": dict(self.skipped),
            "hub_security": self.hub_security,
            "ships_code": self.ships_code,
            "bytes_read": self.bytes_read,
            "from_cache": self.from_cache,
            "error": self.error,
            "error_kind": self.error_kind,
            "files_listed": self.files_listed,
            "metadata_bytes": self.metadata_bytes,
            "offline": self.offline,
            "scanned_at": self.scanned_at,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> RepoScan:
        files = []
        for raw in data.get("files", []):
            report = FileReport.from_dict(raw)
            report.size = raw.get("size")
            report.bytes_read = raw.get("bytes_read", 0)
            files.append(report)
        return RepoScan(
            repo_id=data["repo_id"],
            repo_type=data["repo_type"],
            revision=data.get("revision"),
            commit_sha=data.get("commit_sha"),
            files=files,
            skipped=dict(data.get("skipped", {})),
            hub_security=data.get("hub_security"),
            ships_code=bool(data.get("ships_code", False)),
            bytes_read=int(data.get("bytes_read", 0)),
            from_cache=bool(data.get("from_cache", False)),
            error=data.get("error"),
            error_kind=data.get("error_kind"),
            files_listed=int(data.get("files_listed", 0)),
            metadata_bytes=int(data.get("metadata_bytes", 0)),
            offline=bool(data.get("offline", False)),
            scanned_at=data.get("scanned_at"),
        )


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
