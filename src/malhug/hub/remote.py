"""What a revision holds, as the Hub lists it: commit, files with sizes and ids, the Hub's scan status."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from huggingface_hub.hf_api import RepoFile

from malhug.hub.http import Cut, HubError, HubHttp

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    blob_id: str  # git blob id (of the LFS pointer for LFS files)
    lfs_sha256: str | None = None
    security: dict[str, Any] | None = None  # the Hub's securityFileStatus, when it sent one

    @property
    def content_id(self) -> str:
        """A content id that names the bytes: the LFS sha256, else the git blob id."""
        return f"sha256:{self.lfs_sha256}" if self.lfs_sha256 else f"git:{self.blob_id}"


@dataclass(frozen=True)
class RevisionInfo:
    commit_sha: str
    private: bool | None = None
    gated: Any = None
    security_status: dict[str, Any] | None = None


def _api_type(repo_type: str) -> str:
    return "datasets" if repo_type == "dataset" else "models"


def revision_info(
    http: HubHttp, repo_type: str, repo_id: str, revision: str | None, *, security: bool = True
) -> RevisionInfo:
    """Resolve ``revision`` (branch, tag, sha, None for the default branch) to a commit, with the Hub's scan status."""
    path = f"/api/{_api_type(repo_type)}/{repo_id}"
    if revision is not None:
        path += f"/revision/{quote(revision, safe='')}"
    label = f"{repo_type} {repo_id}" + (f"@{revision}" if revision else "")
    data = http.api("GET", path, params={"securityStatus": "true"} if security else None, what=label)
    if not isinstance(data, dict) or not isinstance(data.get("sha"), str):
        raise HubError("network", f"the Hub did not say which commit {label} is")
    if not FULL_SHA.match(data["sha"]):
        # The sha names cache entries, is printed and goes into the editor's "pin this revision" edit.
        raise HubError("network", f"the Hub named a malformed commit for {label}")
    status = data.get("securityRepoStatus")
    return RevisionInfo(
        commit_sha=data["sha"],
        private=data.get("private"),
        gated=data.get("gated"),
        security_status=status if isinstance(status, dict) else None,
    )


def _parse_file(item: Any) -> RemoteFile | None:
    if not isinstance(item, dict) or item.get("type") != "file":
        return None
    raw_security = item.get("securityFileStatus")
    try:
        parsed = RepoFile(**{k: v for k, v in item.items() if k in ("path", "size", "oid", "lfs")})
    except (KeyError, TypeError) as exc:
        raise HubError("network", f"unexpected file entry in the Hub's listing: {exc}") from exc
    lfs = parsed.lfs.sha256 if parsed.lfs is not None else None
    # Ids name cache entries and local blobs: only well-formed hex is ever used as one.
    if not FULL_SHA.match(str(parsed.blob_id)) or (lfs is not None and not SHA256.match(str(lfs))):
        raise HubError("network", f"the Hub listed {parsed.path!r} with a malformed id")
    if not isinstance(parsed.size, int) or parsed.size < 0:
        raise HubError("network", f"the Hub listed {parsed.path!r} with a bad size {parsed.size!r}")
    return RemoteFile(
        path=parsed.path,
        size=parsed.size,
        blob_id=parsed.blob_id,
        lfs_sha256=lfs,
        security=raw_security if isinstance(raw_security, dict) else None,
    )


MAX_FILES = 100_000


def list_files(
    http: HubHttp,
    repo_type: str,
    repo_id: str,
    commit: str,
    *,
    expand: bool = False,
    max_files: int = MAX_FILES,
    cut: Cut | None = None,
) -> list[RemoteFile]:
    """Every file of ``commit`` with size, blob id and LFS sha256 (1,000 per page; 50 with ``expand``).

    At most ``max_files`` entries (and ``http.bounds.max_pages`` pages) are read; ``cut`` records
    whether the listing went on past that, so the caller can say part of the revision was never seen.
    """
    path = f"/api/{_api_type(repo_type)}/{repo_id}/tree/{quote(commit, safe='')}"
    params = {"recursive": "true", "expand": "true"} if expand else {"recursive": "true"}
    what = f"file list of {repo_id}@{commit[:12]}"
    items = http.paginate(path, params=params, what=what, limit=max_files, cut=cut)
    return [f for f in (_parse_file(item) for item in items) if f is not None]


def file_security(
    http: HubHttp, repo_type: str, repo_id: str, commit: str, paths: list[str], *, batch: int = 50
) -> dict[str, dict[str, Any]]:
    """The Hub's own scan status (``securityFileStatus``) of ``paths``, from paths-info with ``expand``."""
    out: dict[str, dict[str, Any]] = {}
    url = f"/api/{_api_type(repo_type)}/{repo_id}/paths-info/{quote(commit, safe='')}"
    for i in range(0, len(paths), batch):
        data = {"paths": paths[i : i + batch], "expand": "true"}
        answer = http.api("POST", url, data=data, what=f"file status of {repo_id}@{commit[:12]}")
        for item in answer if isinstance(answer, list) else []:
            parsed = _parse_file(item)
            if parsed is not None and parsed.security is not None:
                out[parsed.path] = parsed.security
    return out


def list_commits(http: HubHttp, repo_type: str, repo_id: str, revision: str | None, *, limit: int) -> list[str]:
    """Commit shas from ``revision`` back in history, newest first, at most ``limit``."""
    rev = quote(revision or "main", safe="")
    items = http.paginate(
        f"/api/{_api_type(repo_type)}/{repo_id}/commits/{rev}", what=f"history of {repo_id}", limit=limit
    )
    # Only well-formed shas: each is scanned, shown and may be written into code as revision="<sha>".
    return [
        item["id"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("id"), str) and FULL_SHA.match(item["id"])
    ]
