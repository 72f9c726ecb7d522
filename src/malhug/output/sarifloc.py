"""Where a SARIF result points: repository-relative URIs, notebook lines, stable fingerprints.

GitHub code scanning wants every location relative to the repository root (``uriBaseId``
``%SRCROOT%``), a ``region.startLine`` on every result, and ``partialFingerprints`` that stay the same
when lines move. The choices (``docs/REPORT.md#sarif``):

- the root is the nearest folder at or above the working directory that holds ``.git``, else the
  working directory; a local path is written relative to it with ``/`` (``../`` when it is outside),
  never absolute;
- a Hub file ``hf:ORG/NAME@SHA/PATH`` is written ``hf/ORG/NAME@SHA/PATH`` (``hf/datasets/...`` for
  datasets): a relative path that does not exist in the checkout, so GitHub shows the alert with its
  path and message and no code snippet;
- a finding with no line (a pickle opcode, a whole file) is at line 1, its offset in ``properties``;
- a notebook cell's finding is at the line of the ``.ipynb`` file where that line of the cell is
  written (nbformat writes one source line per JSON string), else at line 1;
- the fingerprint ``malhug/v2`` hashes the rule id, the stable path (a Hub file without its commit),
  the member (not a notebook's cell number) and the whitespace-normalised evidence (the message when
  there is none), plus the occurrence count of that same key in the file: never the line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)
SRCROOT = "%SRCROOT%"
_HUB = re.compile(r"^hf:(?P<rest>.*)$")
_HUB_COMMIT = re.compile(r"^(?P<repo>(?:datasets/)?[^@]+)@[^/]+(?P<path>/.*)?$")
_CELL = re.compile(r"^cell (?P<n>\d+)$")
MAX_NOTEBOOK_BYTES = 8 * 1024 * 1024


def source_root(start: Path | None = None) -> Path:
    """The folder that holds ``.git`` at or above ``start`` (the working directory), else ``start``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def artifact_uri(path: str, root: Path) -> str:
    """``path`` relative to ``root`` with ``/`` (a Hub path under ``hf/``); never absolute."""
    hub = _HUB.match(path)
    if hub is not None:
        return "hf/" + hub["rest"].lstrip("/")
    absolute = Path(path).resolve()
    try:
        rel = absolute.relative_to(root)
    except ValueError:
        rel = Path(os.path.relpath(absolute, root))
    return PurePosixPath(*rel.parts).as_posix() if rel.parts else "."


def stable_path(uri: str) -> str:
    """The URI without a Hub commit: the alert for a Hub file stays one alert across its commits."""
    if uri.startswith("hf/"):
        m = _HUB_COMMIT.match(uri[3:])
        if m is not None:
            return f"hf/{m['repo']}{m['path'] or ''}"
    return uri


def cell_number(member: str | None) -> int | None:
    m = _CELL.match(member or "")
    return int(m["n"]) if m else None


def notebook_lines(path: str) -> dict[tuple[int, int], int]:
    """``(cell number, line in the cell) -> line of the .ipynb file``; empty when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_NOTEBOOK_BYTES + 1)
        if len(raw) > MAX_NOTEBOOK_BYTES:
            return {}
        text = raw.decode("utf-8")
        cells = json.loads(text).get("cells")
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, AttributeError) as exc:
        log.info("no line map for %s: %s", path, exc)
        return {}
    if not isinstance(cells, list):
        return {}
    lines = [line.strip().rstrip(",") for line in text.split("\n")]
    out: dict[tuple[int, int], int] = {}
    cursor = 0
    for number, cell in enumerate(cells, start=1):
        source = cell.get("source") if isinstance(cell, dict) else None
        if not isinstance(source, list):
            continue
        for index, element in enumerate(source):
            if not isinstance(element, str) or element.count("\n") > (1 if element.endswith("\n") else 0):
                break  # not one line per string: the lines after this one cannot be placed
            wanted = {json.dumps(element), json.dumps(element, ensure_ascii=False)}
            found = next((n for n in range(cursor, len(lines)) if lines[n] in wanted), None)
            if found is None:
                break
            out[(number, index + 1)] = found + 1
            cursor = found + 1
    return out


class Fingerprints:
    """``malhug/v2`` fingerprints for the results of one run, counting repeats of the same key."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, rule: str, uri: str, member: str | None, evidence: str) -> str:
        place = "" if cell_number(member) is not None else (member or "")
        text = " ".join(evidence.split())
        key = hashlib.sha256("\0".join((rule, stable_path(uri), place, text)).encode()).hexdigest()[:32]
        count = self._seen.get(key, 0) + 1
        self._seen[key] = count
        return f"{key}:{count}"
