"""GGUF models: header and metadata key/value table, parsed by hand (versions 1-3, either byte order).

The chat templates in the metadata (``tokenizer.chat_template`` and ``tokenizer.chat_template.*``)
are checked for Jinja sandbox escapes; everything else is only bounds-checked. Tensor data is never
read, so a multi-gigabyte model costs its metadata (typically a few megabytes of vocabulary).
"""

from __future__ import annotations

import struct

from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.modelformats.chat_template import check_template
from malhug.analyzers.shared.source import ByteSource

WINDOW = 1024 * 1024
MAX_KV = 1_000_000
MAX_TENSORS = 10_000_000
MAX_KEY = 65_535
MAX_DIMS = 16
MAX_ARRAY_DEPTH = 4
# value type -> fixed size in bytes (8 = string, 9 = array are variable)
FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
STRING, ARRAY = 8, 9
TEMPLATE_KEY = "tokenizer.chat_template"


class _Cursor:
    def __init__(self, src: ByteSource, ctx: ScanContext):
        self.src = src
        self.ctx = ctx
        self.pos = 0
        self.endian = "<"
        self.wide = True  # version >= 2: 64-bit counts and lengths
        self._start = 0
        self._buf = b""
        self.steps = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.src.size:
            raise MalformedInput(f"GGUF: read of {n} bytes past the end of the file", self.pos)
        if n > WINDOW:
            data = self.src.read_at(self.pos, n)
        else:
            if not (self._start <= self.pos and self.pos + n <= self._start + len(self._buf)):
                self._start = self.pos
                self._buf = self.src.read_at(self.pos, WINDOW)
            rel = self.pos - self._start
            data = self._buf[rel : rel + n]
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.src.size:
            raise MalformedInput(f"GGUF: value of {n} bytes runs past the end of the file", self.pos)
        self.pos += n

    def u32(self) -> int:
        return int(struct.unpack(self.endian + "I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack(self.endian + "Q", self.take(8))[0])

    def count(self) -> int:
        return self.u64() if self.wide else self.u32()

    def length(self, what: str) -> int:
        n = self.count()
        if n > self.src.size - self.pos:
            raise MalformedInput(f"GGUF: {what} length {n} exceeds the file", self.pos)
        return n

    def string(self, what: str, limit: int) -> str:
        n = self.length(what)
        if n > limit:
            raise LimitExceeded(f"GGUF {what} length", limit, n)
        return self.take(n).decode("utf-8", "replace")

    def skip_strings(self, n: int) -> None:
        """Skip an array of ``n`` strings (vocabularies: hundreds of thousands) in one tight loop."""
        width = 8 if self.wide else 4
        unpack = struct.Struct(self.endian + ("Q" if self.wide else "I")).unpack_from
        size = self.src.size
        for i in range(n):
            if not (self._start <= self.pos and self.pos + width <= self._start + len(self._buf)):
                self._start = self.pos
                self._buf = self.src.read_at(self.pos, WINDOW)
                if len(self._buf) < width:
                    raise MalformedInput("GGUF: string array runs past the end of the file", self.pos)
            (length,) = unpack(self._buf, self.pos - self._start)
            self.pos += width
            if length > size - self.pos:
                raise MalformedInput(f"GGUF: string length {length} exceeds the file", self.pos)
            self.pos += length
            if i % 65_536 == 65_535:
                self.ctx.check_time()

    def tick(self) -> None:
        self.steps += 1
        if self.steps % 65_536 == 0:
            self.ctx.check_time()


def _skip_value(c: _Cursor, vtype: int, depth: int = 0) -> None:
    if vtype in FIXED:
        c.skip(FIXED[vtype])
    elif vtype == STRING:
        c.skip(c.length("string"))
    elif vtype == ARRAY:
        if depth >= MAX_ARRAY_DEPTH:
            raise LimitExceeded("GGUF array nesting", MAX_ARRAY_DEPTH, depth + 1)
        item = c.u32()
        n = c.count()
        if item in FIXED:
            c.skip(n * FIXED[item])
            return
        if n > c.src.size - c.pos:
            raise MalformedInput(f"GGUF: array of {n} items exceeds the file", c.pos)
        if item == STRING:
            c.skip_strings(n)
            return
        for _ in range(n):
            c.tick()
            _skip_value(c, item, depth + 1)
    else:
        raise MalformedInput(f"GGUF: unknown value type {vtype}", c.pos)


def _header(c: _Cursor) -> tuple[int, int, int]:
    if c.take(4) != b"GGUF":
        raise MalformedInput("GGUF: bad magic", 0)
    raw = c.take(4)
    version = int.from_bytes(raw, "little")
    if not 1 <= version <= 3:
        swapped = int.from_bytes(raw, "big")
        if not 1 <= swapped <= 3:
            raise MalformedInput(f"GGUF: unsupported version {version}", 4)
        c.endian, version = ">", swapped
    c.wide = version >= 2
    tensors, kvs = c.count(), c.count()
    if kvs > MAX_KV:
        raise LimitExceeded("GGUF metadata entries", MAX_KV, kvs)
    if tensors > MAX_TENSORS:
        raise LimitExceeded("GGUF tensors", MAX_TENSORS, tensors)
    return version, tensors, kvs


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    c = _Cursor(src, ctx)
    _version, tensors, kvs = _header(c)
    for _ in range(kvs):
        c.tick()
        key = c.string("key", MAX_KEY)
        vtype = c.u32()
        if vtype == STRING and (key == TEMPLATE_KEY or key.startswith(TEMPLATE_KEY + ".")):
            template = c.string(key, ctx.limits.max_source_bytes)
            ctx.check_time()  # each template is a Jinja parse: a file of many must not run past the deadline
            check_template(ctx, template, key, rule_prefix=f"GGUF {key}")
            continue
        _skip_value(c, vtype)
    for _ in range(tensors):
        c.tick()
        c.skip(c.length("tensor name"))
        dims = c.u32()
        if dims > MAX_DIMS:
            raise MalformedInput(f"GGUF: tensor with {dims} dimensions", c.pos)
        c.skip(8 * dims if c.wide else 4 * dims)
        c.skip(4 + 8)  # type, offset
