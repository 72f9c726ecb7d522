"""The ``malhug`` settings section: typed, validated, with defaults on bad values.

Sources, later wins: defaults, the environment (``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HUB_OFFLINE``, as
huggingface_hub reads them; the caches ``HF_HOME``/``MALHUG_CACHE_DIR`` are resolved by the hub layer), ``initializationOptions``, then
``workspace/configuration``. A bad value keeps the default and yields a problem message for
``window/showMessage``; nothing here raises on user input.

``OPTIONS`` states each setting once for the server (type, values, range); VS Code reads the same from
``client-vscode/package.json``, the source of the client's copy (``make lists``), and ``tests/lists``
fails when the two disagree.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from malhug.analyzers.api import DEFAULT_LIMITS
from malhug.core.model import Severity

# HF_HUB_OFFLINE values that mean offline, as huggingface_hub reads them (the VS Code client reads the same).
ENV_TRUE = ("1", "true", "yes", "on")
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


def _int_range(low: int, high: int) -> Callable[[Any], int]:
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


@dataclass(frozen=True, slots=True)
class Option:
    """One setting under ``malhug``: the ``Settings`` field it sets, its parser, and what the VS Code
    manifest states about it (``tests/lists`` checks ``client-vscode/package.json`` against this table)."""

    attr: str
    type: str  # the JSON type, as package.json names it: string | boolean | integer | array
    parse: Callable[[Any], Any]
    choices: tuple[str, ...] = ()  # package.json's "enum"
    minimum: int | None = None
    maximum: int | None = None
    contributed: bool = True  # False: a tuning knob for tests and other LSP clients, not in the VS Code UI


def _integer(attr: str, low: int, high: int, contributed: bool = True) -> Option:
    return Option(attr, "integer", _int_range(low, high), minimum=low, maximum=high, contributed=contributed)


# camelCase setting name -> its option. A parser returns the value or raises ValueError.
OPTIONS: dict[str, Option] = {
    "hubEndpoint": Option("hub_endpoint", "string", _str_or_none),
    "offline": Option("offline", "boolean", _bool),
    "severityThreshold": Option("severity_threshold", "string", _severity, tuple(s.value for s in Severity)),
    "trustedRepos": Option("trusted_repos", "array", _globs),
    "maxDownload": _integer("max_download", 0, 1 << 40),
    "historyDepth": _integer("history_depth", 1, 1000),
    "logLevel": Option("log_level", "string", _log_level, tuple(LOG_LEVELS)),
    "debounceMs": _integer("debounce_ms", 0, 10_000, contributed=False),
    "workspaceMaxFiles": _integer("workspace_max_files", 0, 100_000, contributed=False),
    "analyzeAllScripts": Option("analyze_all_scripts", "boolean", _bool),
    "maxDocumentBytes": _integer("max_document_bytes", 1024, MAX_DOCUMENT_BYTES),
}


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, list | dict) or len(value) <= _SHOWN else f"<{type(value).__name__}>"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def from_environment(env: Mapping[str, str]) -> Settings:
    token = env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN") or None
    return Settings(
        hub_endpoint=(env.get("HF_ENDPOINT") or "").rstrip("/") or None,
        offline=env.get("HF_HUB_OFFLINE", "").strip().lower() in ENV_TRUE,
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
        option = OPTIONS.get(key)
        if option is None:
            continue  # unknown keys belong to newer clients; ignore quietly
        name = option.attr
        if value is None:
            continue
        try:
            changes[name] = option.parse(value)
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
