"""Fuzz target: the safetensors header check (``analyzers/modelformats/safetensors.py``)."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from malhug.core.model import Verdict
from tests.fuzz.harness import check_scan
from tests.fuzz.mutate import mutated
from tests.fuzz.seeds import safetensors_seeds

NAME = "model.safetensors"
_ODD = st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers(-(2**70), 2**70) | st.text(max_size=8)
_DTYPES = st.sampled_from(("F32", "F16", "BF16", "I64", "U8", "BOOL", "F4", "F6_E2M3", "C64", "XX", ""))


@st.composite
def _entry(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 9)) == 0:
        return draw(_ODD | st.lists(_ODD, max_size=3))
    begin = draw(st.integers(0, 64))
    end = begin + draw(st.integers(0, 64))
    entry: dict[str, object] = {
        "dtype": draw(_DTYPES | _ODD),
        "shape": draw(st.lists(st.integers(0, 8) | st.sampled_from((2**63, -1, 2**200)), max_size=24) | _ODD),
        "data_offsets": draw(st.just([begin, end]) | st.lists(_ODD | st.integers(0, 2**65), max_size=3) | _ODD),
    }
    return entry


@st.composite
def safetensors_files(draw: st.DrawFn) -> bytes:
    header: dict[str, object] = draw(st.dictionaries(st.text(max_size=12), _entry(), max_size=6))
    if draw(st.booleans()):
        header["__metadata__"] = draw(
            st.dictionaries(st.text(max_size=5), st.text(max_size=5) | _ODD, max_size=3) | _ODD
        )
    raw = json.dumps(header).encode()
    if draw(st.integers(0, 5)) == 0:
        raw = raw.replace(b"{", b"[" * draw(st.integers(1, 4000)), 1)  # nesting, broken JSON
    data = bytes(draw(st.integers(0, 200)))
    length = draw(st.sampled_from((len(raw), len(raw), len(raw) - 1, 2**64 - 1, 0)))
    return struct.pack("<Q", length % 2**64) + raw + data


@given(mutated(safetensors_seeds))
def test_mutated_safetensors_are_handled(data: bytes) -> None:
    check_scan("safetensors", data, name=NAME)


@given(safetensors_files())
def test_generated_safetensors_headers_are_handled(data: bytes) -> None:
    report = check_scan("safetensors", data, name=NAME)
    if report.format == "safetensors":
        assert report.verdict is not Verdict.MALICIOUS, "a header alone cannot run code"


# --- inputs found while fuzzing (analyzers/modelformats/safetensors.py) -----------------------------


def _file(header: dict[str, object], data: int) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + bytes(data)


@pytest.mark.parametrize("dims", [17, 200_000])
def test_a_shape_of_huge_dimensions_is_a_size_mismatch(dims: int) -> None:
    """17 dimensions of 2**63-1 overflowed a float in the message (MH903); 200,000 of them cost a
    quadratic big-integer product (minutes). The product now stops once it exceeds the data."""
    header = {"a": {"dtype": "F32", "shape": [2**63 - 1] * dims, "data_offsets": [0, 4]}}
    report = check_scan("safetensors", _file(header, 4), name=NAME)
    assert [f.rule for f in report.findings] == ["MH421"]
    assert "needs more" in report.findings[0].message and f"{dims} items" in report.findings[0].message


def test_a_zero_dimension_makes_an_empty_tensor() -> None:
    header = {
        "a": {"dtype": "F32", "shape": [2**63 - 1, 0], "data_offsets": [0, 0]},
        "b": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
    }
    report = check_scan("safetensors", _file(header, 2), name=NAME)
    assert report.findings == []
