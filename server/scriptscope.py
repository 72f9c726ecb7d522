"""Which open Python files are code that *loading* runs, and so get the live script analysis.

Dataset loading scripts and ``trust_remote_code`` files run with the user's rights the moment a
model or dataset is loaded; the script analysis treats any command or network send in them as an
attack. The user's own training code legitimately runs ``nvidia-smi`` or posts metrics, so it is
not held to that standard: it gets the risky-load and hub-reference diagnostics only (the
``malhug.analyzeAllScripts`` setting widens the live analysis to every Python file).

Besides what a file's own path and text say (scope.py), its folder is read as a repository the way
``malhug scan FOLDER`` reads it: ``auto_map`` targets, loading scripts, remote-code modules and the
local modules they import (repo.py). That answer is kept per folder until a ``.py`` or config file
in it changes (by size or modification time), so a pause in typing reads nothing again.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from malhug.analyzers.api import AUTO_MAP_CONFIGS, DEFAULT_LIMITS, local_load_time_code, looks_like_load_time_code

log = logging.getLogger("malhug.server.scope")
MAX_FOLDER_FILES = 500  # a folder with more Python files is not read as a repository, only its configs
MAX_FOLDERS = 64  # folders remembered


class LoadTimeScope:
    """Per-folder answers of ``runs_on_load``, kept for the server's document handling."""

    def __init__(self) -> None:
        self._folders: dict[Path, tuple[tuple[tuple[str, int, int], ...], frozenset[Path]]] = {}

    def runs_on_load(self, path: str | None, text: str) -> bool:
        """Whether ``text`` (at ``path``, when it has one on disk) is code that loading a model or dataset runs.

        Fails closed: when the folder cannot be read, or reading it fails, the file is analyzed.
        """
        try:
            return self._runs_on_load(path, text)
        except Exception as exc:  # a bug here must not silently exempt the file from the analysis
            log.error(
                "cannot tell whether %s runs on load (%s: %s); analyzing it",
                path,
                type(exc).__name__,
                exc,
                exc_info=True,
            )
            return True

    def _runs_on_load(self, path: str | None, text: str) -> bool:
        if looks_like_load_time_code(path, text):
            return True
        if path is None:
            return False
        file = Path(path)
        if not file.is_file():  # a buffer not saved yet: its name may still be an auto_map target
            return file in local_load_time_code(file.parent, [file], DEFAULT_LIMITS.max_source_bytes)
        return self._loaded(file.parent, file)

    def _loaded(self, folder: Path, file: Path) -> bool:
        try:
            entries = [
                e for e in os.scandir(folder) if e.is_file() and (e.name.endswith(".py") or e.name in AUTO_MAP_CONFIGS)
            ]
            stamp = tuple(sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in entries))
        except OSError as exc:
            log.info("cannot read the folder of %s (%s); analyzing it as code that loading runs", file.name, exc)
            return True
        known = self._folders.get(folder)
        if known is not None and known[0] == stamp:
            return file in known[1]
        files = [folder / e.name for e in entries if e.name.endswith(".py")]
        if len(files) > MAX_FOLDER_FILES:  # too many to read as a repository: still judged against its configs
            return file in local_load_time_code(folder, [file], DEFAULT_LIMITS.max_source_bytes)
        loaded = (
            frozenset(local_load_time_code(folder, files, DEFAULT_LIMITS.max_source_bytes)) if files else frozenset()
        )
        if len(self._folders) >= MAX_FOLDERS:
            self._folders.pop(next(iter(self._folders)))
        self._folders[folder] = (stamp, loaded)
        return file in loaded
