"""Fuzz target: the language server's message loop (frame reader + dispatcher), in process.

Hypothesis builds streams of frames, good and broken (mutated headers and lengths, missing blank lines,
raw garbage, bodies that are not JSON, JSON-RPC messages whose params have the wrong types), fed in
random read sizes to ``FrameReader`` and ``Dispatcher`` on a real, initialized ``MalhugServer``. On
every input: no exception escapes, buffering stays under its bound, every reply is a well-formed frame
with a JSON-RPC error code where it is an error, and a valid request sent after the garbage is parsed.
The seed corpus is the set of broken frames of ``tests/server/test_hostile_stdio.py``.
"""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from malhug.server.framing import FrameReader
from malhug.server.main import build_server
from malhug.server.transport import Dispatcher
from tests.fuzz.harness import count
from tests.server.rawlsp import BROKEN_FRAMES, Sink

MAX_FRAME = 2048
MAX_HEADER = 512
CODES = {-32700, -32600, -32601, -32602, -32603, -32800}
# Methods whose handlers run synchronously (no event loop in this in-process harness); shutdown and exit
# are left out (they end the session by design), as are server-bound responses.
METHODS = [
    "textDocument/hover",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "textDocument/didSave",
    "textDocument/diagnostic",
    "workspace/diagnostic",
    "$/cancelRequest",
    "$/setTrace",
    "malhug/noSuchMethod",
]
KEYS = [
    "textDocument",
    "uri",
    "position",
    "line",
    "character",
    "text",
    "version",
    "languageId",
    "contentChanges",
    "range",
    "start",
    "end",
    "id",
    "previousResultIds",
    "value",
]


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


SENTINEL = frame(json.dumps({"jsonrpc": "2.0", "id": "sentinel", "method": "malhug/noSuchMethod"}).encode())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["file:///w/a.py", "python", "", "file:///w/x.bin"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=20,
)
ids = st.one_of(st.integers(min_value=-(2**63), max_value=2**63), st.text(max_size=8), st.none(), st.booleans())


@st.composite
def messages(draw: Any) -> bytes:
    msg: dict[str, Any] = {"jsonrpc": draw(st.sampled_from(["2.0", "2.0", "2.0", "1.0"]))}
    if draw(st.booleans()):
        msg["id"] = draw(ids)
    msg["method"] = draw(st.sampled_from(METHODS))
    if draw(st.booleans()):
        msg["params"] = draw(values)
    text = json.dumps(msg)
    if draw(st.booleans()):  # the numbers JSON allows and Python reads as infinity
        text = text.replace("0", "1e400", 1)
    return text.encode()


@st.composite
def segments(draw: Any) -> bytes:
    body = draw(messages())
    kind = draw(
        st.sampled_from(
            ["good", "length-text", "length-delta", "length-huge", "no-blank", "garbage", "not-json", "headers"]
        )
    )
    if kind == "good":
        return frame(body)
    if kind == "length-text":
        value = draw(st.text(alphabet="0123456789-+ .eabcx\t", max_size=25)).encode()
        return b"Content-Length: " + value + b"\r\n\r\n" + body
    if kind == "length-delta":
        return b"Content-Length: %d\r\n\r\n" % max(0, len(body) + draw(st.integers(-40, 40))) + body
    if kind == "length-huge":
        return b"Content-Length: %d\r\n\r\n" % draw(st.sampled_from([MAX_FRAME + 1, 2**31, 2**40, 2**63])) + body
    if kind == "no-blank":
        return b"Content-Length: %d\r\n" % len(body) + body
    if kind == "garbage":
        return bytes(draw(st.binary(max_size=600)))
    if kind == "not-json":
        return frame(draw(st.binary(max_size=200)))
    name = draw(st.sampled_from([b"Content-Length", b"content-length", b"CONTENT-LENGTH ", b"Content-Type"]))
    extra = draw(st.sampled_from([b"", b"Content-Type: application/vscode-jsonrpc\r\n", b"X: y\r\n", b"\r\n"]))
    return extra + name + b": %d\r\n" % len(body) + extra + b"\r\n" + body


class Recording(Dispatcher):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.ids: list[Any] = []

    def dispatch_message(self, data: dict[str, Any]) -> None:
        self.ids.append(data.get("id"))
        super().dispatch_message(data)


def run(stream: bytes, step: int) -> None:
    server, _components = build_server()
    try:
        sink = Sink()
        server.protocol.set_writer(sink)
        dispatcher = Recording(server.protocol, lambda *args: None)
        init = {"processId": None, "capabilities": {}, "rootUri": "file:///w"}
        dispatcher.dispatch_message({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": init})
        source = io.BytesIO(stream + SENTINEL)
        reader = FrameReader(lambda n: source.read(min(n, step)), max_frame=MAX_FRAME, max_header=MAX_HEADER)
        while (got := reader.next_frame()) is not None:
            dispatcher.dispatch(got)
        # bounded buffering: a frame at the limit, a header block at its limit and a read or two of slack
        assert reader.peak_buffer <= MAX_FRAME + MAX_HEADER + 2 * step + 200, reader.peak_buffer
        # the request after the garbage was read and handed to the protocol, which answered it
        assert "sentinel" in dispatcher.ids
        # every reply the server wrote is a well-formed frame, and every error has a JSON-RPC code
        replies = FrameReader(io.BytesIO(bytes(sink.out)).read1)
        answered: list[Any] = []
        while (out := replies.next_frame()) is not None:
            assert out.error is None and out.body is not None, out
            reply = json.loads(out.body)
            if "error" in reply and "method" not in reply:
                assert reply["error"]["code"] in CODES, reply
            answered.append(reply.get("id"))
        assert "sentinel" in answered  # MethodNotFound
    finally:
        server.shutdown_pools()


def with_seed_corpus(test: Any) -> Any:
    """Every seed (the broken frames of the stdio regression tests) runs as an explicit example."""
    for seed in BROKEN_FRAMES.values():
        test = example([seed], 4096)(test)
    return test


@given(st.lists(segments(), max_size=6), st.integers(min_value=1, max_value=700))
@example([b"Content-Length: 10\r\n\r\n"], 3)  # the declared body ends inside the next header
@example([b"Content-Length: %d\r\n\r\n" % (MAX_FRAME + 60)], 7)  # a dropped frame ends inside it
@example([b"\r\n\r\n", b"Content-Length: 5\r\n"], 700)
@with_seed_corpus
def test_fuzz_lsp_message_loop(parts: list[bytes], step: int) -> None:
    count("lsp")
    run(b"".join(parts), step)
