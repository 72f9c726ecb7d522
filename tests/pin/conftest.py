"""The pin tests use the hub tests' fixtures: their own fake Hub, HF cache, verdict cache and environment."""

from tests.hub.conftest import hf_cache, hub, hub_env, make_client  # noqa: F401
