"""The bounded frame reader and the dispatcher, in process: faults reported once, the stream resynchronised,
buffering bounded (checked with the reader's counters, never with timings)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from malhug.server.framing import BODY_CHUNK, HEAD_BYTES, HEADER_CHUNK, Frame, FrameReader
from malhug.server.main import build_server
from malhug.server.transport import INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR, Dispatcher, peek
from tests.server import rawlsp


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def body(n: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": n, "method": "shutdown"}).encode()


def frames(data: bytes, *, step: int | None = None, **kwargs: Any) -> tuple[list[Frame], FrameReader]:
    stream = io.BytesIO(data)
    read = stream.read1 if step is None else (lambda n: stream.read(min(n, step)))
    reader = FrameReader(read, **kwargs)
    out = []
    while (got := reader.next_frame()) is not None:
        out.append(got)
    return out, reader


def bodies(got: list[Frame]) -> list[bytes]:
    return [f.body for f in got if f.body is not None]


def errors(got: list[Frame]) -> list[str]:
    return [f.error for f in got if f.error is not None]


@pytest.mark.parametrize("step", [None, 1, 7])
def test_good_frames_in_any_read_sizes(step: int | None) -> None:
    data = frame(body(1)) + b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n" + frame(body(2))
    got, _ = frames(data, step=step)
    assert bodies(got) == [body(1), body(2)] and errors(got) == []


BAD = body(1)
CASES = {
    "length-not-a-number": (b"Content-Length: abc\r\n\r\n" + BAD, "not a number"),
    "length-negative": (b"Content-Length: -3\r\n\r\n" + BAD, "not a number"),
    "length-too-many-digits": (b"Content-Length: " + b"9" * 40 + b"\r\n\r\n" + BAD, "not a number"),
    "no-length": (b"Content-Type: x\r\n\r\n" + BAD, "without a Content-Length"),
    "too-short": (b"Content-Length: %d\r\n\r\n" % (len(BAD) - 4) + BAD, "bytes outside a frame"),
    "too-long": (b"Content-Length: %d\r\n\r\n" % (len(BAD) + 50) + BAD, "longer than the body"),
    "no-blank-line": (b"Content-Length: %d\r\n" % len(BAD) + BAD, "bytes outside a frame"),
    "huge": (b"Content-Length: %d\r\n\r\n" % 2**40 + BAD, "over the limit"),
    # the declared body ends inside the next frame's header line
    "length-cuts-next-header": (b"Content-Length: 10\r\n\r\n", "longer than the body"),
    "huge-cuts-next-header": (b"Content-Length: %d\r\n\r\n" % 2**40 + b"x" * 30, "over the limit"),
}


@pytest.mark.parametrize(("data", "reason"), list(CASES.values()), ids=list(CASES))
def test_fault_reported_once_and_next_frame_read(data: bytes, reason: str) -> None:
    got, _ = frames(data + frame(body(2)))
    assert bodies(got)[-1] == body(2)
    assert len(errors(got)) == 1 and reason in errors(got)[0], errors(got)


def test_stray_blank_lines_are_not_faults() -> None:
    got, _ = frames(b"\r\n\r\n" + frame(body(1)) + b"\r\n\r\n\r\n\r\n" + frame(body(2)))
    assert bodies(got) == [body(1), body(2)] and errors(got) == []


def test_end_of_input_inside_a_body() -> None:
    got, _ = frames(b"Content-Length: 100\r\n\r\n{}")
    assert errors(got) == ["end of input inside a frame"] and bodies(got) == []


def test_oversize_frame_is_dropped_in_chunks_and_its_head_kept() -> None:
    big = b'{"jsonrpc": "2.0", "id": 7, "method": "textDocument/hover", "params": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    got, reader = frames(frame(big) + frame(body(2)), max_frame=1024 * 1024)
    assert bodies(got) == [body(2)]
    dropped = got[0]
    assert dropped.size == len(big) and dropped.head == big[:HEAD_BYTES] and "over the limit" in str(dropped.error)
    assert peek(dropped.head)[:2] == (7, "textDocument/hover")
    assert reader.dropped >= len(big)
    assert reader.peak_buffer <= HEADER_CHUNK + BODY_CHUNK + 1024  # never the frame itself


def test_lying_huge_length_never_buffers_what_follows() -> None:
    """2^40 announced, 20 MB of filler sent: dropped in chunks, the buffer stays small."""
    filler = b"x" * (20 * 1024 * 1024)
    got, reader = frames(b"Content-Length: %d\r\n\r\n" % 2**40 + filler)
    assert errors(got) == [f"frame of {2**40} bytes is over the limit of {64 * 1024 * 1024} bytes; dropped"]
    assert reader.peak_buffer <= HEADER_CHUNK + BODY_CHUNK


def test_endless_garbage_is_one_fault_and_bounded() -> None:
    got, reader = frames(b"\x00garbage" * (2 * 1024 * 1024) + frame(body(1)))
    assert errors(got) == ["no frame header found"]
    assert bodies(got) == [body(1)]
    assert reader.peak_buffer <= 2 * HEADER_CHUNK + 8 * 1024


def test_header_cut_across_the_garbage_trim_is_kept() -> None:
    """Garbage long enough to be trimmed, ending right inside a header line: the frame is still read."""
    got, _ = frames(b"z" * (HEADER_CHUNK - 5) + frame(body(1)), step=HEADER_CHUNK)
    assert bodies(got) == [body(1)]


def test_frame_exactly_at_the_limit_is_read() -> None:
    data = b'"' + b"a" * 998 + b'"'
    got, _ = frames(frame(data) + frame(data + b" "), max_frame=1000)
    assert bodies(got) == [data] and "over the limit" in errors(got)[0]


# --- the dispatcher


class Sink(rawlsp.Sink):
    def replies(self) -> list[dict[str, Any]]:
        got, _ = frames(bytes(self.out))
        return [json.loads(b) for b in bodies(got)]


@pytest.fixture()
def wired() -> Iterator[tuple[Dispatcher, Sink, list[tuple[str, str, str | None, int]]]]:
    server, _components = build_server()
    sink = Sink()
    server.protocol.set_writer(sink)
    dropped: list[tuple[str, str, str | None, int]] = []
    yield Dispatcher(server.protocol, lambda *args: dropped.append(args)), sink, dropped
    server.shutdown_pools()


def test_dispatcher_answers_each_kind_of_bad_message(wired: Any) -> None:
    dispatcher, sink, _ = wired
    for data in (
        b"{nope",
        b"\xff\xfe",
        b"[" * 50_000,
        b'{"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover", "params": null}',
        b'{"jsonrpc": "2.0", "id": "s", "method": "textDocument/hover", "params": {"position": {"line": -1}}}',
        b'{"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {"x": Infinity}}',
        b'{"jsonrpc": "2.0", "id": true, "method": "shutdown"}',
        b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": 5}',
        b'"just a string"',
    ):
        dispatcher.dispatch(Frame(data))
    got = [(r["id"], r["error"]["code"]) for r in sink.replies()]
    assert got == [
        (None, PARSE_ERROR),
        (None, PARSE_ERROR),
        (None, PARSE_ERROR),
        (1, INVALID_PARAMS),
        ("s", INVALID_PARAMS),
        (None, PARSE_ERROR),
        (None, INVALID_REQUEST),
        (None, INVALID_REQUEST),
    ]


def test_dispatcher_answers_a_dropped_request_and_flags_a_dropped_document(wired: Any) -> None:
    dispatcher, sink, dropped = wired
    request = b'{"jsonrpc": "2.0", "id": 12, "method": "textDocument/codeAction", "params": {"te'
    dispatcher.dispatch(Frame(None, "frame of 99999999 bytes is over the limit", request, 99_999_999))
    opened = (
        b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": '
        b'{"uri": "file:///w/big.py", "languageId": "python", "version": 1, "text": "aaaa'
    )
    dispatcher.dispatch(Frame(None, "frame of 88888888 bytes is over the limit", opened, 88_888_888))
    assert [(r["id"], r["error"]["code"]) for r in sink.replies()] == [(12, INVALID_REQUEST), (None, PARSE_ERROR)]
    assert dropped == [("textDocument/didOpen", "file:///w/big.py", "python", 88_888_888)]
