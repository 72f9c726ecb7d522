"""The workspace scan's walk: a folder it cannot list is logged as not checked, never skipped silently."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from malhug.server.workspace import find_model_files


def test_unlistable_folder_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Root reads through ``chmod 000``: the listing failure is made real by ``os.scandir`` raising."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.scandir

    def scandir(path: str | os.PathLike[str] = ".") -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with caplog.at_level(logging.WARNING, logger="malhug.server.workspace"):
        assert find_model_files([tmp_path], 100) == ([], False)
    assert f"cannot list {locked} (Permission denied): model files below it were not checked" in caplog.text
