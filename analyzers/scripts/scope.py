"""Whether a Python file is code that *loading* a model or dataset runs.

Dataset loading scripts and ``trust_remote_code`` modules run with the user's rights when a model or
dataset is loaded, so every command or network send in them counts as an attack. Other Python files
in a repository (training scripts, examples) only run when someone runs them on purpose: there, a
plain command inside a function that nothing calls on import is a note, not an alarm. The severe
categories (reverse shells, credential theft, exfiltration, download-and-execute, destruction,
obfuscation) stay severe wherever they are.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from malhug.analyzers.scripts.knowledge import DATASET_BUILDERS
from malhug.core.model import Category

# A `datasets` builder defined in the file: the signature of a loading script.
_BUILDER = re.compile(
    rf"^\s*class\s+\w+\s*\(\s*(?:[\w.]*\.)?(?:{'|'.join(DATASET_BUILDERS)})\b",
    re.MULTILINE,
)
# The module names transformers' remote code uses (auto_map targets).
_REMOTE_NAME = re.compile(
    r"^(?:modeling|configuration|tokenization|processing|image_processing|feature_extraction|modular|pipeline)_\w*\.py$"
)
# Where huggingface_hub and transformers keep downloaded repositories and their code.
_HF_PLACES = ("/huggingface/modules/", "/huggingface/hub/", "/snapshots/")

# What a function's finding may be lowered from, outside load-time code, when nothing calls the
# function on import.
LOWERED_OUTSIDE_LOAD: frozenset[Category] = frozenset(
    {Category.COMMAND_EXEC, Category.RECON, Category.FILE_WRITE, Category.CODE_EXEC, Category.UNSAFE_IMPORT}
)


def looks_like_load_time_code(path: str | None, text: str) -> bool:
    """From the text and path alone (no disk reads): a builder, a remote-code module name, an HF cache path."""
    if _BUILDER.search(text):
        return True
    if not path or path.startswith("<"):
        return False
    p = PurePath(path.replace("\\", "/"))
    return bool(_REMOTE_NAME.match(p.name)) or any(place in p.as_posix() for place in _HF_PLACES)
