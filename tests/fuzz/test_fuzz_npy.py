"""Fuzz target: ``.npy`` headers and object arrays (``analyzers/containers/npy.py``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from malhug.core.model import Verdict
from tests.fuzz.harness import check_scan
from tests.fuzz.mutate import garbage, mutated
from tests.fuzz.seeds import npy_header, npy_object_seeds, npy_seeds

NAME = "array.npy"
_DESCR = st.sampled_from(("<f4", ">i2", "|O", "|b1", "<U5", "|S0", "<M8[ns]", "|V16", "<c16", "O", "<f", "z9", ""))


@st.composite
def npy_headers(draw: st.DrawFn) -> bytes:
    """Header dicts with odd descrs (nested structured dtypes, objects inside records), shapes and versions."""
    descr: object = draw(_DESCR)
    if draw(st.booleans()):
        descr = draw(
            st.lists(
                st.tuples(st.text(max_size=3), _DESCR)
                | st.tuples(st.text(max_size=3), _DESCR, st.tuples(st.integers(0, 4))),
                max_size=4,
            )
        )
    shape = draw(st.lists(st.integers(0, 6) | st.sampled_from((2**31, 2**63, 2**80)), max_size=4).map(tuple))
    fortran = draw(st.booleans())
    text = repr({"descr": descr, "fortran_order": fortran, "shape": shape})
    if draw(st.integers(0, 6)) == 0:
        text = draw(
            st.sampled_from(("(" * 5000, "{'descr': " + "[" * 300, "1e999", "{" + "'a':1," * 2000 + "}", text[:-1]))
        )
    version = draw(st.sampled_from((1, 2, 3, 4)))
    raw = text.encode("utf-8")
    size = len(raw).to_bytes(2 if version == 1 else 4, "little")
    body = draw(st.binary(max_size=128))
    return b"\x93NUMPY" + bytes([version, 0]) + size + raw + body


@given(mutated(npy_seeds))
def test_mutated_arrays_are_handled(data: bytes) -> None:
    check_scan("npy", data, name=NAME)


@given(npy_headers())
def test_generated_headers_are_handled(data: bytes) -> None:
    check_scan("npy", data, name=NAME)


@given(st.integers(0, 1), garbage())
def test_an_object_array_payload_is_found_whatever_follows_it(which: int, suffix: bytes) -> None:
    check_scan("npy", npy_object_seeds()[which] + suffix, name=NAME, must_flag=True)


@given(st.integers(1, 3), st.sampled_from(("|O", "O", "<O")))
def test_object_arrays_of_every_header_version_are_analyzed(version: int, descr: str) -> None:
    from tests.fuzz.seeds import malicious_pickles

    check_scan("npy", npy_header(descr, (1,), version=version) + malicious_pickles()[1], name=NAME, must_flag=True)


# --- inputs found while fuzzing (analyzers/containers/npy.py) -------------------------------------


@pytest.mark.parametrize("descr", ["object", "object_", "b1,O", "O4", [("a", "<f4"), ("b", [("c", "object")])]])
def test_every_spelling_of_the_object_dtype_is_analyzed_as_a_pickle(descr: object) -> None:
    """NumPy reads all of these as object arrays and unpickles the data; 'object' used to be refused as
    an unknown type string (MH901) and the payload after it never analyzed."""
    from tests.fuzz.seeds import malicious_pickles

    report = check_scan("npy", npy_header(descr, (1,)) + malicious_pickles()[1], name=NAME, must_flag=True)
    assert {"MH206", "MH101"} <= {f.rule for f in report.findings}
    assert report.verdict is Verdict.MALICIOUS


@pytest.mark.parametrize("subarray", [("x",), ("x", 10**9), ("x", "y"), (True,), -1])
def test_a_subarray_shape_that_is_not_counts_is_not_multiplied(subarray: object) -> None:
    """``math.prod(('x', 10**9))`` built a gigabyte string; ``('x',)`` crashed the analyzer (MH903)."""
    report = check_scan("npy", npy_header([("a", "<f4", subarray)], (1,)) + bytes(4), name=NAME)
    assert report.format == "numpy"


@pytest.mark.parametrize(("data", "extra"), [(12, False), (20, True)])
def test_an_int_subarray_shape_counts_its_items(data: int, extra: bool) -> None:
    report = check_scan("npy", npy_header([("a", "<f4", 3)], (1,)) + bytes(data), name=NAME)
    assert ("MH207" in {f.rule for f in report.findings}) is extra
