"""The protobuf wire format over a ``ByteSource``: one varint decoder, a strict reader, a sniffer.

- ``ProtoReader`` walks messages for the analyzers (no generated classes, no runtime). Messages are
  walked lazily: a field's value is an offset range, so a multi-gigabyte ONNX model or SavedModel
  is analyzed by reading its tags and the few small fields the analysis needs, skipping tensor
  payloads. Reads go through a small block cache. Bad wire data raises ``MalformedInput``.
- ``is_onnx`` / ``is_saved_model`` / ``is_keras_metadata`` recognise protobuf files for detection
  by validating a few fields of the wire format (never one byte): ONNX ``ModelProto``
  (ir_version=1, graph=7, opset_import=8), TensorFlow ``SavedModel`` (saved_model_schema_version=1,
  meta_graphs=2) and Keras ``SavedMetadata`` (nodes=1 whose entries carry JSON metadata with
  ``"class_name"``). They read a few windows and answer ``False`` on anything malformed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.shared.source import ByteSource

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5
BLOCK = 64 * 1024
MAX_VARINT_BYTES = 10


def decode_varint(buf: bytes, pos: int) -> tuple[int, int] | None:
    """The varint at ``buf[pos:]`` and the position after it; ``None`` when ``buf`` ends inside it or
    it runs past ``MAX_VARINT_BYTES``."""
    result = 0
    for shift in range(0, 7 * MAX_VARINT_BYTES, 7):
        if pos >= len(buf):
            return None
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
    return None


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


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a protobuf message."""

    number: int
    wire: int
    value: int  # the varint / fixed value, or the payload length for LEN fields
    offset: int  # where the payload starts (after the value for a varint)

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
        window = self.src.read(pos, min(MAX_VARINT_BYTES, end - pos)) if pos < end else b""
        got = decode_varint(window, 0)
        if got is not None:
            return got[0], pos + got[1]
        if len(window) < MAX_VARINT_BYTES:
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


# Detection: recognise a protobuf model from a few fields.

# ModelProto fields -> wire type.
_ONNX_MODEL = {1: VARINT, 2: LEN, 3: LEN, 4: LEN, 5: VARINT, 6: LEN, 7: LEN, 8: LEN, 14: LEN, 20: LEN, 25: LEN, 26: LEN}
# GraphProto fields (first tag of the graph payload).
_ONNX_GRAPH = {1, 2, 5, 10, 11, 12, 13, 14, 15, 16}
# MetaGraphDef fields (all messages or maps).
_META_GRAPH = {1, 2, 3, 4, 5, 6, 7}
# SavedObject (keras_metadata.pb node) fields: node_id=2 (int32), node_path=3, identifier=4, metadata=5,
# version=6 (VersionDef); 1 is reserved (some writers put a VersionDef there).
_SAVED_OBJECT = {1: LEN, 2: VARINT, 3: LEN, 4: LEN, 5: LEN, 6: LEN}

MAX_SKIPS = 6


def read_fields(src: ByteSource, start: int, end: int, window: int = 512, limit: int = 32) -> list[Field] | None:
    """Detection: the top-level fields of the message in ``[start, end)`` (up to ``limit``), read in
    at most ``MAX_SKIPS`` + 1 windows; long payloads are skipped by seeking. A fixed-size field
    is read as value 0.

    ``None`` when the bytes break the wire format (bad wire type, field 0, lengths past the end).
    """
    fields: list[Field] = []
    pos = start
    buf_at, buf = start, src.read_at(start, min(window, end - start))
    skips = 0
    while pos < end and len(fields) < limit:
        if pos - buf_at + 20 > len(buf) and buf_at + len(buf) < end:
            if skips >= MAX_SKIPS:
                break
            skips += 1
            buf_at, buf = pos, src.read_at(pos, min(window, end - pos))
        rel = pos - buf_at
        tag = decode_varint(buf, rel)
        if tag is None:
            return None
        key, rel = tag
        number, wire = key >> 3, key & 7
        if number == 0 or wire not in (VARINT, I64, LEN, I32):
            return None
        if wire == VARINT:
            got = decode_varint(buf, rel)
            if got is None:
                return None
            value, rel = got
            fields.append(Field(number, wire, value, buf_at + rel))
            pos = buf_at + rel
        elif wire == LEN:
            got = decode_varint(buf, rel)
            if got is None:
                return None
            length, rel = got
            payload = buf_at + rel
            if payload + length > end:
                return None
            fields.append(Field(number, wire, length, payload))
            pos = payload + length
        else:
            size = 8 if wire == I64 else 4
            fields.append(Field(number, wire, 0, buf_at + rel))
            pos = buf_at + rel + size
    if pos > end:
        return None
    return fields


def _first_tag(src: ByteSource, field: Field) -> tuple[int, int] | None:
    if field.wire != LEN or field.value == 0:
        return None
    got = decode_varint(src.read_at(field.offset, MAX_VARINT_BYTES), 0)
    if got is None:
        return None
    return got[0] >> 3, got[0] & 7


def is_onnx(src: ByteSource) -> bool:
    """A ``ModelProto``: an ``ir_version``, a graph or opset imports, known fields with their wire types.

    Fields ModelProto does not define are allowed anywhere, in any order, as protobuf parsers (and
    ``onnx.load``) skip them: requiring ``ir_version`` first or no unknown field would let a few
    appended or prepended fields talk detection out of analyzing the model.
    """
    fields = read_fields(src, 0, src.size)
    if not fields:
        return False
    known = [f for f in fields if f.number in _ONNX_MODEL]
    if any(_ONNX_MODEL[f.number] != f.wire for f in known):
        return False
    numbers = [f.number for f in known]
    if not any(f.number == 1 and 1 <= f.value <= 30 for f in known) or (7 not in numbers and 8 not in numbers):
        return False
    for f in fields:
        if f.number == 7:
            tag = _first_tag(src, f)
            if tag is None or tag[0] not in _ONNX_GRAPH or tag[1] != LEN:
                return False
        if f.number == 2 and f.value:
            name = src.read_at(f.offset, min(f.value, 64))
            if not name.isascii() or not name.decode("ascii").isprintable():
                return False
    return True


def is_saved_model(src: ByteSource) -> bool:
    fields = read_fields(src, 0, src.size, limit=8)
    if not fields:
        return False
    if fields[0].number == 1 and (fields[0].wire != VARINT or fields[0].value > 10):
        return False
    graphs = [f for f in fields if f.number == 2]
    if not graphs or any(f.number not in (1, 2) for f in fields):
        return False
    if any(f.number == 2 and f.wire != LEN for f in fields):
        return False
    tag = _first_tag(src, graphs[0])
    return tag is not None and tag[0] in _META_GRAPH and tag[1] == LEN


def is_keras_metadata(src: ByteSource) -> bool:
    fields = read_fields(src, 0, src.size, limit=8)
    if not fields or any(f.number != 1 or f.wire != LEN for f in fields):
        return False
    inner = read_fields(src, fields[0].offset, fields[0].offset + fields[0].value, limit=8)
    if not inner or any(_SAVED_OBJECT.get(f.number) != f.wire for f in inner):
        return False
    return b'"class_name"' in src.read_at(0, 4096)
