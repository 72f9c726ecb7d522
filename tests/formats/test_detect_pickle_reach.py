"""Fail-closed detection, pickles: a stream the unpickler walks to a call is analyzed, however it starts.

Each fixture is a class of the issue (#15): the old detection read an 8 KiB window, called these
``text`` or ``unknown`` and analyzed nothing, while ``pickle.load`` runs them. They are written
opcode by opcode (never unpickled); the payload is ``os.system('echo malhug')``.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from malhug.analyzers import formats
from malhug.analyzers.api import scan_bytes, scan_file
from malhug.analyzers.detect import WINDOW, detect_analyses, detect_format
from malhug.analyzers.limits import DEFAULT_LIMITS, Limits
from malhug.analyzers.pickle.reach import walk
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import Category, FileReport, Verdict
from tests.builders.pickles import payload_ops, pickle_of
from tests.builders.wrappers import zip_of
from tests.containers.helpers import system_call

PAYLOAD_P0 = payload_ops([system_call()], protocol=0)  # GLOBAL os system, MARK, STRING, TUPLE, REDUCE, POP
PAYLOAD_P2 = payload_ops([system_call()], protocol=2)
LONG = 3 * WINDOW  # longer than any window the old sniffer read


def _binunicode(text: bytes) -> bytes:
    return b"X" + struct.pack("<I", len(text)) + text


def _assert_payload_found(report: FileReport) -> None:
    hits = [f for f in report.findings if f.rule == "MH101"]
    assert hits, report.findings
    assert hits[0].category is Category.COMMAND_EXEC
    assert "echo malhug" in hits[0].evidence
    assert report.verdict is Verdict.MALICIOUS


# name -> stream that pickle.load runs to the payload
CLASSES: dict[str, bytes] = {
    # A first opcode whose argument is longer than any window: a long string pushed, then popped.
    "long binunicode first": _binunicode(b"A" * LONG) + b"0" + PAYLOAD_P2 + b"N.",
    "long binbytes8 first": b"\x8e" + struct.pack("<Q", LONG) + b"\0" * LONG + b"0" + PAYLOAD_P2 + b"N.",
    "long protocol-0 string first": b"S'" + b"A" * LONG + b"'\n0" + PAYLOAD_P0 + b"N.",
    # PROTO anywhere: after a no-op, twice, late.
    "PROTO not first": b"N0\x80\x02" + PAYLOAD_P2 + b"N.",
    "PROTO twice": b"\x80\x02\x80\x04" + PAYLOAD_P2 + b"N.",
    # MARK or a no-op first.
    "MARK POP_MARK first": b"(1" + PAYLOAD_P0 + b"N.",
    "MARK POP first": b"(0" + PAYLOAD_P2 + b"N.",
    "NONE POP first": b"N0" + PAYLOAD_P0 + b"N.",
    # A stream that leaves an extra item on the stack (STOP pops only the top).
    "extra item below the result": b"N" + PAYLOAD_P0 + b"N.",
    "unclosed MARK below the result": b"(N" + PAYLOAD_P0 + b"N.",
    # The payload runs, then the stream is cut or followed by garbage.
    "truncated after the payload": PAYLOAD_P0 + b"(I1",
    "garbage after the payload": PAYLOAD_P2 + b"\xff\xfe\x00garbage",
    "text garbage after the payload": PAYLOAD_P0 + b"this is not a pickle\n",
    "memo of the callable": b"cos\nsystem\np0\n0g0\n(S'echo malhug'\ntR.",
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_reachable_payload_is_analyzed(name: str) -> None:
    stream = CLASSES[name]
    reach = walk(BytesSource(stream), DEFAULT_LIMITS)
    assert reach.reached is not None, name
    assert formats.PICKLE in detect_analyses(BytesSource(stream), "data.txt")
    _assert_payload_found(scan_bytes(stream, name="data.txt"))


@pytest.mark.parametrize("name", ["long binunicode first", "PROTO not first", "garbage after the payload"])
def test_reachable_payload_on_disk_under_a_text_name(name: str, tmp_path: Path) -> None:
    path = tmp_path / "vocab.txt"
    path.write_bytes(CLASSES[name])
    _assert_payload_found(scan_file(path))


def test_text_looking_pickle_keeps_text_as_its_format_and_says_both() -> None:
    report = scan_bytes(CLASSES["long protocol-0 string first"], name="notes.txt")
    assert report.format == formats.TEXT
    assert report.analyzed_as == [formats.TEXT, formats.PICKLE]
    assert report.to_dict()["analyzed_as"] == ["text", "pickle"]
    assert FileReport.from_dict(report.to_dict()).analyzed_as == ["text", "pickle"]
    _assert_payload_found(report)


def test_binary_prefix_that_is_not_text_is_a_pickle() -> None:
    assert detect_format(BytesSource(CLASSES["long binunicode first"])) == formats.PICKLE
    report = scan_bytes(CLASSES["long binunicode first"])
    assert report.format == formats.PICKLE
    assert report.analyzed_as is None  # one analysis: no extra field
    assert "analyzed_as" not in report.to_dict()


def test_polyglot_zip_with_pickle_prefix_gets_both_analyses() -> None:
    benign_zip = zip_of({"readme.txt": b"hello", "weights.bin": b"\0" * 64})
    stream = pickle_of([system_call()], protocol=2) + benign_zip
    # pickle.load runs the prefix; zipfile (npz, Keras v3, zip-reading loaders) reads the zip from its end.
    # The zip is looked for once the pickle analysis has left bytes after the stream.
    assert detect_analyses(BytesSource(stream), "model.bin") == [formats.PICKLE]
    report = scan_bytes(stream, name="model.bin")
    assert report.format == formats.PICKLE
    assert report.analyzed_as == [formats.PICKLE, formats.ZIP]
    _assert_payload_found(report)


def test_zip_with_a_text_prefix_that_reaches_a_call_gets_both_analyses() -> None:
    evil_zip = zip_of({"archive/data.pkl": pickle_of([system_call()], protocol=2)})
    stream = CLASSES["long protocol-0 string first"] + evil_zip
    analyses = detect_analyses(BytesSource(stream), "model.bin")
    assert formats.PICKLE in analyses and (set(analyses) & {formats.ZIP, formats.PYTORCH_ZIP})
    report = scan_bytes(stream, name="model.bin")
    members = {f.location.member for f in report.findings if f.rule == "MH101"}
    assert None in members and "archive/data.pkl" in members


def test_text_member_of_a_zip_that_the_unpickler_runs_is_analyzed() -> None:
    archive = zip_of({"notes.txt": CLASSES["long protocol-0 string first"], "other.txt": b"plain\n"})
    report = scan_bytes(archive, name="bundle.zip")
    hits = [f for f in report.findings if f.rule == "MH101"]
    assert hits and hits[0].location.member == "notes.txt"


# Text that must stay text: pickle.load fails on each before any import or call.
BENIGN_TEXT = {
    "vocab starting with c": b"cat\ndog\neel\nfox\ngnu\n",  # GLOBAL at.dog: no module 'at', then APPENDS without MARK
    "vocab starting with P": b"Paris\nLondon\nRome\n",  # PERSID: a string id no loader accepts
    "vocab of specials": b"[PAD]\n[UNK]\n[CLS]\n[SEP]\n",
    "readme": b"# My model\n\nA fine-tuned model.\n\n```python\nimport torch\n```\n",
    "markdown front matter": b"---\nlicense: mit\n---\n# Card\n",
    "json": b'{"architectures": ["BertModel"], "hidden_size": 768}\n',
    "json list": b'[{"a": 1}, {"b": 2}]',
    "csv": b"col1,col2\n1,2\n3,4\n",
    "license (c)": b"(c) 2024 Example Inc. All rights reserved.\nPermission is hereby granted...\n",
    "license MIT": b"MIT License\n\nCopyright (c) 2024\n",
    "quoted first line": b"S'quoted'\nthen text\n",
    "number first": b"I 12\nfoo\n",
    "unicode first": b"Vocabulary\nfoo bar\n",
    "parenthesised list": b"(a) first item\n(b) second\n",
    "merges": b"#version: 0.2\n\xc4\xa0 t\n\xc4\xa0 a\n",
}


@pytest.mark.parametrize("name", sorted(BENIGN_TEXT))
def test_benign_text_is_not_a_pickle(name: str) -> None:
    data = BENIGN_TEXT[name]
    reach = walk(BytesSource(data), DEFAULT_LIMITS)
    assert reach.reached is None, (name, reach)
    analyses = detect_analyses(BytesSource(data), "file.txt")
    assert formats.PICKLE not in analyses
    report = scan_bytes(data, name="file.txt")
    assert report.verdict is Verdict.CLEAN
    assert not [f for f in report.findings if f.rule.startswith("MH1")]


@pytest.mark.quiet("MH901")
def test_break_right_after_a_harmless_import_in_text_is_not_unanalyzed() -> None:
    # pickle.load imports os, fails on getattr(os, "sin"); nothing after runs: judged, no MH901.
    report = scan_bytes(b"cos\nsin\ntan\nlog\n", name="vocab.txt")
    assert report.analyzed_as == [formats.TEXT, formats.PICKLE]
    assert "MH901" not in {f.rule for f in report.findings}
    assert report.verdict is Verdict.CLEAN


def test_dangerous_import_before_a_break_in_text_is_reported() -> None:
    report = scan_bytes(b"cbuiltins\neval\nfoo bar\n", name="notes.txt")
    assert "MH109" in {f.rule for f in report.findings}
    assert report.verdict is Verdict.MALICIOUS


def test_unknown_callable_called_before_a_break_in_text_is_reported() -> None:
    report = scan_bytes(b"cat\ndog\n)R and then text\n", name="notes.txt")
    # A function outside the load-time allowlist is called: at least suspicious (docs/POLICY.md).
    hits = [f for f in report.findings if f.rule == "MH106"]
    assert hits and "at.dog" in hits[0].message
    assert report.verdict is Verdict.SUSPICIOUS


def test_binary_pickle_that_breaks_is_still_mh901() -> None:
    report = scan_bytes(b"\x80\x02" + PAYLOAD_P2 + b"\x99", name="x.bin")
    assert {"MH101", "MH901"} <= {f.rule for f in report.findings}


def test_walk_limit_counts_as_reachable() -> None:
    stream = b"N0" * 100 + PAYLOAD_P0
    tiny = Limits(max_pickle_ops=20)
    reach = walk(BytesSource(stream), tiny)
    assert reach.limited and reach.reached is not None
    assert walk(BytesSource(stream), DEFAULT_LIMITS).what == "GLOBAL os.system"


def test_text_report_names_every_analysis(tmp_path: Path) -> None:
    from malhug.core.model import ScanReport
    from malhug.output.text import render

    report = scan_bytes(CLASSES["long protocol-0 string first"], name="notes.txt")
    text = render(ScanReport(files=[report]), colour=False)
    assert "notes.txt  [text + pickle]" in text
