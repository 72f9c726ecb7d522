"""Fuzz target: the GGUF reader (``analyzers/modelformats/gguf.py``) and its chat-template check."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import check_scan, count_deadline_checks
from tests.fuzz.mutate import garbage, mutated
from tests.fuzz.seeds import gguf_malicious, gguf_seeds, malicious_templates

NAME = "model.gguf"
# GGUF value types: 0-7, 10-12 fixed width, 8 string, 9 array; 13+ unknown.
VALUE_TYPES = st.integers(0, 14)


class _Writer:
    def __init__(self, endian: str, wide: bool):
        self.endian, self.wide, self.out = endian, wide, bytearray()

    def u32(self, n: int) -> None:
        self.out += struct.pack(self.endian + "I", n % 2**32)

    def count(self, n: int) -> None:
        self.out += struct.pack(self.endian + ("Q" if self.wide else "I"), n % (2**64 if self.wide else 2**32))

    def string(self, text: bytes) -> None:
        self.count(len(text))
        self.out += text


@st.composite
def _value(draw: st.DrawFn, w: _Writer, vtype: int, depth: int = 0) -> None:
    widths = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    if vtype in widths:
        w.out += draw(st.binary(min_size=widths[vtype], max_size=widths[vtype]))
    elif vtype == 8:
        w.string(draw(st.binary(max_size=40)))
    elif vtype == 9 and depth < 5:
        item = draw(VALUE_TYPES)
        n = draw(st.integers(0, 6))
        w.u32(item)
        w.count(draw(st.sampled_from((n, n, n, 2**31, 2**32 - 1, 2**63))))
        for _ in range(n):
            draw(_value(w, item, depth + 1))
    else:
        w.out += draw(st.binary(max_size=8))


@st.composite
def gguf_files(draw: st.DrawFn) -> bytes:
    """A GGUF file generated field by field: random versions, byte order, value types, nested arrays,
    counts that lie, and now and then a chat template (benign or an escape)."""
    version = draw(st.sampled_from((1, 2, 3, 3, 0, 4)))
    endian = draw(st.sampled_from(("<", "<", ">")))
    w = _Writer(endian, version >= 2)
    w.out += b"GGUF" + struct.pack(endian + "I", version)
    kvs = draw(st.integers(0, 6))
    tensors = draw(st.integers(0, 3))
    w.count(draw(st.sampled_from((tensors, tensors, 2**32, 2**62))))
    w.count(draw(st.sampled_from((kvs, kvs, kvs + 1, 2**40))))
    for _ in range(kvs):
        if draw(st.integers(0, 3)) == 0:
            w.string(b"tokenizer.chat_template" + draw(st.sampled_from((b"", b".tool_use", b"x"))))
            w.u32(8)
            w.string(draw(st.sampled_from(malicious_templates()) | st.text(max_size=60)).encode("utf-8", "replace"))
            continue
        w.string(draw(st.sampled_from((b"general.name", b"llama.context_length", b"tokenizer.ggml.tokens", b""))))
        vtype = draw(VALUE_TYPES)
        w.u32(vtype)
        draw(_value(w, vtype))
    for _ in range(tensors):
        w.string(draw(st.binary(max_size=20)))
        dims = draw(st.integers(0, 5) | st.just(17))
        w.u32(dims)
        for _ in range(min(dims, 17)):
            w.count(draw(st.integers(0, 2**64 - 1)))
        w.u32(draw(st.integers(0, 40)))
        w.out += struct.pack(endian + "Q", draw(st.integers(0, 2**64 - 1)))
    return bytes(w.out) + draw(garbage(64))


@given(mutated(gguf_seeds))
def test_mutated_gguf_files_are_handled(data: bytes) -> None:
    check_scan("gguf", data, name=NAME)


@given(gguf_files())
def test_generated_gguf_files_are_handled(data: bytes) -> None:
    check_scan("gguf", data, name=NAME)


@given(garbage())
def test_an_escaping_template_is_found_whatever_follows_the_file(suffix: bytes) -> None:
    check_scan("gguf", gguf_malicious() + suffix, name=NAME, must_flag=True)


def test_the_deadline_is_checked_before_every_template(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chat template is a Jinja parse; the deadline was checked every 65,536 metadata entries, so
    a file of many templates ran far past ``max_seconds``."""
    checks = count_deadline_checks(monkeypatch)
    w = _Writer("<", True)
    w.out += b"GGUF" + struct.pack("<I", 3)
    w.count(0)
    w.count(40)
    for i in range(40):
        w.string(f"tokenizer.chat_template.t{i}".encode())
        w.u32(8)
        w.string(b"{% for m in messages %}{{ m.content }}{% endfor %}")
    check_scan("gguf", bytes(w.out), name=NAME)
    assert len(checks) >= 40
