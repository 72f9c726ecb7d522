"""The stdio transport: bounded frames in, every request answered, the stream kept in step.

Replaces pygls's stdio loop (``JsonRPCServer.start_io``), which parses a body with the message types as
``json.loads`` hook: a body that is not JSON or params that do not fit their type raise before the
request id is known, so the request never gets a reply. Here the body is parsed to plain JSON first,
then structured with ``protocol.structure_message`` and handed to ``protocol.handle_message``:

- a frame that cannot be read or a body that is not JSON: ``ParseError`` (-32700) with id null;
- a JSON value that is not a JSON-RPC message: ``InvalidRequest`` (-32600), with its id when it has one;
- a request whose params do not fit the method's types: ``InvalidParams`` (-32602) with its id; a
  notification with bad params is logged and dropped;
- a frame over the size limit is dropped unread; a request among them is answered with ``InvalidRequest``
  when its id can be read from the frame's first bytes, and ``on_dropped`` is told of a dropped
  ``didOpen``/``didChange`` so the document is flagged (MH902) instead of silently missing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, BinaryIO

from cattrs import ClassValidationError, transform_error
from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.protocol import JsonRPCProtocol
from pygls.server import JsonRPCServer

from malhug.server.framing import MAX_FRAME_BYTES, Frame, FrameReader

log = logging.getLogger("malhug.server.transport")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
CANCEL_REQUEST = "$/cancelRequest"
QUEUED_FRAMES = 1  # frames read ahead of the dispatcher (memory: at most this many + 2 frames in flight)
_SHOWN = 200  # characters of a fault shown in an error message

# Fields of a dropped frame, read from its first bytes (clients write id and method before params).
_ID = re.compile(rb'"id"\s*:\s*(-?\d{1,19}|"(?:[^"\\]|\\.){0,200}")')
_METHOD = re.compile(rb'"method"\s*:\s*"([A-Za-z/$_]{1,100})"')
_URI = re.compile(rb'"uri"\s*:\s*("(?:[^"\\]|\\.){1,4000}")')
_LANGUAGE = re.compile(rb'"languageId"\s*:\s*("(?:[^"\\]|\\.){1,100}")')

DroppedHook = Callable[[str, str, str | None, int], None]  # (method, uri, languageId, size)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _short(text: object) -> str:
    shown = str(text)
    return shown if len(shown) <= _SHOWN else shown[:_SHOWN] + "..."


def _explain(exc: BaseException) -> str:
    """Where the params went wrong (``$.params.position.line: ...``), from cattrs's error tree."""
    cause = exc.__cause__
    if isinstance(cause, ClassValidationError):
        return "; ".join(transform_error(cause, path="$")[:3])
    return str(cause or exc)


def _valid_id(value: Any) -> bool:
    return value is None or (isinstance(value, int | str) and not isinstance(value, bool))


def _json_string(raw: bytes) -> str | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def peek(head: bytes) -> tuple[Any, str | None, str | None, str | None]:
    """``(id, method, uri, languageId)`` from the first bytes of a frame (``None`` where not found)."""
    cut = head.find(b'"params"')
    envelope = head if cut < 0 else head[:cut]
    msg_id: Any = None
    if (found := _ID.search(envelope)) is not None:
        raw = found.group(1)
        msg_id = _json_string(raw) if raw.startswith(b'"') else int(raw)
    method = found.group(1).decode() if (found := _METHOD.search(envelope)) is not None else None
    uri = _json_string(found.group(1)) if (found := _URI.search(head)) is not None else None
    language = _json_string(found.group(1)) if (found := _LANGUAGE.search(head)) is not None else None
    return msg_id, method, uri, language


class Dispatcher:
    """Turns frames into pygls messages; answers what pygls cannot (runs on the event loop)."""

    def __init__(self, protocol: JsonRPCProtocol, on_dropped: DroppedHook | None = None):
        self.protocol = protocol
        self.on_dropped = on_dropped

    def _finished(self, params: Any) -> bool:
        """True for a ``$/cancelRequest`` of a request that is already answered (or never existed).

        Clients cancel requests they no longer need, often after the answer went out (VS Code does so for
        every superseded hover and code action): nothing to do, so it is logged at debug level, not as
        pygls's warning for each one.
        """
        futures = getattr(self.protocol, "_request_futures", None)
        msg_id = params.get("id") if isinstance(params, dict) else None
        if not isinstance(futures, dict) or not _valid_id(msg_id) or msg_id is None or msg_id in futures:
            return False
        log.debug("cancel of request %r: already answered", msg_id)
        return True

    def send_error(self, msg_id: Any, code: int, message: str) -> None:
        writer = self.protocol.writer
        if writer is None:
            log.warning("cannot answer (no transport): %s", message)
            return
        body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})
        data = f"Content-Length: {len(body)}\r\n\r\n{body}".encode()  # json.dumps output is ASCII
        writer.write(data)

    def dispatch(self, frame: Frame) -> None:
        if frame.error is not None:
            log.warning("malformed LSP frame: %s", frame.error)
            self._answer_broken(frame)
        if frame.body is not None:
            self.dispatch_body(frame.body)

    def _answer_broken(self, frame: Frame) -> None:
        reason = _short(frame.error)
        msg_id, method, uri, language = peek(frame.head) if frame.head else (None, None, None, None)
        if method is not None and msg_id is not None:
            self.send_error(msg_id, INVALID_REQUEST, f"{method}: {reason}")
        else:
            self.send_error(None, PARSE_ERROR, reason)
        if method is not None and uri is not None and self.on_dropped is not None and frame.size:
            try:
                self.on_dropped(method, uri, language, frame.size)
            except Exception as exc:  # e.g. a document before initialize: logged, the session goes on
                log.error("flagging the dropped %s of %s failed: %s", method, uri, exc, exc_info=exc)

    def dispatch_body(self, body: bytes) -> None:
        try:
            data = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            log.warning("LSP body is not JSON: %s", _short(exc))
            self.send_error(None, PARSE_ERROR, f"body is not JSON: {_short(exc)}")
            return
        if not isinstance(data, dict):
            self.send_error(None, INVALID_REQUEST, f"expected a JSON-RPC message object, got {type(data).__name__}")
            return
        self.dispatch_message(data)

    def dispatch_message(self, data: dict[str, Any]) -> None:
        msg_id = data.get("id")
        is_request = "id" in data and "method" in data
        reply_id = msg_id if _valid_id(msg_id) else None
        method = data.get("method")
        if data.get("jsonrpc") != "2.0" or ("method" in data and not isinstance(method, str)) or not _valid_id(msg_id):
            if "id" in data:
                self.send_error(reply_id, INVALID_REQUEST, "not a JSON-RPC 2.0 message (jsonrpc, id or method)")
            else:
                log.warning("dropped a message that is not JSON-RPC 2.0")
            return
        if (
            isinstance(method, str)
            and is_request
            and "params" not in data
            and not self.protocol.get_message_type(method)
        ):
            data = {**data, "params": None}  # params may be omitted; pygls's generic request type wants the key
        if method == CANCEL_REQUEST and not is_request and self._finished(data.get("params")):
            return
        try:
            message = self.protocol.structure_message(data)
        except JsonRpcException as exc:  # pygls wraps every cattrs failure in InvalidParams or InternalError
            text = f"invalid params for {method or 'response'}: {_short(_explain(exc))}"
            if is_request:
                self.send_error(reply_id, INVALID_PARAMS, text)
            else:
                log.warning("dropped %s", text)
            return
        try:
            self.protocol.handle_message(message)
        except Exception as exc:  # pygls answers handler failures itself; this is a failure of pygls
            log.error("internal error handling %s: %s: %s", method, type(exc).__name__, _short(exc), exc_info=exc)
            if is_request:
                self.send_error(reply_id, INTERNAL_ERROR, f"{method}: {type(exc).__name__}: {_short(exc)}")


async def serve_frames(reader: FrameReader, dispatcher: Dispatcher) -> None:
    """Dispatch frames until the end of input; the blocking reads run in a daemon thread."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Frame | None] = asyncio.Queue(maxsize=QUEUED_FRAMES)

    def put(item: Frame | None) -> None:
        asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

    def pump() -> None:
        try:
            while (frame := reader.next_frame()) is not None:
                put(frame)
        except Exception as exc:  # a failing stdin ends the session; said on stderr, never silent
            log.error("reading the LSP input failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
        finally:
            try:
                put(None)  # the end of input (or of a broken one) ends the session
            except RuntimeError as exc:  # the loop already stopped (exit): nobody is left to tell
                log.debug("end of LSP input after the event loop stopped: %s", exc)

    threading.Thread(target=pump, name="malhug-lsp-reader", daemon=True).start()
    while (frame := await queue.get()) is not None:
        dispatcher.dispatch(frame)
    log.info("end of LSP input")


def _raw_reader(stdin: BinaryIO) -> Callable[[int], bytes]:
    """Reads of the file descriptor itself: the reader thread is a daemon blocked in a read, and a
    ``BufferedReader`` would hold its lock into interpreter shutdown (a fatal error at exit)."""
    try:
        fd = stdin.fileno()
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return getattr(stdin, "read1", stdin.read)
    return partial(os.read, fd)


def start_stdio(
    server: JsonRPCServer,
    stdin: BinaryIO,
    stdout: BinaryIO,
    *,
    on_dropped: DroppedHook | None = None,
    max_frame: int = MAX_FRAME_BYTES,
) -> None:
    """``server.start_io`` with the bounded reader (same exit behaviour as pygls's)."""
    reader = FrameReader(_raw_reader(stdin), max_frame=max_frame)
    server.protocol.set_writer(StdoutWriter(stdout))
    dispatcher = Dispatcher(server.protocol, on_dropped)
    try:
        asyncio.run(serve_frames(reader, dispatcher))
    except BrokenPipeError:
        log.error("connection to the client is lost; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass  # ``exit`` ends the process through SystemExit, as in pygls
    finally:
        server.shutdown()
