"""A bounded reader of LSP base-protocol frames (``Content-Length: N\\r\\n\\r\\n`` + N bytes of JSON).

pygls trusts every header: a length that is not a number, missing or wrong leaves its loop out of step
with the stream for good, and a huge one makes it read (and allocate) that many bytes. This reader:

- buffers at most ``max_header`` bytes while looking for a header, and at most ``max_frame`` bytes of
  body; a longer frame is read and dropped in chunks (its first ``HEAD_BYTES`` are kept so the caller
  can still answer the request or flag the document);
- resynchronises on the next ``Content-Length: <digits>\\r\\n`` line. A raw CR LF cannot occur inside a
  JSON string and clients put no line breaks between JSON tokens, so that line inside a declared body
  means the declared length was wrong: the frame is reported and the new header is read;
- reports each framing fault once (``Frame.error``); the garbage that follows a fault until the next
  header is skipped without another report.

It only reads and splits bytes; what a body means is ``malhug.server.transport``'s business.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

MAX_FRAME_BYTES = 64 * 1024 * 1024  # larger than any document the server accepts (maxDocumentBytes), JSON-escaped
MAX_HEADER_BYTES = 8 * 1024
HEAD_BYTES = 4096  # kept from a dropped frame: enough for its id, method and document uri
HEADER_CHUNK = 64 * 1024
BODY_CHUNK = 256 * 1024

_SEP = b"\r\n\r\n"
_LENGTH = re.compile(rb"content-length[ \t]{0,8}:", re.IGNORECASE)
# A complete Content-Length line: where a new frame starts. Bounded, so a match spans at most _MARK_MAX bytes.
_MARK = re.compile(rb"content-length[ \t]{0,8}:[ \t]{0,8}\d{1,20}[ \t]{0,8}\r\n", re.IGNORECASE)
_MARK_MAX = 80


def _prefix_pattern(parts: list[bytes]) -> bytes:
    """A regex matching any non-empty prefix of the sequence ``parts``."""
    pattern = parts[-1]
    for part in reversed(parts[:-1]):
        pattern = part + b"(?:" + pattern + b")?"
    return pattern


# The buffer ends inside what may become a _MARK (a prefix of one).
_PARTIAL = re.compile(
    _prefix_pattern(
        [bytes([c]) for c in b"content"]
        + [b"-"]
        + [bytes([c]) for c in b"length"]
        + [rb"[ \t]{0,8}", b":", rb"[ \t]{0,8}", rb"\d{1,20}", rb"[ \t]{0,8}", b"\r"]
    )
    + rb"\Z",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(rb"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}[ \t]*:[^\r\n]*")  # RFC 9110 token ":" value
_MAX_DIGITS = 20


class Frame(NamedTuple):
    """One unit read from the stream.

    ``body`` is a complete body (``None`` when the frame was broken or dropped); ``error`` a framing fault
    to report (it may come with a body: garbage before a good header); ``head`` the first bytes of a
    dropped frame; ``size`` its declared length.
    """

    body: bytes | None
    error: str | None = None
    head: bytes = b""
    size: int = 0


class FrameReader:
    """Reads frames from ``read`` (a ``read1``-like callable: up to n bytes, ``b""`` at end of input)."""

    def __init__(
        self,
        read: Callable[[int], bytes],
        *,
        max_frame: int = MAX_FRAME_BYTES,
        max_header: int = MAX_HEADER_BYTES,
    ):
        self._read = read
        self.max_frame = max_frame
        self.max_header = max_header
        self._buf = bytearray()
        self._eof = False
        self._resyncing = False  # a fault was reported; skip quietly up to the next good frame
        # Work counters (tests check bounded buffering with them, never with timings).
        self.peak_buffer = 0
        self.dropped = 0

    # --- input
    def _fill(self, size: int) -> bool:
        if self._eof:
            return False
        data = self._read(size)
        if not data:
            self._eof = True
            return False
        self._buf += data
        self.peak_buffer = max(self.peak_buffer, len(self._buf))
        return True

    def _fault(self, reason: str, *, always: bool = False) -> str | None:
        """The fault to report: the first of an episode (or every one when ``always``)."""
        report = always or not self._resyncing
        self._resyncing = True
        return reason if report else None

    # --- frames
    def next_frame(self) -> Frame | None:
        """The next frame, or ``None`` at the end of input."""
        while True:
            header = self._header()
            if header is None:
                if not self._fill(HEADER_CHUNK):
                    return None
                continue
            length, error = header
            if length is None:
                if error is None:
                    continue  # an empty header block (stray blank lines): nothing to report
                return Frame(None, error)
            return self._body(length, error)

    def _header(self) -> tuple[int | None, str | None] | None:
        """``(length, fault)`` from the buffer, or ``None`` when more bytes are needed."""
        buf = self._buf
        end = buf.find(_SEP)
        if end < 0:
            if len(buf) > self.max_header:
                self._trim_garbage()
                return None if self._resyncing else (None, self._fault("no frame header found"))
            return None
        block = bytes(buf[:end])
        del buf[: end + len(_SEP)]
        starts = list(_LENGTH.finditer(block))
        if not starts:
            if not block.strip():
                return None, None
            return None, self._fault("frame without a Content-Length header")
        last = starts[-1]
        prefix, own = block[: last.start()], block[last.start() :]
        lines = own.split(b"\r\n")
        value = lines[0][last.end() - last.start() :].strip(b" \t")
        garbage = not _only_headers(prefix.split(b"\r\n")) or not _only_headers(lines[1:])
        if not value.isdigit() or len(value) > _MAX_DIGITS:
            return None, self._fault(f"Content-Length is not a number: {value[:_MAX_DIGITS]!r}")
        return int(value), (self._fault("bytes outside a frame") if garbage else None)

    def _trim_garbage(self) -> None:
        """Drop bytes that cannot start a header, keeping a possible partial header at the end."""
        buf = self._buf
        starts = list(_LENGTH.finditer(buf))
        keep_from = len(buf) - _MARK_MAX
        if starts and len(buf) - starts[-1].start() <= self.max_header:
            keep_from = starts[-1].start()
        keep_from = max(0, keep_from)
        self.dropped += keep_from
        del buf[:keep_from]

    def _marker_before(self, limit: int, start: int) -> int | None:
        """Where a new header starts in ``buf[start:limit]`` (it may end past ``limit``), or ``None``.

        When the buffered bytes end inside what could be such a header (``...\r\nContent-Le``), a few
        more bytes are read to decide. A JSON body never ends that way, so a well-formed stream never
        waits here.
        """
        buf = self._buf
        while True:
            mark = _MARK.search(buf, start, min(len(buf), limit + _MARK_MAX))
            if mark is not None and mark.start() < limit:
                return mark.start()
            if len(buf) < limit or len(buf) >= limit + _MARK_MAX:
                return None
            partial = _PARTIAL.search(buf, max(start, len(buf) - _MARK_MAX))
            if partial is None or partial.start() >= limit or not self._fill(_MARK_MAX):
                return None

    def _body(self, length: int, error: str | None) -> Frame:
        if length > self.max_frame:
            return self._discard(length)
        scanned = 0
        while True:
            start = max(0, scanned - _MARK_MAX)
            if len(self._buf) >= length:
                mark = self._marker_before(length, start)
            else:
                found = _MARK.search(self._buf, start)
                mark = None if found is None else found.start()
            buf = self._buf
            if mark is not None:  # the declared length runs into the next frame's header
                head = bytes(buf[: min(mark, HEAD_BYTES)])
                self.dropped += mark
                del buf[:mark]
                return Frame(None, self._fault("Content-Length is longer than the body", always=True), head, length)
            if len(buf) >= length:
                break
            scanned = len(buf)
            if not self._fill(min(BODY_CHUNK, length - len(buf))):
                return Frame(None, self._fault("end of input inside a frame", always=True), bytes(buf[:HEAD_BYTES]))
        body = bytes(buf[:length])
        if length > BODY_CHUNK:  # a bytearray keeps its capacity: do not hold a large frame's worth of it
            self._buf = bytearray(buf[length:])
        else:
            del buf[:length]
        self._resyncing = False
        return Frame(body, error)

    def _discard(self, length: int) -> Frame:
        """Read and drop a frame over ``max_frame`` without keeping it (stop early at a new header).

        Never waits for more than the stream has: a lying length followed by a normal frame is cut at
        that frame's header, whose bytes are already there.
        """
        head = bytearray()
        remaining = length

        def drop(count: int) -> None:
            buf = self._buf
            head.extend(buf[: min(count, HEAD_BYTES - len(head))])
            self.dropped += count
            del buf[:count]

        while True:
            if len(self._buf) >= remaining:
                mark = self._marker_before(remaining, 0)
                drop(remaining if mark is None else mark)
                break
            found = _MARK.search(self._buf)
            if found is not None:
                drop(found.start())
                break
            count = max(0, len(self._buf) - _MARK_MAX)  # keep a tail: a header may be split across reads
            drop(count)
            remaining -= count
            if not self._fill(BODY_CHUNK):
                break
        reason = f"frame of {length} bytes is over the limit of {self.max_frame} bytes; dropped"
        return Frame(None, self._fault(reason, always=True), bytes(head), length)


def _only_headers(lines: list[bytes]) -> bool:
    return all(not line or _HEADER_LINE.fullmatch(line) for line in lines)
