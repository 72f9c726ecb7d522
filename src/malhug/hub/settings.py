"""Where the Hub is, who we are, and whether we may use the network — read at call time.

huggingface_hub reads ``HF_ENDPOINT``/``HF_HUB_OFFLINE``/``HF_HOME`` once, at import; an editor process
lives for hours and its environment may be set after import, so MalHug resolves them itself, every
time a client is made, with the same precedence as huggingface_hub.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ENDPOINT = "https://huggingface.co"
_TRUE = {"1", "on", "yes", "true"}


def _env_true(*names: str) -> bool:
    return any(os.environ.get(n, "").strip().lower() in _TRUE for n in names)


def hf_home() -> Path:
    if value := os.environ.get("HF_HOME"):
        return Path(os.path.expanduser(os.path.expandvars(value)))
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "huggingface"


def hub_cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The Hugging Face hub cache: ``explicit`` > ``HF_HUB_CACHE`` > ``HUGGINGFACE_HUB_CACHE`` > ``HF_HOME/hub``."""
    if explicit:
        return Path(explicit)
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if value := os.environ.get(name):
            return Path(os.path.expanduser(os.path.expandvars(value)))
    return hf_home() / "hub"


def find_token() -> str | None:
    """``HF_TOKEN`` (or the legacy ``HUGGING_FACE_HUB_TOKEN``), else the token stored by ``hf auth login``."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        if value := os.environ.get(name, "").strip():
            return value
    path = Path(os.environ["HF_TOKEN_PATH"]) if os.environ.get("HF_TOKEN_PATH") else hf_home() / "token"
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return value or None


def redact(text: str, token: str | None) -> str:
    """``text`` with ``token`` blanked out (for messages that might echo a header or URL)."""
    return text.replace(token, "hf_***") if token else text


@dataclass(frozen=True)
class HubSettings:
    endpoint: str
    token: str | None
    offline: bool
    cache_dir: Path

    @staticmethod
    def resolve(
        *,
        endpoint: str | None = None,
        token: str | None = None,
        offline: bool | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> HubSettings:
        """Explicit arguments first, then the environment as it is now."""
        ep = endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
        off = offline if offline is not None else _env_true("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
        return HubSettings(
            endpoint=ep.rstrip("/"), token=token or find_token(), offline=off, cache_dir=hub_cache_dir(cache_dir)
        )

    def __repr__(self) -> str:  # never show the token
        return f"HubSettings(endpoint={self.endpoint!r}, token={'set' if self.token else None}, offline={self.offline}, cache_dir={str(self.cache_dir)!r})"
