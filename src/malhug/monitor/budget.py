"""One rate budget shared by every worker of a monitor (and every monitor on the same store).

Each bucket (``api``: listings, trees, revision info; ``file``: resolve calls) has a quota per window:
``--api-budget`` (a fraction) of what the Hub's ``ratelimit-policy`` allows (until the Hub has said,
of a free account's 1,000 API / 5,000 file calls per 5 minutes). A request takes one unit in a store
transaction, so workers in other processes or machines share the count; when the window's share is
spent, or the Hub said ``ratelimit: r=0`` or answered 429 with ``Retry-After``, requests wait.
CDN requests (LFS bytes redirected off the Hub) are not counted by the Hub and not here.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from malhug.hub.budget import API, CDN, FILE, Policy, parse_policy, parse_standing, retry_after
from malhug.monitor.store import Store

log = logging.getLogger(__name__)

# What huggingface.co allows a free account, assumed there until the Hub says otherwise. Other
# endpoints (mirrors, private hubs) are not limited until they announce a policy or answer 429.
DEFAULT_POLICIES = {API: Policy(1000, 300.0), FILE: Policy(5000, 300.0)}
UNLIMITED = -1
MAX_NAP_S = 5.0


@dataclass(frozen=True)
class BucketState:
    bucket: str
    quota: int
    used: int
    window_s: float
    resets_in: float
    blocked_for: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "quota": self.quota,
            "used": self.used,
            "left": None if self.quota == UNLIMITED else max(0, self.quota - self.used),
            "window_s": self.window_s,
            "resets_in_s": round(self.resets_in, 1),
            "blocked_for_s": round(self.blocked_for, 1),
        }


class SharedBudget:
    """A ``malhug.hub.budget.Meter`` over the store's ``budget`` table."""

    def __init__(
        self,
        store: Store,
        fraction: float = 0.5,
        *,
        assume_hub_limits: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not 0 < fraction <= 1:
            raise ValueError(f"the API budget is a fraction in (0, 1], not {fraction}")
        self.store = store
        self.fraction = fraction
        self.assume_hub_limits = assume_hub_limits
        self.clock = clock
        self.sleep = sleep
        self.waited_s = 0.0

    def _share(self, quota: int) -> int:
        return max(1, math.floor(quota * self.fraction))

    def _row(self, cur: Any, bucket: str, now: float) -> tuple[float, float, int, int, float]:
        row = cur.execute(
            "SELECT window_start, window_s, quota, used, blocked_until FROM budget WHERE bucket = ?", (bucket,)
        ).fetchone()
        if row is None:
            policy = DEFAULT_POLICIES[bucket]
            quota = self._share(policy.quota) if self.assume_hub_limits else UNLIMITED
            row = (now, policy.window_s, quota, 0, 0.0)
            cur.execute(
                "INSERT INTO budget (bucket, window_start, window_s, quota, used, blocked_until) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (bucket) DO NOTHING",
                (bucket, *row),
            )
        start, window, quota, used, blocked = row
        if now >= start + window:  # a new window
            start, used = now, 0
        return float(start), float(window), int(quota), int(used), float(blocked)

    def before(self, bucket: str) -> None:
        if bucket == CDN:
            return
        while True:
            now = self.clock()
            with self.store.db.tx() as cur:
                start, window, quota, used, blocked = self._row(cur, bucket, now)
                if blocked <= now and (quota == UNLIMITED or used < quota):
                    cur.execute(
                        "UPDATE budget SET window_start = ?, used = ? WHERE bucket = ?", (start, used + 1, bucket)
                    )
                    return
                cur.execute("UPDATE budget SET window_start = ?, used = ? WHERE bucket = ?", (start, used, bucket))
            wait = blocked - now if blocked > now else start + window - now
            log.info("%s budget: waiting %.1fs (%d/%d used this window)", bucket, wait, used, quota)
            nap = min(max(wait, 0.01), MAX_NAP_S)
            self.waited_s += nap
            self.sleep(nap)

    def after(self, bucket: str, status: int, headers: Mapping[str, str]) -> None:
        if bucket == CDN:
            return
        policy, standing = parse_policy(headers), parse_standing(headers)
        pause = retry_after(headers) if status == 429 else None
        if status == 429 and pause is None:
            pause = standing.reset_s if standing is not None else 60.0
        if policy is None and standing is None and pause is None:
            return
        now = self.clock()
        with self.store.db.tx() as cur:
            start, window, quota, used, blocked = self._row(cur, bucket, now)
            if policy is not None:
                quota, window = self._share(policy.quota), policy.window_s
            if standing is not None:
                start = now + standing.reset_s - window  # the Hub's window, not ours
                if standing.remaining == 0:
                    blocked = max(blocked, now + standing.reset_s)
            if pause is not None:
                blocked = max(blocked, now + pause)
            cur.execute(
                "UPDATE budget SET window_start = ?, window_s = ?, quota = ?, used = ?, blocked_until = ? WHERE bucket = ?",
                (start, window, quota, used, blocked, bucket),
            )

    def state(self) -> list[BucketState]:
        now = self.clock()
        with self.store.db.tx() as cur:
            rows = cur.execute(
                "SELECT bucket, window_start, window_s, quota, used, blocked_until FROM budget ORDER BY bucket"
            ).fetchall()
        out = []
        for bucket, start, window, quota, used, blocked in rows:
            fresh = now >= start + window
            out.append(
                BucketState(
                    bucket,
                    int(quota),
                    0 if fresh else int(used),
                    float(window),
                    0.0 if fresh else start + window - now,
                    max(0.0, blocked - now),
                )
            )
        return out
