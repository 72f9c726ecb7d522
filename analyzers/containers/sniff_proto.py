"""Recognise protobuf files by validating a few fields of the wire format (never one byte).

ONNX ``ModelProto`` (ir_version=1, graph=7, opset_import=8), TensorFlow ``SavedModel``
(saved_model_schema_version=1, meta_graphs=2) and Keras ``SavedMetadata`` (nodes=1 whose entries
carry JSON metadata with ``"class_name"``).
"""

from __future__ import annotations

from malhug.analyzers.shared.source import ByteSource
from malhug.core.record import Record

VARINT, I64, LEN, I32 = 0, 1, 2, 5

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


class Field(Record):
    """One protobuf field header (a ``Record``: detection of every unidentified file builds these,
    and a dataclass would compile its methods at import)."""

    number: int
    wire: int
    value: int  # varint value, or payload length for LEN
    payload_at: int  # absolute offset of the payload (LEN) or -1

    __slots__ = ("number", "wire", "value", "payload_at")

    def __init__(self, number: int, wire: int, value: int, payload_at: int):
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "wire", wire)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "payload_at", payload_at)


def _varint(buf: bytes, pos: int) -> tuple[int, int] | None:
    result = 0
    for shift in range(0, 70, 7):
        if pos >= len(buf):
            return None
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
    return None


def read_fields(src: ByteSource, start: int, end: int, window: int = 512, limit: int = 32) -> list[Field] | None:
    """Top-level fields of the message in ``[start, end)``; long payloads are skipped by seeking.

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
        tag = _varint(buf, rel)
        if tag is None:
            return None
        key, rel = tag
        number, wire = key >> 3, key & 7
        if number == 0 or wire not in (VARINT, I64, LEN, I32):
            return None
        if wire == VARINT:
            got = _varint(buf, rel)
            if got is None:
                return None
            value, rel = got
            fields.append(Field(number, wire, value, -1))
            pos = buf_at + rel
        elif wire == LEN:
            got = _varint(buf, rel)
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
            fields.append(Field(number, wire, 0, -1))
            pos = buf_at + rel + size
    if pos > end:
        return None
    return fields


def _first_tag(src: ByteSource, field: Field) -> tuple[int, int] | None:
    if field.wire != LEN or field.value == 0:
        return None
    got = _varint(src.read_at(field.payload_at, 10), 0)
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
            name = src.read_at(f.payload_at, min(f.value, 64))
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
    inner = read_fields(src, fields[0].payload_at, fields[0].payload_at + fields[0].value, limit=8)
    if not inner or any(_SAVED_OBJECT.get(f.number) != f.wire for f in inner):
        return False
    return b'"class_name"' in src.read_at(0, 4096)
