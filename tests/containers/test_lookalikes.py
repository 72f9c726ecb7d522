"""Container rules next to a benign look-alike of what makes them fire: the rule must stay silent.

The positive side of each pair lives with the container tests (marked ``fires``).
"""

from __future__ import annotations

import zipfile

import pytest

from malhug.analyzers import formats
from malhug.analyzers.api import scan_bytes
from malhug.core.model import Verdict
from tests.builders.wrappers import zip_of
from tests.containers.helpers import npy_bytes, rules


@pytest.mark.quiet("MH205")
def test_a_member_named_zip_that_is_no_archive_is_not_nested() -> None:
    # MH205 fires on inner.zip holding a checkpoint; here inner.zip holds text.
    outer = zip_of({"inner.zip": b"not an archive", "notes.txt": b"hello"}, compression=zipfile.ZIP_DEFLATED)
    report = scan_bytes(outer)
    assert report.format == formats.ZIP
    assert "MH205" not in rules(report), [(f.rule, f.message) for f in report.findings]
    assert report.verdict is Verdict.CLEAN


@pytest.mark.quiet("MH206")
def test_npy_array_of_numbers_is_not_an_object_array() -> None:
    # MH206 fires on the same header with descr '|O' (a pickle follows); '<f8' is plain data.
    report = scan_bytes(npy_bytes("<f8", (2,), bytes(16)))
    assert report.format == formats.NUMPY
    assert "MH206" not in rules(report), [(f.rule, f.message) for f in report.findings]
    assert report.verdict is Verdict.CLEAN
