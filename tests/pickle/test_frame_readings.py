"""Streams that mix framed and unframed readings in several places (PEP 3154 framing, CPython gh-154848).

What ``pickle.load`` on a file runs depends on which frames its C unpickler reads as blocks
(``Modules/_pickle.c``: ``load_frame``, ``_Unpickler_Read``, ``_Unpickler_ReadInto``): a frame not
already in its buffer is read as exactly its declared bytes, and a read that runs past them is
served from the file after the frame. Whether a frame is such a block depends on the file object
(``torch.load`` reads ``data.pkl`` from a ``BytesIO``: always) and on the frame's place in the
buffer, so each disagreeing frame can go either way. Each test below builds, opcode by opcode, a
stream whose payload only one combination runs, checks with ``pickletools`` that a linear reader
does not see it, and asserts the finding (rule, evidence, the file offset of the REDUCE) and MH120.
Nothing is unpickled.
"""

from __future__ import annotations

import pickle
import pickletools
import struct

import pytest

from malhug.analyzers.pickle import analyzer as pickle_analyzer
from malhug.analyzers.pickle import readings
from malhug.core.model import Verdict
from tests.pickle.helpers import one, rules, scan, sglobal, summary

PROTO4 = b"\x80\x04"
# posix.system("echo framed") without its STOP: what a hidden region runs.
CALL = sglobal("posix", "system") + b"\x8c\x0becho framed\x85R"
EVIDENCE = "os.system('echo framed')"


def frame(size: int) -> bytes:
    return b"\x95" + struct.pack("<Q", size)


def string_gadget(m: int, hidden: bytes, lead: int = 8) -> bytes:
    """Bytes that run ``hidden`` when a block ends right after their first ``2 + m`` bytes, and
    swallow it as bytes otherwise.

    A SHORT_BINUNICODE of ``m + lead`` bytes with only ``m`` of them in the block: a block reader
    drops those ``m`` and takes the next ``m + lead`` bytes as the string, then runs ``hidden``; a
    linear reader takes the ``m``, then ``lead`` more, and runs a SHORT_BINBYTES header that
    swallows the rest of the block reader's string and ``hidden``.
    """
    swallowed = m - 2 + len(hidden)
    assert m >= 2 and swallowed < 256 and m + lead < 256
    return b"\x8c" + bytes([m + lead]) + b"_" * m + b"x" * lead + b"C" + bytes([swallowed]) + b"z" * (m - 2) + hidden


def hider(hidden: bytes) -> bytes:
    """A frame whose block reading runs ``hidden`` and whose linear reading swallows it as bytes."""
    return frame(4) + string_gadget(2, hidden)


def linear_names(data: bytes) -> list[str]:
    """The strings a linear reader (pickletools) sees pushed: no 'system' means the call is hidden."""
    return [str(arg) for _, arg, _ in pickletools.genops(data) if isinstance(arg, str)]


def reduce_at(data: bytes) -> int:
    return data.index(b"\x85R") + 1


@pytest.mark.fires("MH120")
def test_two_frames_read_as_blocks_run_a_call_that_each_alone_hides() -> None:
    inner = hider(CALL)  # the second frame: hidden inside the first one's swallowed bytes
    data = PROTO4 + hider(inner) + b"."
    assert "system" not in linear_names(data)
    report = scan(data)
    call = one(report, "MH101")
    assert call.evidence == EVIDENCE
    assert call.location.offset == reduce_at(data)
    assert f"frame(s) at offset 2, {data.index(inner)} read as blocks" in call.message
    assert one(report, "MH120").location.offset == len(PROTO4) + 9  # the first straddling string
    assert report.verdict is Verdict.MALICIOUS


def test_call_that_runs_only_when_the_first_frame_is_buffered_and_the_second_is_a_block() -> None:
    # Read through the buffer, the first frame's string ends early and what follows it runs: a
    # second frame that hides the call. Read as a block, the first frame swallows that second frame.
    second = hider(CALL)
    body = b"\x8c" + bytes([2 + len(second)]) + b"_" * len(second)
    data = PROTO4 + frame(len(body)) + body + b"xx" + second + b"."
    assert "system" not in linear_names(data)
    report = scan(data)
    call = one(report, "MH101")
    assert call.evidence == EVIDENCE
    assert call.location.offset == reduce_at(data)
    second_at = data.index(second)
    assert f"frame(s) at offset {second_at} read as blocks" in call.message  # the first one was not
    assert "MH120" in rules(report)


def test_nested_frame_starts_a_block_after_the_outer_one_that_a_second_straddle_breaks() -> None:
    # The outer frame holds a nested FRAME longer than what is left of it: the block reader drops
    # the rest and reads the nested frame's block from after the outer one. A string in that block
    # runs past its end in turn: the reader drops again and lands on the call.
    outer = frame(4) + b"N0"  # the nested frame wants 4 bytes, 2 are left: NONE, POP (linear only)
    data = PROTO4 + frame(len(outer)) + outer + string_gadget(2, CALL) + b"."
    assert "system" not in linear_names(data)
    report = scan(data)
    call = one(report, "MH101")
    assert call.evidence == EVIDENCE
    assert call.location.offset == reduce_at(data)
    mismatch = one(report, "MH120")
    assert mismatch.location.offset == len(PROTO4) + 9  # the nested FRAME
    assert "nested" in mismatch.evidence


def test_memo_slot_filled_by_different_objects_in_each_reading() -> None:
    # memo[0] is collections.OrderedDict for a linear reader, os.system for the file unpickler: the
    # MEMOIZE each reads is one the other never runs, and the shared tail calls BINGET 0.
    linear_only = sglobal("collections", "OrderedDict") + b"\x94" + b"0"
    loader_only = sglobal("posix", "system") + b"\x94" + b"0"
    m = len(linear_only)  # the nested frame wants 2 + m bytes, m are left: the block reader drops them
    outer = frame(2 + m) + linear_only
    tail = b"h\x00" + b"\x8c\x0becho framed\x85R."
    data = PROTO4 + frame(len(outer)) + outer + string_gadget(m, loader_only) + tail
    assert "system" not in linear_names(data)
    report = scan(data)
    call = one(report, "MH101")
    assert call.evidence == EVIDENCE
    assert call.location.offset == data.rindex(b"\x85R") + 1  # the shared REDUCE, in the file
    assert "MH120" in rules(report)


def test_bytes_read_across_a_block_continue_in_the_file_since_python_3_8() -> None:
    # A SHORT_BINBYTES whose data runs past the first frame: read with readinto (3.8+) it continues
    # after the frame, as a linear reader reads it; the next frame then hides the call from a linear
    # reader only. (Reading the bytes like any argument, as 3.7 did, lands elsewhere.)
    first = b"C\x08" + b"\x00" * 4  # 8 bytes of data, 4 of them in the frame
    data = PROTO4 + frame(len(first)) + first + b"\x00" * 4 + hider(CALL) + b"."
    assert "system" not in linear_names(data)
    report = scan(data)
    call = one(report, "MH101")
    assert call.evidence == EVIDENCE
    assert "as the C unpickler loads the file" in call.message
    assert "MH120" in rules(report)


def test_second_pickle_load_starts_after_the_frame_the_first_stopped_in() -> None:
    # The first pickle's STOP is inside its frame: a second pickle.load on the file starts after the
    # frame (the rest of the block was read with it), a linear reader right after the STOP, where
    # a MARK and a bytes object swallow the second pickle.
    second = PROTO4 + CALL + b"."
    body = b"N." + b"(C" + bytes([len(second) - 1])
    data = PROTO4 + frame(len(body)) + body + second
    assert "system" not in linear_names(data)
    report = scan(data)
    call = one(report, "MH101")
    assert call.evidence == EVIDENCE
    assert call.location.offset == reduce_at(data)
    mismatch = one(report, "MH120")
    assert "early-stop" in mismatch.evidence
    assert mismatch.location.offset == len(PROTO4) + 9 + 1  # the STOP


@pytest.mark.quiet("MH120")
def test_stop_at_the_end_of_its_frame_then_another_pickle_is_not_a_disagreement() -> None:
    data = pickle.dumps(["a", "b"], protocol=4) + pickle.dumps({"c": 1}, protocol=5)
    report = scan(data)
    assert "MH120" not in rules(report)
    assert report.verdict is Verdict.CLEAN, summary(report)


def test_torch_zip_member_read_from_bytesio_runs_the_block_reading() -> None:
    # torch.load unpickles data.pkl from a BytesIO (no peek): every frame is a block.
    from tests.builders.torchfiles import write_torch_zip

    data_pkl = PROTO4 + hider(CALL) + b"."
    checkpoint = write_torch_zip("archive", {"data.pkl": data_pkl})
    report = scan(checkpoint)
    call = one(report, "MH101")
    assert call.evidence == EVIDENCE
    assert call.location.member == "archive/data.pkl"
    assert call.location.offset == reduce_at(data_pkl)
    assert report.verdict is Verdict.MALICIOUS


def test_frame_longer_than_its_torch_zip_member_fails_every_loader() -> None:
    # The member's frame declares bytes past the member's end; the next member's bytes are in the
    # zip right after it, but torch reads the record alone: the load fails there.
    from tests.builders.torchfiles import write_torch_zip

    data_pkl = PROTO4 + frame(200) + b"N."
    checkpoint = write_torch_zip("archive", {"data.pkl": data_pkl, "data/0": bytes(256)})
    report = scan(checkpoint)
    broken = [f for f in report.findings if f.rule == "MH901" and "every unpickler fails" in f.message]
    assert [f.location.member for f in broken] == ["archive/data.pkl"], summary(report)
    assert "MH101" not in rules(report)
    assert report.verdict is not Verdict.CLEAN


def test_more_readings_than_the_bound_is_reported_not_clean() -> None:
    # Seven independent frames, each read as a block or not: 128 readings, more than the bound.
    gadget = frame(3) + b"\x8c\x06_" + b"xxxxx" + b"0"  # linear: string, POP; block: longer string
    data = PROTO4 + gadget * 7 + b"N."
    found = readings.loader_readings(data, lambda: None, 10**6)
    assert len(list(found)) == readings.MAX_READINGS
    assert not found.complete
    report = scan(data)
    over = [f for f in report.findings if f.rule == "MH902" and "readings by a file unpickler" in f.message]
    assert len(over) == 1, summary(report)
    assert report.verdict is not Verdict.CLEAN


def test_real_framed_pickles_never_enumerate_readings(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counting(data: bytes, *args: object) -> readings.Readings:
        calls.append(len(data))
        return readings.Readings(data, lambda: None, 0)

    monkeypatch.setattr(pickle_analyzer, "loader_readings", counting)
    value = {"weights": [bytes(range(256)) * 400, "x" * 70_000], "names": [f"n{i}" for i in range(5000)]}
    for protocol in (4, 5):
        report = scan(pickle.dumps(value, protocol=protocol))
        assert report.verdict is Verdict.CLEAN, summary(report)
    assert calls == []


def test_reader_tables_cover_every_opcode() -> None:
    classified = {
        **dict.fromkeys(readings.NO_ARG, "none"),
        **{op: "fixed" for op in readings.FIXED},
        **{op: "sized" for op in readings.SIZED},
        **{op: "into" for op in readings.READ_INTO},
        **{op: "lines" for op in readings.LINES},
        readings.FRAME: "frame",
    }
    for op in pickletools.opcodes:
        code = ord(op.code)
        assert code in classified, op.name
        if op.arg is None:
            assert classified[code] == "none", op.name
        elif op.arg.n > 0 and code != readings.FRAME:
            assert readings.FIXED[code] == op.arg.n, op.name
