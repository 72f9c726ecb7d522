"""MH904: bytes that match no known format are a low note, and only those."""

from __future__ import annotations

import io

import numpy as np
import pytest

from malhug.analyzers import formats
from malhug.analyzers.api import scan_bytes
from malhug.core.model import Severity, Verdict

BLOB = bytes(range(256)) * 4


def _npy(data: bytes) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(data, dtype=np.uint8))
    return buf.getvalue()


@pytest.mark.fires("MH904")
def test_unrecognised_bytes_are_a_low_note() -> None:
    report = scan_bytes(BLOB, name="weights.bin")
    assert report.format == formats.UNKNOWN
    (note,) = [f for f in report.findings if f.rule == "MH904"]
    assert note.severity is Severity.LOW and note.evidence == BLOB[:16].hex()
    assert note.message == "unrecognised binary format (1024 bytes)"
    assert report.verdict is Verdict.CLEAN


@pytest.mark.quiet("MH904")
@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (_npy(BLOB), formats.NUMPY),  # the same bytes inside a format we read
        (b"plain notes about the model\n" * 40, "text"),  # text is no binary format
        (b"", "text"),  # nothing to recognise
    ],
)
def test_known_formats_text_and_empty_files_are_not_unrecognised(data: bytes, fmt: str) -> None:
    report = scan_bytes(data, name="weights.bin")
    assert report.format == fmt
    assert "MH904" not in {f.rule for f in report.findings}
    assert report.verdict is Verdict.CLEAN
