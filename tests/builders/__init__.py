"""Reusable fixture builders: raw-opcode pickles, poisoned PyTorch checkpoints, Keras Lambda files,
benign files from the real libraries, evasions, large sparse checkpoints. Import as ``tests.builders.…``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path


def write_all(builders: Mapping[str, Callable[[Path], bytes]], root: Path, scratch: Path) -> list[Path]:
    """Write ``name -> builder(scratch)`` into ``root``; returns the paths in name order."""
    paths = []
    for name in sorted(builders):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(builders[name](scratch))
        paths.append(path)
    return paths
