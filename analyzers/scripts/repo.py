"""Which Python files of a Hub repository run when it is loaded (pure: paths and JSON in, paths out).

- Dataset repos: the loading script (``<name>.py`` at the root; any root ``.py`` counts, since the
  ``datasets`` library picks the one named after the repository) and the local modules it imports.
  Without file contents every ``.py`` of a dataset repository is returned (a helper module is only
  there to be imported); with ``read_text`` only the scripts and what they import, transitively.
- Model repos: the ``auto_map`` targets of ``config.json``/``tokenizer_config.json`` (``"AutoModel":
  "modeling_x.MyModel"`` -> ``modeling_x.py``; ``"org/repo--modeling_x.MyModel"`` points into another
  repository and is reported by ``remote_code_refs``), ``custom_pipelines`` implementations, then
  every other ``.py`` (``trust_remote_code`` imports whatever the target imports).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_IMPORT = re.compile(r"^\s*(?:from\s+(\.*)([\w.]*)\s+import\s+([\w, ()*]+)|import\s+([\w., ]+))", re.M)
MAX_FOLLOW = 200


def _is_python(path: str) -> bool:
    return path.endswith(".py") and not any(part.startswith(".") for part in path.split("/")[:-1])


def _class_refs(config: dict[str, Any] | None) -> list[str]:
    """Every ``module.Class`` string named by ``auto_map`` and ``custom_pipelines``."""
    if not isinstance(config, dict):
        return []
    refs: list[str] = []

    def add(value: object) -> None:
        if isinstance(value, str):
            refs.append(value)
        elif isinstance(value, list | tuple):
            for v in value:
                add(v)

    auto_map = config.get("auto_map")
    if isinstance(auto_map, dict):
        for value in auto_map.values():
            add(value)
    elif isinstance(auto_map, list):  # old tokenizer configs
        add(auto_map)
    pipelines = config.get("custom_pipelines")
    if isinstance(pipelines, dict):
        for spec in pipelines.values():
            if isinstance(spec, dict):
                add(spec.get("impl"))
    return refs


def _split_ref(ref: str) -> tuple[str | None, str] | None:
    """``"org/repo--pkg.module.Class"`` -> ("org/repo", "pkg/module.py"); no repo for local refs."""
    repo: str | None = None
    if "--" in ref:
        repo, ref = ref.split("--", 1)
    if "." not in ref:
        return None
    module = ref.rsplit(".", 1)[0]
    if not re.fullmatch(r"[\w.]+", module):
        return None
    return repo, module.replace(".", "/") + ".py"


def remote_code_refs(config_json: dict[str, Any] | None) -> list[tuple[str | None, str]]:
    """(repository or ``None`` for this one, file path) for every remote-code target."""
    out: list[tuple[str | None, str]] = []
    for ref in _class_refs(config_json):
        split = _split_ref(ref)
        if split is not None and split not in out:
            out.append(split)
    return out


def _imports_of(path: str, text: str, available: set[str]) -> Iterable[str]:
    folder = posixpath.dirname(path)
    for m in _IMPORT.finditer(text):
        dots, module, names, plain = m.groups()
        candidates: list[str] = []
        if plain is not None:
            for name in plain.split(","):
                mod = name.strip().split(" ")[0]
                if mod:
                    candidates.append(mod.replace(".", "/"))
        else:
            base = folder
            for _ in range(max(0, len(dots) - 1)):
                base = posixpath.dirname(base)
            mod_path = (module or "").replace(".", "/")
            root = posixpath.join(base, mod_path) if dots else mod_path
            candidates.append(root)
            for name in names.replace("(", "").replace(")", "").split(","):
                name = name.strip().split(" ")[0]
                if name and name != "*":
                    candidates.append(posixpath.join(root, name))
        for cand in candidates:
            cand = cand.strip("/")
            for option in (f"{cand}.py", f"{cand}/__init__.py", posixpath.join(folder, f"{cand}.py")):
                option = posixpath.normpath(option)
                if option in available:
                    yield option


def follow_imports(roots: list[str], available: set[str], read_text: Callable[[str], str | None]) -> list[str]:
    """``roots`` and the local modules they import, transitively, in the order they are found.

    ``read_text`` is called once for each of them, in that order (a caller may scan each file when
    asked for its text); at most ``MAX_FOLLOW`` files are read."""
    found = [r for r in dict.fromkeys(roots) if r in available]
    queue = list(found)
    seen = 0
    while queue and seen < MAX_FOLLOW:
        path = queue.pop(0)
        seen += 1
        text = read_text(path)
        if not text:
            continue
        for dep in _imports_of(path, text, available):
            if dep not in found:
                found.append(dep)
                queue.append(dep)
    return found


def select_code_files(
    paths: list[str],
    repo_type: str,
    config_json: dict[str, Any] | None,
    read_text: Callable[[str], str | None] | None = None,
) -> list[str]:
    """The repository's Python files that loading runs, most important first, without duplicates."""
    python = sorted({p.lstrip("/") for p in paths if _is_python(p.lstrip("/"))})
    available = set(python)
    chosen: list[str] = []

    def add(path: str) -> None:
        if path in available and path not in chosen:
            chosen.append(path)

    if repo_type == "dataset":
        for p in python:
            if "/" not in p:
                add(p)
        if read_text is None:
            for p in python:
                add(p)
            return chosen
        for dep in follow_imports(list(chosen), available, read_text):
            add(dep)
        return chosen
    for repo, file in remote_code_refs(config_json):
        if repo is None:
            add(file)
    for p in python:
        add(p)
    return chosen


# The configs whose ``auto_map`` names code that loading runs (AutoModel/AutoConfig, AutoTokenizer,
# AutoImageProcessor/AutoFeatureExtractor, AutoProcessor): the hub, folder scans and the editor read these.
AUTO_MAP_CONFIGS = ("config.json", "tokenizer_config.json", "preprocessor_config.json", "processor_config.json")
MAX_CONFIG_BYTES = 1 << 20


def load_time_code(
    paths: Iterable[str],
    configs: Iterable[dict[str, Any]],
    read_text: Callable[[str], str | None],
    *,
    judge_text: bool,
) -> list[str]:
    """The ``.py`` files among ``paths`` that loading runs: the ``auto_map`` targets of ``configs``,
    the loading scripts and remote-code modules (scope.py: by path, and by text too when
    ``judge_text``, which reads every file), and the local modules they import, transitively."""
    from malhug.analyzers.scripts.scope import looks_like_load_time_code

    present = sorted({p for p in paths if p.endswith(".py")})
    roots = [file for config in configs for repo, file in remote_code_refs(config) if repo is None]
    roots += [p for p in present if looks_like_load_time_code(p, (read_text(p) or "") if judge_text else "")]
    return follow_imports(roots, set(present), read_text)


def local_load_time_code(root: Path, files: list[Path], max_source_bytes: int) -> set[Path]:
    """The files of a local folder, read as a repository, that loading runs: the ``auto_map``
    targets of its root configs, the loading scripts and remote-code modules (scope.py), and every
    local module they import. Reads the configs and the ``.py`` files (up to ``max_source_bytes``
    each); nothing is executed."""
    by_rel = {p.relative_to(root).as_posix(): p for p in files if p.suffix == ".py"}
    texts: dict[str, str | None] = {}

    def read_text(rel: str) -> str | None:
        if rel not in texts:
            try:
                with by_rel[rel].open("rb") as handle:
                    texts[rel] = handle.read(max_source_bytes).decode("utf-8", "replace")
            except OSError:
                texts[rel] = None
        return texts[rel]

    configs: list[dict[str, Any]] = []
    for name in AUTO_MAP_CONFIGS:
        config = root / name
        try:
            if config.is_file() and config.stat().st_size <= MAX_CONFIG_BYTES:
                configs.append(json.loads(config.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # not a config this can read: the file's own scan reports it
    return {by_rel[rel] for rel in load_time_code(by_rel, configs, read_text, judge_text=True)}
