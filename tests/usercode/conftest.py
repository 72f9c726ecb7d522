"""The user-code CLI tests follow references against the fake Hub with the hub tests' isolation."""

from __future__ import annotations

from tests.hub.conftest import hub, hub_env  # noqa: F401  (fixtures: the fake Hub, a private HF home and cache)
