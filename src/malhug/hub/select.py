"""Which files of a revision to scan, decided from names and sizes before any byte is read.

Loaders choose how to open a file by its name (``torch.load`` on ``pytorch_model.bin``, ``pyarrow``
on ``*.parquet``), so on the Hub names decide what could run: every weights/archive format that can
carry code or pickles, every Python file, and the JSON that says which code loading runs
(``auto_map`` in ``config.json``, chat templates in ``tokenizer_config.json``). The analyzers still
detect formats from bytes. Data files (parquet, arrow, csv, images, audio, text: ``DATA_SUFFIXES`` of
``core/filetypes.py``) run no code on load. Every other file is sniffed by its first bytes
(``hub/sniff.py``) and joins the plan when they show a format that can run code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from malhug.core import filetypes

log = logging.getLogger(__name__)

# Weights and archives (pickle family, zip/tar checkpoints, Keras/TF, header-only formats), and the names
# that are weights only in a model repository: the hub list of malhug.core.filetypes.
RISKY_SUFFIXES = filetypes.HUB_WEIGHT_SUFFIXES
CODE_SUFFIXES = (".py",)
CONFIG_NAMES = (
    "config.json", "tokenizer_config.json", "generation_config.json", "preprocessor_config.json",
    "processor_config.json", "feature_extractor_config.json", "image_processor_config.json",
    "adapter_config.json", "chat_template.json", "modules.json", "dataset_infos.json",
)  # fmt: skip
TEMPLATE_SUFFIXES = (".jinja", ".j2")
# Sharded checkpoint indexes (followed as side files, which may lie outside what the names above select).
INDEX_SUFFIXES = filetypes.INDEX_SUFFIXES
# Small files are fetched in one request and their content id verified; larger ones are read by ranges.
WHOLE_FILE_MAX = 512 * 1024


@dataclass(frozen=True)
class Planned:
    path: str
    kind: str  # weights | code | config | template | index | sniffed (hub/sniff.py: by its bytes)
    format_hint: str | None  # None: detect from bytes


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1].lower()


def classify(path: str) -> Planned | None:
    name = _name(path)
    if name.endswith(CODE_SUFFIXES):
        return Planned(path, "code", "python")
    if name in CONFIG_NAMES:
        return Planned(path, "config", "json")
    if name.endswith(TEMPLATE_SUFFIXES):
        return Planned(path, "template", "jinja")
    if name.endswith(INDEX_SUFFIXES):
        return Planned(path, "index", "json")
    if name.endswith(RISKY_SUFFIXES):
        return Planned(path, "weights", None)
    return None


def loaded_code(paths: Sequence[str], repo_type: str, configs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The repository's code that loading runs, with why: loading scripts, ``auto_map`` targets.

    Keys are repository paths, or ``org/repo:path`` for code ``auto_map`` pulls from another repository.
    ``configs`` maps a config file's path (``config.json``, ``tokenizer_config.json``) to its content.
    """
    from malhug.analyzers.api import remote_code_refs

    present = set(paths)
    out: dict[str, str] = {}
    if repo_type == "dataset":
        for p in sorted(present):
            if "/" not in p and p.endswith(".py"):
                out[p] = "the datasets library runs the loading script of a dataset repository"
    for name, config in sorted(configs.items()):
        for repo, file in remote_code_refs(config):
            if repo is None and file in present:
                out.setdefault(file, f"auto_map in {name} names it (trust_remote_code=True imports it)")
            elif repo is not None:
                out.setdefault(f"{repo}:{file}", f"auto_map in {name} loads it from another repository, {repo}")
    return out


def model_code(
    paths: Sequence[str], configs: dict[str, dict[str, Any]], read_text: Callable[[str], str | None]
) -> list[str]:
    """A model repository's code that ``trust_remote_code`` runs: the ``auto_map`` targets, the
    modules named as remote code (``modeling_*.py``, ``configuration_*.py``, …), and every local module
    they import, transitively. ``read_text`` is called for each, in that order (judged by path only:
    the scanner scans a file as load-time code when its text is asked for)."""
    from malhug.analyzers.api import load_time_code

    return load_time_code(paths, configs.values(), read_text, judge_text=False)


def dataset_code(paths: Sequence[str], read_text: Callable[[str], str | None]) -> list[str]:
    """A dataset repository's code that ``datasets`` runs: its loading scripts and what they import.

    ``read_text`` gives a file's text (and may scan it on the way); other ``.py`` files are data.
    """
    from malhug.analyzers.api import select_code_files

    return select_code_files(list(paths), "dataset", None, read_text)


CONFIG_DEPTH = 100  # real configs nest a few levels; Python's own parser overflows near 1,000


def parse_config(data: bytes) -> dict[str, Any] | None:
    """``config.json`` as a dict (plain JSON parsing; nothing is executed), None when it is not one.

    A config too deep to parse is refused (``ValueError``): loaders cannot read it either, and
    Python's parser would overflow its recursion limit.
    """
    from malhug.hub.bounded import HubError, parse_json

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        value = parse_json(text.encode(), max_items=len(data) + 1, max_depth=CONFIG_DEPTH, what="config")
    except HubError as exc:
        if exc.kind == "limit":
            raise ValueError(f"nests deeper than {CONFIG_DEPTH} levels") from exc
        return None
    return value if isinstance(value, dict) else None


def plan(paths: Iterable[str]) -> list[Planned]:
    return [p for p in (classify(path) for path in sorted(paths)) if p is not None]
