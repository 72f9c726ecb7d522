"""Replay every input saved under ``regressions/`` (by ``make fuzz``, or by hand) under the fuzz contract.

Each file is base64 text with ``# key: value`` header lines: ``target``, ``kind`` (bytes or text), and
either ``name`` and ``must_flag`` (a whole scan) or ``replay`` (``module:function`` of a parser entry
point). ``xfail: <owner area>: <what fails>`` marks an input whose fix belongs to another area.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.fuzz.harness import REGRESSIONS, check_parser, check_scan, read_regression

FILES = sorted(REGRESSIONS.glob("*.b64"))


def _params() -> list[object]:
    out = []
    for path in FILES:
        meta, _ = read_regression(path)
        marks = [pytest.mark.xfail(strict=True, reason=meta["xfail"])] if "xfail" in meta else []
        out.append(pytest.param(path, id=path.stem, marks=marks))
    return out


@pytest.mark.parametrize("path", _params())
def test_saved_input_meets_the_contract(path: Path) -> None:
    meta, data = read_regression(path)
    target = meta["target"]
    if "replay" in meta:
        module, _, func = meta["replay"].partition(":")
        check_parser(target, data, getattr(importlib.import_module(module), func))
    else:
        assert isinstance(data, bytes)
        check_scan(target, data, name=meta.get("name", "<fuzz>"), must_flag=meta.get("must_flag") == "True")


def test_there_are_saved_inputs() -> None:
    assert FILES, "the replay test found no regression inputs (wrong folder?)"
