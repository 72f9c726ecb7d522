"""Fixed-window rate limits with the Hub's headers (``hub.rate_limit(...)``).

The Hub counts API calls (``/api/...``, resource ``"api"``) and file "resolver" calls (``/resolve/``,
resource ``"resolvers"``) apart, in fixed windows (5 minutes on the Hub), per client (here: per
``Authorization`` header, anonymous clients together). Every counted answer carries, as the Hub sends
them and huggingface_hub 2.4's ``parse_ratelimit_headers`` reads them::

    RateLimit: "api";r=<remaining>;t=<seconds until the window resets>
    RateLimit-Policy: "fixed window";"api";q=<limit>;w=<window seconds>

A request over the limit gets 429 with those headers and ``Retry-After: <t>``. CDN requests are not
counted (they are not the Hub). ``clock`` is injectable so tests move time instead of sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str]


@dataclass
class RateLimiter:
    limits: dict[str, int]  # resource -> requests per window
    window: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (resource, client) -> (window#, n)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    refused: int = 0

    @staticmethod
    def resource_of(path: str) -> str | None:
        if path.startswith("/api/"):
            return "api"
        if "/resolve/" in path:
            return "resolvers"
        return None

    def check(self, path: str, client: str) -> Verdict | None:
        """Count one request; None when the path's resource is not limited."""
        resource = self.resource_of(path)
        if resource is None or resource not in self.limits:
            return None
        limit = self.limits[resource]
        now = self.clock()
        number = int(now // self.window)
        reset = max(1, math.ceil((number + 1) * self.window - now))
        with self._lock:
            seen_window, used = self._counts.get((resource, client), (number, 0))
            if seen_window != number:
                used = 0
            allowed = used < limit
            if allowed:
                used += 1
            else:
                self.refused += 1
            self._counts[(resource, client)] = (number, used)
        headers = {
            "RateLimit": f'"{resource}";r={max(0, limit - used)};t={reset}',
            "RateLimit-Policy": f'"fixed window";"{resource}";q={limit};w={int(self.window)}',
        }
        if not allowed:
            headers["Retry-After"] = str(reset)
        return Verdict(allowed, headers)
