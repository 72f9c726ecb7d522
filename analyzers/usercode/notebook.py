"""Jupyter notebooks (``.ipynb``): the user-code rules on each code cell.

A notebook is JSON (nbformat 4: ``{"cells": [{"cell_type": "code", "source": [...]}]}``). Each code
cell is analyzed as its own Python text; a finding's ``Location`` names the cell in ``member``
(``"cell 3"``: the third cell of the notebook, counting every cell, markdown too) and its
``line``/``column`` are 1-based in that cell's source. IPython syntax is not Python: a line magic or
shell escape (``%pip``, ``!ls``, ``x?``) is blanked before parsing (line numbers kept) and a cell
magic cell (``%%bash``) is not analyzed. The notebook is parsed with ``json`` (data only, nothing
runs); a file that is not a notebook raises ``NotebookError`` with a message for people.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

from malhug.analyzers.usercode.findings import UserCodeReport, analyze_user_code
from malhug.core.model import Finding

_MAGIC = re.compile(r"^(?P<indent>\s*)(?:[%!]|[\w.]+\?{1,2}\s*$)")
MAX_CELLS = 10_000


class NotebookError(ValueError):
    """The text is not a notebook this analysis can read (broken JSON, no ``cells`` list)."""


@dataclass
class Cell:
    number: int  # 1-based position among all the notebook's cells
    source: str  # the cell's text, IPython syntax blanked
    json_index: int  # 0-based index in ``cells``


@dataclass
class CellReport:
    cell: Cell
    report: UserCodeReport

    @property
    def member(self) -> str:
        return f"cell {self.cell.number}"


def _python_of(source: str) -> str | None:
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        return None  # a cell magic: the rest of the cell is not Python
    out = []
    for line in lines:
        m = _MAGIC.match(line)
        out.append(f"{m.group('indent')}pass" if m is not None and line.strip() else line)
    return "\n".join(out)


def code_cells(text: str) -> list[Cell]:
    """The notebook's code cells in order; raises ``NotebookError`` when ``text`` is not a notebook."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise NotebookError(f"not valid notebook JSON: {exc}") from exc
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("not a notebook: no 'cells' list (nbformat 4 is expected)")
    if len(cells) > MAX_CELLS:
        raise NotebookError(f"{len(cells)} cells, more than the {MAX_CELLS} this analysis reads")
    out = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"cell {index + 1}: 'source' is neither a string nor a list of strings")
        python = _python_of(source)
        if python is not None:
            out.append(Cell(number=index + 1, source=python, json_index=index))
    return out


def _in_cell(f: Finding, member: str) -> Finding:
    return dataclasses.replace(f, location=dataclasses.replace(f.location, member=member))


def analyze_notebook(text: str) -> list[CellReport]:
    """The user-code analysis of every code cell; findings carry ``member="cell N"``."""
    out = []
    for cell in code_cells(text):
        report = analyze_user_code(cell.source)
        item = CellReport(cell, report)
        report.findings = [_in_cell(f, item.member) for f in report.findings]
        out.append(item)
    return out
