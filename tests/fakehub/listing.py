"""``GET /api/models`` and ``GET /api/datasets``: the Hub's listing, as huggingface_hub 2.4 reads it.

``HfApi.list_models(author=, search=, sort="last_modified" | "created_at", limit=, expand=[...])`` sends
``author``, ``search``, ``sort=lastModified|createdAt``, ``limit`` and ``expand`` (repeated, also accepted
as ``expand[]``) and follows ``Link: <url>; rel="next"`` pages. Order is always newest first (the Hub
dropped ``direction``; ``direction=-1`` is accepted and ignored). The cursor is opaque: the sort key of
the last item of the page, so a listing that changes between pages neither repeats nor skips what was
already listed (a repo that gets a new commit moves to the front and is not seen again by that walk).

A backend provides :class:`Summary` values newest first (:meth:`Backend.summaries`); this module
filters, pages and shapes them. Private repos are listed only for a token that may read them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

SORT_KEYS = {"lastModified": "last_modified", "last_modified": "last_modified", "createdAt": "created_at",
             "created_at": "created_at"}  # fmt: skip
DEFAULT_FIELDS = ("author", "private", "createdAt", "likes", "downloads", "tags")
PAGE_SIZE = 1000


@dataclass(frozen=True)
class Summary:
    """What a listing knows about one repository (its head on ``main``)."""

    repo_type: str
    repo_id: str
    sha: str
    last_modified: str  # ISO 8601 with milliseconds and Z, as the Hub writes it
    created_at: str
    private: bool = False
    gated: str | bool = False
    disabled: bool = False
    tokens: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    siblings: tuple[str, ...] = ()

    @property
    def author(self) -> str | None:
        return self.repo_id.split("/")[0] if "/" in self.repo_id else None

    def sort_key(self, sort: str) -> tuple[str, str]:
        return (self.created_at if sort == "created_at" else self.last_modified, self.repo_id)

    def fields(self) -> dict[str, Any]:
        return {
            "author": self.author,
            "sha": self.sha,
            "lastModified": self.last_modified,
            "createdAt": self.created_at,
            "private": self.private,
            "gated": self.gated,
            "disabled": self.disabled,
            "downloads": 0,
            "downloadsAllTime": 0,
            "likes": 0,
            "tags": list(self.tags),
            "siblings": [{"rfilename": p} for p in self.siblings],
        }


class Backend(Protocol):
    def summaries(self, repo_type: str, sort: str) -> Iterator[Summary]:
        """Every repository of ``repo_type``, newest first by ``sort`` (``last_modified`` or ``created_at``),
        ties broken by id descending."""
        ...


def encode_cursor(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        a, b = json.loads(raw)
        return (str(a), str(b))
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def list_page(
    backend: Backend, repo_type: str, query: dict[str, list[str]], token: str | None, page_size: int = PAGE_SIZE
) -> Page:
    """One page of the listing for ``query`` (already parsed, values as lists)."""

    def one(name: str) -> str:
        return (query.get(name) or [""])[0]

    sort = SORT_KEYS.get(one("sort"), "last_modified")
    author = one("author")
    search = one("search").lower()
    expand = [*query.get("expand", []), *query.get("expand[]", [])]
    size = page_size
    if one("limit").isdigit() and int(one("limit")) > 0:
        size = min(size, int(one("limit")))
    after = decode_cursor(one("cursor")) if one("cursor") else None
    items: list[dict[str, Any]] = []
    last: Summary | None = None
    more = False
    for summary in backend.summaries(repo_type, sort):
        if after is not None and summary.sort_key(sort) >= after:
            continue
        if author and summary.author != author:
            continue
        if search and search not in summary.repo_id.lower():
            continue
        if summary.private and (token is None or token not in summary.tokens):
            continue
        if len(items) == size:
            more = True
            break
        items.append(shape(summary, expand))
        last = summary
    return Page(items, encode_cursor(last.sort_key(sort)) if more and last is not None else None)


def shape(summary: Summary, expand: list[str]) -> dict[str, Any]:
    """The JSON of one listed repo: ``_id`` and ``id`` plus the ``expand`` fields (or the default ones)."""
    data: dict[str, Any] = {"_id": summary.sha[:24], "id": summary.repo_id}
    fields = summary.fields()
    for name in expand or DEFAULT_FIELDS:
        if name in fields:
            data[name] = fields[name]
    if summary.repo_type == "model" and not expand:
        data["modelId"] = summary.repo_id
    return data
