"""Discovery: what changed on the Hub since the last run, recorded in the store as queued work.

The listing comes newest change first; it is read down to the stored watermark minus a safety margin
(listings are eventually consistent), and every entry whose sha differs from the stored one is queued.
A first run (backfill) has no watermark and reads everything: the same code. The watermark moves only
when a listing was read to its end, so a run that dies mid-listing lists again from the top.
Repositories named in a file (``--repos``) or by a webhook are resolved one by one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from malhug.hub.http import HubError, HubHttp
from malhug.hub.listing import Listed, head, list_repos
from malhug.monitor.store import Store

log = logging.getLogger(__name__)

SAFETY_MARGIN = timedelta(hours=1)


@dataclass
class Discovered:
    listed: int = 0
    queued: int = 0
    unreadable: dict[str, int] = field(default_factory=dict)  # state -> repositories
    errors: list[tuple[str, str]] = field(default_factory=list)  # (what, message): not resolved this time


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def watermark_name(repo_type: str, author: str | None) -> str:
    return f"{repo_type}:{author or '*'}"


def _note(store: Store, found: Discovered, item: Listed) -> None:
    found.listed += 1
    if item.state != "ok":
        found.unreadable[item.state] = found.unreadable.get(item.state, 0) + 1
    if store.note_listed(item.repo_type, item.repo_id, item.sha, item.last_modified, item.state, item.why):
        found.queued += 1


def discover_listing(
    http: HubHttp,
    store: Store,
    repo_type: str,
    author: str | None = None,
    on_item: Callable[[Discovered], None] | None = None,
) -> Discovered:
    """Read the ``repo_type`` listing (of ``author``) down to the watermark; queue what changed."""
    name = watermark_name(repo_type, author)
    mark = _parse(store.watermark(name))
    stop = mark - SAFETY_MARGIN if mark is not None else None
    found = Discovered()
    newest: str | None = None
    for item in list_repos(http, repo_type, author=author):
        when = _parse(item.last_modified)
        if stop is not None and when is not None and when < stop:
            break
        if newest is None and item.last_modified:
            newest = item.last_modified
        _note(store, found, item)
        if on_item is not None:
            on_item(found)
    if newest is not None and (mark is None or (_parse(newest) or mark) > mark):
        store.set_watermark(name, newest)
    log.info("%s listing: %d listed, %d queued", name, found.listed, found.queued)
    return found


def discover_named(
    http: HubHttp, store: Store, names: Iterable[tuple[str, str]], on_item: Callable[[Discovered], None] | None = None
) -> Discovered:
    """Resolve each ``(repo_type, repo_id)`` to its head commit and queue it when new."""
    found = Discovered()
    for repo_type, repo_id in names:
        try:
            item = head(http, repo_type, repo_id)
        except HubError as exc:  # a passing trouble: the repository is asked again next run
            found.errors.append((f"{repo_type} {repo_id}", exc.message))
            continue
        _note(store, found, item)
        if on_item is not None:
            on_item(found)
    return found


def read_repo_list(text: str) -> list[tuple[str, str]]:
    """``--repos FILE``: one repository a line, ``org/name`` (a model) or ``datasets/org/name``
    (also ``dataset:org/name``); blank lines and ``#`` comments ignored."""
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        for prefix, kind in (
            ("datasets/", "dataset"),
            ("dataset:", "dataset"),
            ("models/", "model"),
            ("model:", "model"),
        ):
            if line.startswith(prefix):
                out.append((kind, line.removeprefix(prefix)))
                break
        else:
            out.append(("model", line))
    return out
