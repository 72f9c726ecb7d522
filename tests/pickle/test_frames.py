"""Frames read as the file unpickler reads them (PEP 3154 framing, CPython gh-154848).

``pickletools`` reads straight through a FRAME whose declared length disagrees with its opcodes; an
older C unpickler loading a file reads the frame as one block and takes a read that runs past the
block from the bytes after the frame, skipping the rest of the frame (the write-up of gh-154848:
"a pickle that disassembles as a plain BINBYTES but calls builtins.print on load"). The data of a
BINBYTES itself is read across the frame's end since CPython 3.8 (``_Unpickler_ReadInto``); the
first test is the 3.7 reading. Mixes of several frames: ``test_frame_readings.py``. Every stream
here is written opcode by opcode; nothing is unpickled.
"""

from __future__ import annotations

import pickletools
import struct

import pytest

from malhug.core.model import Verdict
from tests.pickle.helpers import one, rules, scan, summary

PROTO4 = b"\x80\x04"
# posix.system("echo framed") with STACK_GLOBAL, then STOP: what the block reader runs.
PAYLOAD = b"\x8c\x05posix\x8c\x06system\x93\x8c\x0becho framed\x85R."


def frame(size: int) -> bytes:
    return b"\x95" + struct.pack("<Q", size)


def binbytes(size: int) -> bytes:
    return b"B" + struct.pack("<I", size)


def linear_ops(data: bytes) -> list[str]:
    """What ``pickletools`` (a linear reader) sees: opcode names."""
    return [op.name for op, _, _ in pickletools.genops(data)]


def straddling_bytes() -> bytes:
    """A BINBYTES whose data runs past its frame: the linear reader sees two byte strings."""
    tail = b"\x00" * 5  # the rest of the frame: data to the linear reader, skipped by the block reader
    body = binbytes(16) + tail
    block_data = b"A" * 11 + binbytes(len(PAYLOAD) - 1)  # the block reader's 16 bytes
    return PROTO4 + frame(len(body)) + body + block_data + PAYLOAD


@pytest.mark.fires("MH120")
def test_bytes_straddling_the_frame_hide_a_call_from_a_linear_reader() -> None:
    data = straddling_bytes()
    assert "STACK_GLOBAL" not in linear_ops(data)  # the disguise works on pickletools
    report = scan(data)
    call = one(report, "MH101")
    assert call.category.value == "command-exec"
    assert call.evidence == "os.system('echo framed')"
    assert call.location.offset == data.index(b"R.")  # the REDUCE, in the file's offsets
    mismatch = one(report, "MH120")
    assert mismatch.location.offset == len(PROTO4) + 9  # the BINBYTES that runs over
    assert "straddle" in mismatch.evidence
    assert report.verdict is Verdict.MALICIOUS


def test_nested_frame_longer_than_the_open_one_hides_a_call() -> None:
    tail = binbytes(len(PAYLOAD) - 1)  # linear: a BINBYTES over the payload; block reader: skipped
    inner = frame(len(PAYLOAD))
    data = PROTO4 + frame(len(inner) + len(tail)) + inner + tail + PAYLOAD
    assert "STACK_GLOBAL" not in linear_ops(data)
    report = scan(data)
    assert one(report, "MH101").category.value == "command-exec"
    mismatch = one(report, "MH120")
    assert mismatch.location.offset == len(PROTO4) + 9  # the nested FRAME
    assert "nested" in mismatch.evidence


def test_global_line_cut_by_the_frame_end_is_read_after_the_frame() -> None:
    # The frame ends inside GLOBAL's module line: the block reader drops "decoy" and reads the line
    # after the frame ("posix"), the linear reader imports "decoyposix".
    body = b"cdecoy"
    data = PROTO4 + frame(len(body)) + body + b"posix\nsystem\n" + b"\x8c\x0becho framed\x85R."
    report = scan(data)
    call = one(report, "MH101")
    assert call.evidence == "os.system('echo framed')"
    assert "MH120" in rules(report)


def test_frame_longer_than_the_stream_fails_every_loader() -> None:
    data = PROTO4 + frame(1000) + b"\x8c\x02ok."
    report = scan(data)
    broken = [f for f in report.findings if f.rule == "MH901" and "every unpickler fails" in f.message]
    assert len(broken) == 1, summary(report)
    assert broken[0].location.offset == len(PROTO4)
    assert report.verdict is not Verdict.CLEAN


def test_nested_frame_that_fits_is_reported_but_reads_the_same() -> None:
    inner_body = b"\x8c\x02ok."
    inner = frame(len(inner_body)) + inner_body
    data = PROTO4 + frame(len(inner)) + inner
    report = scan(data)
    assert one(report, "MH120").location.offset == len(PROTO4) + 9
    assert "MH101" not in rules(report)


@pytest.mark.quiet("MH120")
def test_frames_ending_between_an_opcode_and_its_argument_agree() -> None:
    # The C pickler writes a large bytes object's header into the frame and its data after it; a
    # frame may also end right after an opcode byte. Every reader agrees: no finding.
    big = b"\x00" * 300
    first = b"\x8c\x01a" + binbytes(len(big))  # frame ends after BINBYTES' length field
    second = b"\x86."  # TUPLE2, STOP
    data = PROTO4 + frame(len(first)) + first + big + frame(len(second)) + second
    report = scan(data)
    assert "MH120" not in rules(report)
    assert report.findings == [], summary(report)
    assert report.verdict is Verdict.CLEAN


@pytest.mark.quiet("MH120")
def test_benign_framed_pickle_from_many_frames_stays_clean() -> None:
    # A list of 2,000 short strings in frames of 64 bytes, each ending on an opcode boundary.
    ops = [b"]", b"("]
    ops += [b"\x8c\x04" + f"w{i:03d}".encode()[:4] for i in range(2000)]
    ops += [b"e", b"."]
    framed, chunk = PROTO4, b""
    for op in ops:
        if len(chunk) + len(op) > 64:
            framed += frame(len(chunk)) + chunk
            chunk = b""
        chunk += op
    framed += frame(len(chunk)) + chunk
    report = scan(framed)
    assert "MH120" not in rules(report)
    assert report.findings == [], summary(report)
    assert report.verdict is Verdict.CLEAN


def test_fixed_size_argument_cut_by_the_frame_end_is_read_after_the_frame() -> None:
    # BININT has two of its four bytes in the frame: the block reader takes all four after the frame
    # and runs what follows; the linear reader reads a SHORT_BINBYTES over the call instead.
    body = b"J\x01\x02"
    after = b"\x00\x00C" + bytes([len(PAYLOAD) - 1])
    data = PROTO4 + frame(len(body)) + body + after + PAYLOAD
    assert "STACK_GLOBAL" not in linear_ops(data)
    report = scan(data)
    assert one(report, "MH101").evidence == "os.system('echo framed')"
    assert one(report, "MH120").location.offset == len(PROTO4) + 9
