"""Fuzz target: the pickle machine, through the whole pipeline (detection, dispatch, ``pickle/*``).

Streams are generated opcode by opcode: balanced statements (a value built from scalars, strings,
containers, memo PUT/GET, benign calls, then POP) around a dangerous call, in the opcode dialect of a
random protocol, followed by STOP and bytes the unpickler never reads. ``pickletools.dis`` (which
walks the opcodes and checks stack and memo use, and never builds anything) is the oracle: when it
walks the stream past the payload's REDUCE, the unpickler would run the payload, so the verdict must
not be ``clean``.
"""

from __future__ import annotations

import io
import pickletools
import struct

from hypothesis import given
from hypothesis import strategies as st

from tests.builders.pickles import payload_ops
from tests.fuzz.harness import check_scan
from tests.fuzz.mutate import garbage, mutated
from tests.fuzz.seeds import benign_pickles, malicious_calls, malicious_pickles

NAME = "model.bin"
_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\n\r\\"), max_size=12)


class _Ops:
    """Opcode emitters for one protocol (only what that protocol's unpickler accepts)."""

    def __init__(self, protocol: int):
        self.p = protocol
        self.out = bytearray()
        self.memo = 0

    def string(self, text: str) -> None:
        data = text.encode()
        if self.p == 0:
            self.out += b"V" + text.encode("raw-unicode-escape") + b"\n"
        elif self.p >= 4 and len(data) < 256:
            self.out += b"\x8c" + bytes([len(data)]) + data
        else:
            self.out += b"X" + struct.pack("<I", len(data)) + data

    def put(self) -> None:
        if self.p >= 4:
            self.out += b"\x94"
        elif self.p >= 1:
            self.out += b"q" + bytes([self.memo % 256]) if self.memo < 256 else b"r" + struct.pack("<I", self.memo)
        else:
            self.out += b"p" + str(self.memo).encode() + b"\n"
        self.memo += 1

    def get(self, index: int) -> None:
        if self.p >= 1:
            self.out += (b"h" + bytes([index])) if index < 256 else (b"j" + struct.pack("<I", index))
        else:
            self.out += b"g" + str(index).encode() + b"\n"


@st.composite
def _value(draw: st.DrawFn, ops: _Ops, depth: int = 0) -> None:
    """Push exactly one value."""
    kind = draw(st.integers(0, 9 if depth < 4 else 3))
    if kind == 0:
        ops.out += b"N"
    elif kind == 1:
        n = draw(st.integers(-(2**31), 2**31 - 1))
        ops.out += (b"J" + struct.pack("<i", n)) if ops.p >= 1 else (b"I" + str(n).encode() + b"\n")
    elif kind == 2:
        ops.string(draw(_TEXT | st.sampled_from(("os.system", "exec", "__reduce__", "rm -rf /"))))
    elif kind == 3 and ops.memo:
        ops.get(draw(st.integers(0, ops.memo - 1)))
    elif kind == 3:
        ops.out += b"N"
    elif kind in (4, 5):  # list / tuple / dict through MARK
        ops.out += b"("
        items = draw(st.integers(0, 3))
        for _ in range(items * (2 if kind == 5 else 1)):
            draw(_value(ops, depth + 1))
        ops.out += b"l" if kind == 4 else b"d"
    elif kind == 6:
        ops.out += b"}" if ops.p >= 1 else b"(d"
        if ops.p >= 1 and draw(st.booleans()):
            draw(_value(ops, depth + 1))
            draw(_value(ops, depth + 1))
            ops.out += b"s"
    elif kind == 7:  # a benign call: collections.OrderedDict()
        ops.out += b"ccollections\nOrderedDict\n" + (b")" if ops.p >= 1 else b"(t") + b"R"
    elif kind == 8:
        draw(_value(ops, depth + 1))
        ops.put()
    else:
        draw(_value(ops, depth + 1))
        ops.out += b"20"  # DUP, POP


@st.composite
def _statements(draw: st.DrawFn, ops: _Ops) -> None:
    for _ in range(draw(st.integers(0, 4))):
        draw(_value(ops))
        ops.out += b"0"
        if ops.p >= 2 and draw(st.integers(0, 6)) == 0:
            ops.out += b"(1"  # MARK, POP_MARK: a no-op


@st.composite
def payload_pickles(draw: st.DrawFn, *, standard_start: bool = True) -> tuple[bytes, bytes]:
    """(stream up to and including STOP, what follows it). With ``standard_start`` a protocol 2+
    stream begins with PROTO as pickle writes it; otherwise anything the unpickler accepts comes first."""
    protocol = draw(st.integers(0, 5))
    ops = _Ops(protocol)
    if standard_start and protocol >= 2:
        ops.out += b"\x80" + bytes([protocol])
    elif not standard_start:
        start = draw(st.sampled_from(("long-string", "mark", "noop", "proto-later", "frame")))
        if start == "long-string":
            ops.string("x" * draw(st.integers(8 * 1024, 70 * 1024)))
            ops.out += b"0"
        elif start == "mark":
            ops.out += b"(" + (b"N" * draw(st.integers(0, 3))) + b"1"
        elif start == "noop":
            ops.out += b"N0" * draw(st.integers(1, 3))
        elif start == "frame" and protocol >= 4:
            ops.out += b"\x80\x04\x95" + struct.pack("<Q", 0)
        if protocol >= 2 and start == "proto-later":
            ops.out += b"N0\x80" + bytes([protocol])
    draw(_statements(ops))
    ops.out += payload_ops([draw(st.sampled_from(malicious_calls()))], max(protocol, 0))
    draw(_statements(ops))
    draw(_value(ops))
    ops.out += b"."
    return bytes(ops.out), draw(garbage())


def walks_past_payload(stream: bytes) -> bool:
    """``pickletools.dis`` walks the whole stream (stack and memo checked) without an error."""
    try:
        pickletools.dis(stream, out=io.StringIO())
    except (ValueError, KeyError, IndexError, struct.error, UnicodeDecodeError):
        return False
    return True


@given(payload_pickles())
def test_a_reachable_payload_is_never_clean(case: tuple[bytes, bytes]) -> None:
    stream, tail = case
    check_scan("pickle", stream + tail, name=NAME, must_flag=walks_past_payload(stream))


@given(payload_pickles(standard_start=False))
def test_a_reachable_payload_is_never_clean_however_the_stream_starts(case: tuple[bytes, bytes]) -> None:
    stream, tail = case
    check_scan("pickle", stream + tail, name=NAME, must_flag=walks_past_payload(stream))


@given(mutated(lambda: (*malicious_pickles(), *benign_pickles())))
def test_mutated_pickles_are_handled(data: bytes) -> None:
    check_scan("pickle", data, name=NAME)


@given(st.integers(1, 3000), st.sampled_from((b"(", b"]", b"}", b"N")), st.booleans())
def test_deep_and_long_shapes_are_bounded(n: int, op: bytes, chained: bool) -> None:
    """Deep nesting, long chains of calls through one memoized callable, long memo chains."""
    if chained:  # f = getattr; f(f(f(...)))
        data = b"\x80\x02cbuiltins\ngetattr\nq\x00" + b"h\x00" * n + b"N" + b"\x85R" * n + b"."
    else:
        data = b"\x80\x02" + op * n + b"."
    check_scan("pickle", data, name=NAME)
