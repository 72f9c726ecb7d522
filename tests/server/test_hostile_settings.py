"""Hostile values in the ``malhug`` settings: each keeps its default and names the setting; none raises."""

from __future__ import annotations

import math
from typing import Any

import pytest

from malhug.core.model import Severity
from malhug.server.settings import MAX_DOCUMENT_BYTES, Settings, merge

BASE = Settings()


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("debounceMs", math.inf, "debounce_ms"),
        ("debounceMs", -math.inf, "debounce_ms"),
        ("debounceMs", math.nan, "debounce_ms"),
        ("debounceMs", 10**400, "debounce_ms"),
        ("debounceMs", 2.5, "debounce_ms"),
        ("debounceMs", "300", "debounce_ms"),
        ("maxDownload", math.inf, "max_download"),
        ("historyDepth", [1], "history_depth"),
        ("workspaceMaxFiles", {"a": 1}, "workspace_max_files"),
        ("maxDocumentBytes", MAX_DOCUMENT_BYTES + 1, "max_document_bytes"),
        ("maxDocumentBytes", math.inf, "max_document_bytes"),
        ("severityThreshold", 1e400, "severity_threshold"),
        ("severityThreshold", ["high"], "severity_threshold"),
        ("logLevel", 5, "log_level"),
        ("hubEndpoint", "http://" + "a" * 5000, "hub_endpoint"),
        ("trustedRepos", ["org/*"] * 20_000, "trusted_repos"),
        ("trustedRepos", ["x" * 5000], "trusted_repos"),
        ("offline", "yes", "offline"),
    ],
)
def test_bad_value_keeps_default_and_names_the_setting(key: str, value: Any, field: str) -> None:
    settings, problems = merge(BASE, {"malhug": {key: value}})
    assert getattr(settings, field) == getattr(BASE, field)
    assert len(problems) == 1 and problems[0].startswith(f"malhug.{key}: ")
    assert len(problems[0]) < 400  # a huge value is not quoted back whole


def test_good_values_still_apply() -> None:
    settings, problems = merge(
        BASE,
        {"debounceMs": 50.0, "maxDocumentBytes": 4096, "severityThreshold": "HIGH", "maxDownload": 10**9},
    )
    assert problems == []
    assert (settings.debounce_ms, settings.max_document_bytes) == (50, 4096)
    assert settings.severity_threshold is Severity.HIGH and settings.max_download == 10**9


def test_non_object_section() -> None:
    settings, problems = merge(BASE, [1e400])
    assert settings == BASE and problems == ["malhug settings: expected an object, got list; using defaults"]
