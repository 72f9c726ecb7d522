"""Rate budgets for Hub requests: which bucket a request counts against and what the Hub says about it.

The Hub counts API calls (listings, trees, revision info) and file "resolver" calls apart, in fixed
windows, and says where a client stands in two headers (IETF RateLimit draft)::

    ratelimit-policy: "fixed window";"api";q=500;w=300
    ratelimit: "api";r=0;t=55

``HubHttp`` asks a ``Meter`` before every request (it may wait, or raise ``HubError``) and tells it every
answer (status and headers). The monitor's meter shares one budget between all its workers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

API, FILE, CDN = "api", "file", "cdn"
_PARAM = re.compile(r';\s*([a-z]+)\s*=\s*"?([0-9.]+)"?')


class Meter(Protocol):
    def before(self, bucket: str) -> None:
        """Block until a request of ``bucket`` may go (or raise ``HubError``)."""

    def after(self, bucket: str, status: int, headers: Mapping[str, str]) -> None:
        """What the Hub answered to that request."""


def call_bucket(endpoint: str, url: str) -> str:
    """``file`` for the endpoint's ``/resolve/`` URLs, ``api`` for its other URLs, ``cdn`` for other hosts
    (the CDN that LFS files are redirected to: not counted by the Hub's limits)."""
    e, u = urlsplit(endpoint), urlsplit(url)
    if (e.scheme, e.netloc) != (u.scheme, u.netloc):
        return CDN
    return FILE if "/resolve/" in u.path else API


@dataclass(frozen=True)
class Policy:
    quota: int  # requests per window
    window_s: float


@dataclass(frozen=True)
class Standing:
    remaining: int
    reset_s: float  # seconds until the window resets


def _params(value: str) -> dict[str, float]:
    return {k: float(v) for k, v in _PARAM.findall(value)}


def parse_policy(headers: Mapping[str, str]) -> Policy | None:
    """``ratelimit-policy``'s quota and window, None when absent or unreadable."""
    value = headers.get("ratelimit-policy")
    if not value:
        return None
    p = _params(value)
    if "q" not in p or "w" not in p or p["w"] <= 0:
        return None
    return Policy(int(p["q"]), p["w"])


def parse_standing(headers: Mapping[str, str]) -> Standing | None:
    """``ratelimit``'s remaining requests and reset time, None when absent or unreadable."""
    value = headers.get("ratelimit")
    if not value:
        return None
    p = _params(value)
    if "r" not in p or "t" not in p:
        return None
    return Standing(int(p["r"]), max(0.0, p["t"]))


def retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
