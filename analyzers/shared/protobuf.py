"""A bounded protobuf wire-format reader over a ``ByteSource`` (no generated classes, no runtime).

Messages are walked lazily: a field's value is an offset range, so a multi-gigabyte ONNX model or
SavedModel is analyzed by reading its tags and the few small fields the analysis needs, skipping
tensor payloads. Reads go through a small block cache.
"""

from __future__ import annotations

from collections.abc import Iterator

from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.shared.source import ByteSource
from malhug.core.record import Record

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5
BLOCK = 64 * 1024


class CachedSource:
    """Block-cached reads of a ``ByteSource`` (protobuf parsing issues many tiny reads)."""

    def __init__(self, src: ByteSource, block: int = BLOCK):
        self.src = src
        self.size = src.size
        self._block = block
        self._start = -1
        self._data = b""

    def read(self, offset: int, n: int) -> bytes:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise MalformedInput(f"protobuf: read of {n} bytes at {offset} past the end", offset)
        if n > self._block:
            return self.src.read_at(offset, n)
        if not (self._start <= offset and offset + n <= self._start + len(self._data)):
            self._start = offset
            self._data = self.src.read_at(offset, max(self._block, n))
        rel = offset - self._start
        return self._data[rel : rel + n]


class Field(Record):
    """One field of a protobuf message (a ``Record``: immutable, compared by value)."""

    number: int
    wire: int
    value: int  # the varint / fixed value, or the payload length for LEN fields
    offset: int  # where the payload starts

    __slots__ = ("number", "wire", "value", "offset")

    def __init__(self, number: int, wire: int, value: int, offset: int):
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "wire", wire)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "offset", offset)

    @property
    def end(self) -> int:
        return self.offset + self.value if self.wire == LEN else self.offset


class ProtoReader:
    """Iterates the fields of messages inside one source; ``max_fields`` bounds all work."""

    def __init__(self, src: ByteSource | CachedSource, max_fields: int = 20_000_000):
        self.src = src if isinstance(src, CachedSource) else CachedSource(src)
        self.max_fields = max_fields
        self.fields_read = 0

    @property
    def size(self) -> int:
        return self.src.size

    def _varint(self, pos: int, end: int) -> tuple[int, int]:
        window = self.src.read(pos, min(10, end - pos)) if pos < end else b""
        result = 0
        shift = 0
        for i, b in enumerate(window):
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result, pos + i + 1
            shift += 7
        if len(window) < 10:
            raise MalformedInput("protobuf: truncated varint", pos)
        raise MalformedInput("protobuf: varint too long", pos)

    def fields(self, start: int = 0, end: int | None = None) -> Iterator[Field]:
        end = self.size if end is None else end
        if end > self.size or start < 0 or start > end:
            raise MalformedInput(f"protobuf: message range {start}..{end} outside the data", start)
        pos = start
        while pos < end:
            self.fields_read += 1
            if self.fields_read > self.max_fields:
                raise LimitExceeded("protobuf fields", self.max_fields, self.fields_read)
            key, pos = self._varint(pos, end)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise MalformedInput("protobuf: field number 0", pos)
            if wire == VARINT:
                value, pos = self._varint(pos, end)
                yield Field(number, wire, value, pos)
            elif wire == I64:
                if pos + 8 > end:
                    raise MalformedInput("protobuf: truncated fixed64", pos)
                yield Field(number, wire, int.from_bytes(self.src.read(pos, 8), "little"), pos)
                pos += 8
            elif wire == I32:
                if pos + 4 > end:
                    raise MalformedInput("protobuf: truncated fixed32", pos)
                yield Field(number, wire, int.from_bytes(self.src.read(pos, 4), "little"), pos)
                pos += 4
            elif wire == LEN:
                length, pos = self._varint(pos, end)
                if pos + length > end:
                    raise MalformedInput(f"protobuf: field {number} length {length} past the message end", pos)
                yield Field(number, wire, length, pos)
                pos += length
            else:
                raise MalformedInput(f"protobuf: unsupported wire type {wire} (field {number})", pos)

    def bytes_of(self, f: Field, limit: int) -> bytes:
        if f.wire != LEN:
            raise MalformedInput(f"protobuf: field {f.number} is not length-delimited", f.offset)
        if f.value > limit:
            raise LimitExceeded(f"protobuf field {f.number} size", limit, f.value)
        return self.src.read(f.offset, f.value)

    def text_of(self, f: Field, limit: int = 1024 * 1024) -> str:
        return self.bytes_of(f, limit).decode("utf-8", "replace")

    def sub(self, f: Field) -> Iterator[Field]:
        """The fields of an embedded message."""
        if f.wire != LEN:
            raise MalformedInput(f"protobuf: field {f.number} is not a message", f.offset)
        return self.fields(f.offset, f.end)
