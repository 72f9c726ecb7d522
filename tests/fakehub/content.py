"""File contents of the generated hub, computed from (kind, repo index, commit number) on demand.

A :class:`Blob` is a size plus a few written regions; everything else reads as zero bytes, so a 2 GiB
checkpoint costs a few KB of memory while it is served and nothing once the answer is sent. Ordinary
repositories are built from the same shapes as ``tests/builders`` (torch zip layout from
``tests.builders.large``, safetensors, Keras v3, GGUF, tokenizer configs, dataset scripts, remote code),
made unique per repository by a cheap change (archive folder name, metadata, a comment) so that a
content-keyed cache does not make the whole hub free; forks reuse their parent's weights on purpose.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_KINDS = ("torch", "torch", "safetensors", "safetensors", "keras", "gguf", "tokenizer", "remote-code")
DATASET_KINDS = ("data", "data", "data", "script")
SIZES = (96 << 20, 384 << 20, 1 << 30, 3 << 30)  # weight sizes; 8 tensors each


@dataclass(frozen=True)
class Blob:
    """A file: ``size`` bytes, ``chunks`` written at their offsets, zero elsewhere."""

    size: int
    chunks: tuple[tuple[int, bytes], ...]
    oid: str  # the declared LFS sha256 (a digest of the description, stable for the same content)

    @classmethod
    def of(cls, data: bytes) -> Blob:
        return cls(len(data), ((0, data),), hashlib.sha256(data).hexdigest())

    @classmethod
    def sparse(cls, size: int, chunks: list[tuple[int, bytes]]) -> Blob:
        h = hashlib.sha256(f"generated-sparse:{size}".encode())
        for off, data in chunks:
            h.update(f":{off}:{len(data)}:".encode() + data)
        return cls(size, tuple(chunks), h.hexdigest())

    def read(self, offset: int, length: int) -> bytes:
        end = min(self.size, offset + length)
        if offset >= end:
            return b""
        out = bytearray(end - offset)
        for off, data in self.chunks:
            lo, hi = max(off, offset), min(off + len(data), end)
            if lo < hi:
                out[lo - offset : hi - offset] = data[lo - off : hi - off]
        return bytes(out)

    def small(self) -> bytes | None:
        """The whole content when it is one written region (ordinary text files)."""
        if len(self.chunks) == 1 and self.chunks[0][0] == 0 and len(self.chunks[0][1]) == self.size:
            return self.chunks[0][1]
        return None


class _Recorder(io.RawIOBase):
    """A write-only file that records written regions and skips holes (for ``tests.builders.large``)."""

    def __init__(self) -> None:
        self.pos = 0
        self.end = 0
        self.chunks: list[tuple[int, bytes]] = []

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raw = bytes(data)
        if self.chunks and self.chunks[-1][0] + len(self.chunks[-1][1]) == self.pos:
            off, prev = self.chunks[-1]
            self.chunks[-1] = (off, prev + raw)
        else:
            self.chunks.append((self.pos, raw))
        self.pos += len(raw)
        self.end = max(self.end, self.pos)
        return len(raw)

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else (self.pos + offset if whence == 1 else self.end + offset)
        self.end = max(self.end, self.pos)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def truncate(self, size: int | None = None) -> int:
        return self.end


class Templates:
    """Builder outputs made once per process (real libraries), and CRCs of zero runs, per size."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self._lock = threading.Lock()
        self._made: dict[str, bytes] = {}
        self._crc: dict[int, int] = {}

    def get(self, name: str, build: Callable[[Path], bytes]) -> bytes:
        with self._lock:
            if name not in self._made:
                self.scratch.mkdir(parents=True, exist_ok=True)
                self._made[name] = build(self.scratch)
            return self._made[name]

    def zero_crc(self, size: int) -> int:
        with self._lock:
            if size not in self._crc:
                crc, block, left = 0, bytes(1 << 20), size
                while left > 0:
                    n = min(left, len(block))
                    crc = zlib.crc32(memoryview(block)[:n], crc)
                    left -= n
                self._crc[size] = crc
            return self._crc[size]


def torch_zip(templates: Templates, folder: str, size: int) -> Blob:
    """A benign torch checkpoint of ``size`` bytes of float32 tensors (8 holes), archive folder ``folder``."""
    from tests.builders.large import _SparseZip, state_dict_pickle

    per = size // 8 // 4
    rec = _Recorder()
    z = _SparseZip(rec)  # type: ignore[arg-type]
    z.add(f"{folder}/data.pkl", state_dict_pickle([per] * 8), 0)
    z.add(f"{folder}/.format_version", b"1", 0)
    z.add(f"{folder}/byteorder", b"little", 0)
    crc = templates.zero_crc(per * 4)
    for i in range(8):
        z.add(f"{folder}/data/{i}", None, per * 4, crc=crc)
    z.add(f"{folder}/version", b"3\n", 0)
    z.close()
    return Blob.sparse(rec.end, rec.chunks)


def safetensors(size: int, note: str) -> Blob:
    """A safetensors file: header naming 8 float32 tensors filling ``size`` bytes, data a hole."""
    per = size // 8 // 4
    header: dict[str, Any] = {"__metadata__": {"format": "pt", "source": note}}
    for i in range(8):
        header[f"layers.{i}.weight"] = {
            "dtype": "F32",
            "shape": [per],
            "data_offsets": [i * per * 4, (i + 1) * per * 4],
        }
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    head = struct.pack("<Q", len(raw)) + raw
    return Blob.sparse(len(head) + 8 * per * 4, [(0, head)])


def zip_with_comment(data: bytes, comment: bytes) -> bytes:
    """The same zip with an end-of-central-directory comment (valid; makes the bytes unique)."""
    eocd = data.rfind(b"PK\x05\x06")
    if eocd < 0 or len(data) - eocd != 22:
        return data
    return data[: eocd + 20] + struct.pack("<H", len(comment)) + comment
