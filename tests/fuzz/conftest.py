"""Hypothesis profiles for the fuzz targets (and only for them).

- ``ci`` (default): derandomized and bounded, so that every target together runs in well under a
  minute inside the ordinary ``pytest`` run (``make test``); a failure is reproducible and printed
  with its input.
- ``fuzz``: the long run of ``make fuzz`` (``mk/fuzz.mk``, ``tests/fuzz/campaign.py``): random,
  ``MALHUG_FUZZ_EXAMPLES`` examples (default 100,000), failing examples kept in ``build/fuzz-db``.

Select with ``MALHUG_FUZZ_PROFILE=fuzz`` or ``pytest tests/fuzz --hypothesis-profile=fuzz``. The
profile is applied to the tests of this folder only (other areas' property tests keep their own
settings), unless a target sets its own ``@settings``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from tests.fuzz.harness import assert_nothing_ran, sentinel_dir, write_stats

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
# Hypothesis keeps its files (constants cache, patches) under build/, not in the checkout's root.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(ROOT / "build" / "hypothesis"))
_SLOW_INPUTS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("MALHUG_FUZZ_CI_EXAMPLES", "25")),
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=10),
    suppress_health_check=_SLOW_INPUTS,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    print_blob=True,
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("MALHUG_FUZZ_EXAMPLES", "100000")),
    derandomize=False,
    database=DirectoryBasedExampleDatabase(str(ROOT / "build" / "fuzz-db")),
    deadline=timedelta(seconds=5),
    suppress_health_check=_SLOW_INPUTS,
    print_blob=True,
)


def _profile_name(config: pytest.Config) -> str:
    return str(config.getoption("--hypothesis-profile", None) or os.environ.get("MALHUG_FUZZ_PROFILE") or "ci")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    profile = settings.get_profile(_profile_name(config))
    for item in items:
        test = getattr(item, "obj", None)
        if not (Path(str(item.path)).is_relative_to(HERE) and getattr(test, "is_hypothesis_test", False)):
            continue
        if not hasattr(test, "_hypothesis_internal_settings_applied"):
            test._hypothesis_internal_use_settings = profile  # type: ignore[union-attr]


def pytest_sessionfinish(session: pytest.Session) -> None:
    write_stats()
    if sentinel_dir.cache_info().currsize:  # the sentinel folder was made: it must still be empty
        assert_nothing_ran()
        sentinel_dir().rmdir()
