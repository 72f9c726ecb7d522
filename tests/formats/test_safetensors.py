"""safetensors header validation (only the header is ever read)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save, save_file

from malhug.analyzers.api import scan_bytes, scan_file
from malhug.analyzers.dispatch import scan_source
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import Category, Finding, Severity, Verdict


def _raw(header: Any, data: bytes) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def _rules(data: bytes) -> list[str]:
    return sorted(f.rule for f in scan_bytes(data).findings)


def test_library_written_file_is_clean_even_with_scary_metadata() -> None:
    tensors = {
        "a": np.ones((2, 3), dtype=np.float32),
        "b": np.zeros(5, dtype=np.int64),
        "empty": np.zeros(0, dtype=np.float16),
    }
    data = save(tensors, metadata={"format": "pt", "note": "os.system('rm -rf /') eval exec __import__"})
    report = scan_bytes(data)
    assert report.format == "safetensors"
    assert report.findings == []
    assert report.verdict is Verdict.CLEAN


def test_only_the_header_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.safetensors"
    save_file({"w": np.zeros((1024, 1024), dtype=np.float32)}, str(path))
    report = scan_file(path, hash_file=False)
    assert report.findings == []
    assert report.bytes_read < 64 * 1024  # of a 4 MiB file


def test_overlapping_tensors() -> None:
    header = {
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
    }
    report = scan_bytes(_raw(header, b"\x00" * 12))
    [f] = report.findings
    assert f.rule == "MH422"
    assert "'b' [4, 12] overlaps 'a'" in f.message
    assert report.verdict is Verdict.SUSPICIOUS


def test_offsets_out_of_range() -> None:
    header = {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}
    assert _rules(_raw(header, b"\x00" * 8)) == ["MH422"]


def _as_safetensors(data: bytes) -> list[Finding]:
    return scan_source(BytesSource(data), name="x.safetensors", format_hint="safetensors").findings


def test_huge_header_length() -> None:
    [f] = _as_safetensors(struct.pack("<Q", 200 * 1024 * 1024) + b'{"a":1}')
    assert f.rule == "MH420"
    assert f.category is Category.RESOURCE_ABUSE
    assert "exceeds 100 MB" in f.message


def test_header_longer_than_the_file() -> None:
    assert [f.rule for f in _as_safetensors(b"\x01\x02")] == ["MH901"]
    [f] = _as_safetensors(struct.pack("<Q", 5000) + b'{"a": {}}')
    assert f.rule == "MH420"
    assert "exceeds the file size" in f.message


def test_dtype_shape_mismatch_bad_entries_and_metadata() -> None:
    header = {
        "__metadata__": {"format": "pt", "count": 3},
        "a": {"dtype": "F16", "shape": [3], "data_offsets": [0, 8]},
        "b": {"dtype": "Q9", "shape": [1], "data_offsets": [8, 9]},
        "c": {"dtype": "U8", "shape": [-1], "data_offsets": [9, 10]},
    }
    report = scan_bytes(_raw(header, b"\x00" * 10))
    [f] = [x for x in report.findings if x.rule == "MH421"]
    assert f.severity is Severity.MEDIUM
    assert "__metadata__ is not a map of strings to strings" in f.message
    assert "'a' is 8 bytes but F16[3] needs 6" in f.message
    assert "unknown dtype 'Q9'" in f.message
    assert "bad shape" in f.message


def test_invalid_json_and_duplicate_keys() -> None:
    assert _rules(_raw(b'{"a": {"dtype": "F32",', b"")) == ["MH421"]
    dup = b'{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}'
    assert _rules(_raw(dup, b"\x00")) == ["MH421"]


def test_gap_between_tensors_is_a_low_note() -> None:
    header = {
        "a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
        "b": {"dtype": "U8", "shape": [2], "data_offsets": [6, 8]},
    }
    report = scan_bytes(_raw(header, b"\x00" * 8))
    [f] = report.findings
    assert f.rule == "MH423"
    assert f.severity is Severity.LOW
    assert "4 unreferenced bytes before 'b'" in f.message
    assert report.verdict is Verdict.CLEAN
