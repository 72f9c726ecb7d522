"""Which open Python files are code that *loading* runs, and so get the live script analysis.

Dataset loading scripts and ``trust_remote_code`` files run with the user's rights the moment a
model or dataset is loaded; the script analysis treats any command or network send in them as an
attack. The user's own training code legitimately runs ``nvidia-smi`` or posts metrics, so it is
not held to that standard: it gets the risky-load and hub-reference diagnostics only (the
``malhug.analyzeAllScripts`` setting widens the live analysis to every Python file).
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath

from malhug.analyzers.scripts.scope import looks_like_load_time_code

_AUTO_MAP_FILES = ("config.json", "tokenizer_config.json", "preprocessor_config.json", "processor_config.json")
_MAX_CONFIG_BYTES = 1 << 20


def _named_by_auto_map(path: PurePath) -> bool:
    """A sibling config's ``auto_map`` names this module (``"AutoModel": "modeling_x.Model"``)."""
    stem = path.stem
    for name in _AUTO_MAP_FILES:
        config = Path(path.parent, name)
        try:
            if not config.is_file() or config.stat().st_size > _MAX_CONFIG_BYTES:
                continue
            data = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        auto_map = data.get("auto_map") if isinstance(data, dict) else None
        if not isinstance(auto_map, dict):
            continue
        targets = [t for v in auto_map.values() for t in (v if isinstance(v, list) else [v]) if isinstance(t, str)]
        if any(t.split("--")[-1].split(".")[0] == stem for t in targets):
            return True
    return False


def runs_on_load(path: str | None, text: str) -> bool:
    """Whether ``text`` (at ``path``, when it has one on disk) is code that loading a model or dataset runs."""
    if looks_like_load_time_code(path, text):
        return True
    return path is not None and _named_by_auto_map(PurePath(path))
