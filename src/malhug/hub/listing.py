"""The Hub's repository listings (``/api/models``, ``/api/datasets``), newest change first.

One paginated request per 1,000 repositories (``Link: rel="next"``), each entry expanded with what the
monitor needs to decide without another call: the head commit, the last change, and whether the
repository is private, gated or disabled. ``head`` resolves one repository that a list or a webhook
names, saying why it cannot be scanned when it cannot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from malhug.hub.bounded import DEFAULT_BOUNDS
from malhug.hub.http import HubError, HubHttp
from malhug.hub.remote import FULL_SHA, revision_info

EXPAND = ("sha", "lastModified", "private", "gated", "disabled")
PAGE = 1000
# A listing of a whole hub: 1,000 repositories a page, up to 10 million repositories.
LISTING_BOUNDS = replace(DEFAULT_BOUNDS, max_pages=10_000)


@dataclass(frozen=True)
class Listed:
    """One repository as the listing (or a head lookup) describes it."""

    repo_type: str
    repo_id: str
    sha: str | None
    last_modified: str | None  # ISO 8601 as the Hub writes it
    state: str  # ok | gated | private | disabled | vanished
    why: str | None = None


def _state(item: dict[str, object]) -> tuple[str, str | None]:
    if item.get("disabled"):
        return "disabled", "the Hub disabled this repository"
    gated = item.get("gated")
    if gated not in (None, False):
        return "gated", f"gated ({gated}): its files need accepted conditions"
    if item.get("private"):
        return "private", "private: the token cannot read it"
    return "ok", None


def list_repos(http: HubHttp, repo_type: str, *, author: str | None = None) -> Iterator[Listed]:
    """Every repository of ``repo_type`` (``author``: of one user or organisation), newest change first."""
    params: dict[str, object] = {"sort": "lastModified", "direction": "-1", "limit": PAGE, "expand": list(EXPAND)}
    if author:
        params["author"] = author
    path = "/api/datasets" if repo_type == "dataset" else "/api/models"
    for item in http.paginate(path, what=f"the {repo_type} listing", params=params):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise HubError("network", f"unexpected entry in the {repo_type} listing")
        sha = item.get("sha")
        modified = item.get("lastModified")
        state, why = _state(item)
        if not (isinstance(sha, str) and FULL_SHA.match(sha)):
            sha = None
            if state == "ok":
                state, why = "vanished", "the listing names no commit"
        yield Listed(repo_type, item["id"], sha, modified if isinstance(modified, str) else None, state, why)


def head(http: HubHttp, repo_type: str, repo_id: str) -> Listed:
    """The head commit of one repository, or the state that keeps it from being scanned."""
    try:
        info = revision_info(http, repo_type, repo_id, None, security=False)
    except HubError as exc:
        state = {"not-found": "vanished", "gated": "gated", "unauthorized": "private"}.get(exc.kind)
        if state is None:
            raise
        return Listed(repo_type, repo_id, None, None, state, exc.message)
    return Listed(repo_type, repo_id, info.commit_sha, None, "ok", None)
