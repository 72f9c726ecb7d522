"""Fuzz target: the ONNX walk over the bounded protobuf reader (``modelformats/onnx.py``, ``protobuf.py``)
and the protobuf sniffer (``shared/protobuf.py``)."""

from __future__ import annotations

import io
import pickletools
import struct

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.fuzz.harness import check_scan
from tests.fuzz.mutate import mutated
from tests.fuzz.seeds import onnx_seeds

NAME = "model.onnx"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


@st.composite
def unknown_fields(draw: st.DrawFn) -> bytes:
    """Well-formed fields with numbers ModelProto does not define: every protobuf reader (and onnx's)
    skips them, so they change nothing about what the model loads."""
    out = bytearray()
    for _ in range(draw(st.integers(1, 4))):
        number = draw(st.integers(30, 2**29 - 1))
        wire = draw(st.sampled_from((0, 1, 2, 5)))
        out += _varint(number << 3 | wire)
        if wire == 0:
            out += _varint(draw(st.integers(0, 2**64 - 1)))
        elif wire == 1:
            out += draw(st.binary(min_size=8, max_size=8))
        elif wire == 5:
            out += draw(st.binary(min_size=4, max_size=4))
        else:
            payload = draw(st.binary(max_size=64))
            out += _varint(len(payload)) + payload
    return bytes(out)


@st.composite
def nested_graphs(draw: st.DrawFn) -> bytes:
    """A graph whose node holds an attribute holding a graph... (``If``/``Loop`` bodies), to a random depth."""
    depth = draw(st.integers(1, 40))
    graph = b""
    for _ in range(depth):
        attribute = b"\x32" + _varint(len(graph)) + graph  # AttributeProto.g = 6
        node = b"\x2a" + _varint(len(attribute)) + attribute  # NodeProto.attribute = 5
        graph = b"\x0a" + _varint(len(node)) + node  # GraphProto.node = 1
    return b"\x08\x07" + b"\x3a" + _varint(len(graph)) + graph  # ir_version, ModelProto.graph = 7


@given(mutated(onnx_seeds))
def test_mutated_onnx_models_are_handled(data: bytes) -> None:
    check_scan("onnx", data, name=NAME)


@given(nested_graphs())
def test_deeply_nested_subgraphs_are_bounded(data: bytes) -> None:
    check_scan("onnx", data, name=NAME)


def _starts_a_pickle(data: bytes) -> bool:
    """Whether ``data`` opens with a complete pickle stream (``\x88.`` is NEWTRUE, STOP): such a polyglot
    is a detection case (regression input onnx-polyglot-pickle-prefix.b64), not the ONNX walk's."""
    try:
        pickletools.dis(data, out=io.StringIO())
    except (ValueError, KeyError, IndexError, struct.error, UnicodeDecodeError):
        return False  # the unpickler would stop with an error before a STOP
    return True


@given(unknown_fields(), unknown_fields(), st.booleans())
def test_a_traversal_is_found_whatever_unknown_fields_surround_it(before: bytes, after: bytes, first: bool) -> None:
    traversal = onnx_seeds()[1]
    data = (before + traversal + after) if first else (traversal + after)
    assume(not _starts_a_pickle(data))
    check_scan("onnx", data, name=NAME, must_flag=True)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_many_long_custom_domains_make_a_short_message() -> None:
    """Every custom domain (up to 64 KiB each, one per node) used to be listed in full in MH411."""
    nodes = b"".join(
        _len_field(1, _len_field(4, b"Op") + _len_field(7, f"evil.{i:03d}.".encode() + b"d" * 5000)) for i in range(50)
    )
    report = check_scan("onnx", b"\x08\x07" + _len_field(7, nodes), name=NAME)
    [custom] = [f for f in report.findings if f.rule == "MH411"]
    assert "evil.000." in custom.message and "and 40 more" in custom.message
    assert len(custom.message) < 2_000 and len(custom.evidence) < 2_000
