"""Webhooks: the fake Hub POSTs the Hub's payload (version 3) when a repository gets a commit.

``hub.webhook(url, secret)`` registers a receiver; every commit made through ``hub.repo(...).commit``
or the generated hub's ``hub.commit_share`` / ``hub.commit_generated`` is delivered at once, in the
committing thread, with ``X-Webhook-Secret: <secret>`` and ``Content-Type: application/json``. The body
follows the Hub's documented payload (what huggingface_hub's ``WebhookPayload`` models)::

    {"event": {"action": "update", "scope": "repo.content"},
     "repo": {"type": "model", "name": "org/name", "id": "...", "private": false, "headSha": "<new sha>",
              "owner": {"id": "..."}, "url": {"web": ".../org/name", "api": ".../api/models/org/name"}},
     "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "<old>", "newSha": "<new>"}],
     "webhook": {"id": "...", "version": 3}}

Each delivery is recorded (``hub.webhook_deliveries()``) with the receiver's status (0 when it could
not be reached): a receiver that is down does not fail the commit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hook:
    url: str
    secret: str
    hook_id: str


@dataclass(frozen=True)
class Delivery:
    url: str
    repo_type: str
    repo_id: str
    new_sha: str
    status: int  # the receiver's HTTP status, 0 when unreachable


def payload(
    hook: Hook, hub_url: str, repo_type: str, repo_id: str, old: str | None, new: str, private: bool
) -> dict[str, Any]:
    prefix = "" if repo_type == "model" else f"{repo_type}s/"
    owner = repo_id.split("/")[0]
    return {
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {
            "type": repo_type,
            "name": repo_id,
            "id": hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()[:24],
            "private": private,
            "headSha": new,
            "owner": {"id": hashlib.sha1(owner.encode()).hexdigest()[:24]},
            "url": {"web": f"{hub_url}/{prefix}{repo_id}", "api": f"{hub_url}/api/{repo_type}s/{repo_id}"},
        },
        "updatedRefs": [{"ref": "refs/heads/main", "oldSha": old, "newSha": new}],
        "webhook": {"id": hook.hook_id, "version": 3},
    }


def deliver(hook: Hook, body: dict[str, Any], timeout: float = 5.0) -> int:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        hook.url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "X-Webhook-Secret": hook.secret},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # receivers are on 127.0.0.1
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError) as exc:
        log.info("webhook %s unreachable: %s", hook.url, exc)
        return 0
