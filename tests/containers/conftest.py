"""Fixtures of the containers tests: small real checkpoints built by torch itself."""

from __future__ import annotations

import pytest

from tests.builders.torchfiles import small_state_dict, torch_save_bytes


@pytest.fixture(scope="session")
def torch_zip() -> bytes:
    """A real ``torch.save`` of a small state dict (zip format, folder ``archive``)."""
    return torch_save_bytes(small_state_dict())
