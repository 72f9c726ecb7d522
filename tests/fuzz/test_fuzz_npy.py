"""Fuzz target: ``.npy`` headers and object arrays (``analyzers/containers/npy.py``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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
