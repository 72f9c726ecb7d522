"""The ``malhug`` settings section: typed, validated, with defaults on bad values.

Sources, later wins: defaults, the environment (``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HUB_OFFLINE``, as
huggingface_hub reads them; the caches ``HF_HOME``/``MALHUG_CACHE_DIR`` are resolved by the hub layer), ``initializationOptions``, then
``workspace/configuration``. A bad value keeps the default and yields a problem message for
``window/showMessage``; nothing here raises on user input.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from malhug.analyzers.api import DEFAULT_LIMITS
from malhug.core.model import Severity

_TRUE = {"1", "true", "yes", "on"}
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024  # the ceiling of maxDocumentBytes (a frame holds it JSON-escaped)
_MAX_STRING = 2048  # an endpoint URL or one repo glob
_MAX_GLOBS = 10_000
_SHOWN = 80  # characters of a bad value quoted back in a problem message
LOG_LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG}


@dataclass(frozen=True)
class Settings:
    hub_endpoint: str | None = None
    offline: bool = False
    severity_threshold: Severity = Severity.INFO
    trusted_repos: tuple[str, ...] = ()
    max_download: int = 512 * 1024 * 1024
    history_depth: int = 20
    log_level: str = "info"
    debounce_ms: int = 300
    workspace_max_files: int = 2000
    # Run the loading-script analysis on every open Python file, not only on code that loading runs.
    analyze_all_scripts: bool = False
    # A larger open document is neither kept nor analyzed: it gets one MH902 diagnostic.
    max_document_bytes: int = DEFAULT_LIMITS.max_source_bytes
    token: str | None = field(default=None, repr=False)  # never logged, never shown

    def is_trusted(self, repo_id: str) -> bool:
        return any(fnmatch.fnmatchcase(repo_id, glob) for glob in self.trusted_repos)

    def hub_key(self) -> tuple[Any, ...]:
        """What the hub client is built from; a change means a new client."""
        return (self.hub_endpoint, self.offline, self.max_download, self.history_depth, self.token)


# camelCase setting name -> (field name, parser). A parser returns the value or raises ValueError.
def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")) or len(value) > _MAX_STRING:
        raise ValueError("expected an http(s) URL")
    return value.rstrip("/")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("expected true or false")


def _severity(value: Any) -> Severity:
    if not isinstance(value, str):
        raise ValueError(f"expected one of {', '.join(s.value for s in Severity)}")
    try:
        return Severity(value.lower())
    except ValueError:
        raise ValueError(f"expected one of {', '.join(s.value for s in Severity)}") from None


def _globs(value: Any) -> tuple[str, ...]:
    if (
        isinstance(value, list)
        and len(value) <= _MAX_GLOBS
        and all(isinstance(v, str) and 0 < len(v) <= _MAX_STRING for v in value)
    ):
        return tuple(value)
    raise ValueError("expected a list of repo/org globs such as 'my-org/*'")


def _int_range(low: int, high: int) -> Any:
    def parse(value: Any) -> int:
        # A float may be infinite or NaN (1e400 is valid JSON): int() of it raises OverflowError/ValueError.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("expected an integer")
        if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
            raise ValueError("expected a finite integer")
        if not low <= value <= high:
            raise ValueError(f"expected an integer from {low} to {high}")
        return int(value)

    return parse


def _log_level(value: Any) -> str:
    if isinstance(value, str) and value.lower() in LOG_LEVELS:
        return value.lower()
    raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")


_FIELDS: dict[str, tuple[str, Any]] = {
    "hubEndpoint": ("hub_endpoint", _str_or_none),
    "offline": ("offline", _bool),
    "severityThreshold": ("severity_threshold", _severity),
    "trustedRepos": ("trusted_repos", _globs),
    "maxDownload": ("max_download", _int_range(0, 1 << 40)),
    "historyDepth": ("history_depth", _int_range(1, 1000)),
    "logLevel": ("log_level", _log_level),
    "debounceMs": ("debounce_ms", _int_range(0, 10_000)),
    "workspaceMaxFiles": ("workspace_max_files", _int_range(0, 100_000)),
    "analyzeAllScripts": ("analyze_all_scripts", _bool),
    "maxDocumentBytes": ("max_document_bytes", _int_range(1024, MAX_DOCUMENT_BYTES)),
}


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, list | dict) or len(value) <= _SHOWN else f"<{type(value).__name__}>"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def from_environment(env: Mapping[str, str]) -> Settings:
    token = env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN") or None
    return Settings(
        hub_endpoint=(env.get("HF_ENDPOINT") or "").rstrip("/") or None,
        offline=env.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE,
        token=token,
    )


def merge(base: Settings, raw: Any) -> tuple[Settings, list[str]]:
    """``base`` updated with the user's ``malhug`` section; returns the problems found."""
    if raw is None:
        return base, []
    if isinstance(raw, Mapping) and isinstance(raw.get("malhug"), Mapping):
        raw = raw["malhug"]
    if not isinstance(raw, Mapping):
        return base, [f"malhug settings: expected an object, got {type(raw).__name__}; using defaults"]
    changes: dict[str, Any] = {}
    problems = []
    for key, value in raw.items():
        if key not in _FIELDS:
            continue  # unknown keys belong to newer clients; ignore quietly
        name, parse = _FIELDS[key]
        if value is None:
            continue
        try:
            changes[name] = parse(value)
        except (ValueError, TypeError, OverflowError) as exc:
            default = getattr(base, name)
            shown = default.value if isinstance(default, Severity) else default
            problems.append(f"malhug.{key}: {exc} (got {_shown(value)}); using {shown!r}")
    return replace(base, **changes), problems


def default_settings() -> Settings:
    return from_environment(os.environ)


def describe(settings: Settings) -> str:
    """The settings for a log line, token redacted."""
    parts = []
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name == "token":
            value = "<set>" if value else None
        elif isinstance(value, Severity):
            value = value.value
        parts.append(f"{f.name}={value!r}")
    return ", ".join(parts)
