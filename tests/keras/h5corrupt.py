"""Recipes for corrupted Keras H5 files (built from a benign h5py file; nothing binary is committed).

h5py writes a Keras-style file with superblock v0; its string attributes (``keras_version``,
``model_config``, ...) are variable-length strings, stored in one global heap collection (``GCOL``):
``GCOL``, version, 3 reserved bytes, the collection size (8 bytes), then objects of a 16-byte header
(index 2, reference count 2, reserved 4, size 8) and their data padded to 8 bytes; object index 0 is
the free space and ends the collection.

What libhdf5 1.14 does with them (found by mutating the collection, each probe in a subprocess with
a time-out and RLIMIT_AS):

- ``free_space_size_zero``: the free-space object says size 0; the collection's parse loop advances
  by that size, so it never advances: reading any string attribute loops forever in C.
- ``duplicated_header``: 16 bytes of the free space's (zero) body duplicated over the header of the
  last string object: an object of index 0 and size 0, the same endless loop.
- ``btree_self_loop``: the root group's v1 B-tree node claims level 1 and names itself as its child;
  libhdf5 recurses until the stack overflows (SIGSEGV): in the scanning process this killed
  ``malhug scan`` (and would kill the language server).
- ``huge_collection``: the collection says it is ``size`` bytes long and the superblock's end of file
  agrees; libhdf5 allocates and reads the whole collection to read one attribute (a file of tensors
  padded to that size passes its end-of-file check).
"""

from __future__ import annotations

import struct

from malhug.analyzers.shared.source import SourceBase

GCOL = b"GCOL"
OBJECT_HEADER = struct.Struct("<HHIQ")
# Superblock v0: the end-of-file address follows the signature, the versions and sizes, the B-tree
# K values, the consistency flags, the base address and the free-space address.
SUPERBLOCK_V0_EOF = 40


def heap_objects(data: bytes) -> tuple[int, list[tuple[int, int, int]]]:
    """The collection's offset and its objects as (offset, index, size), free space last."""
    start = data.index(GCOL)
    (size,) = struct.unpack_from("<Q", data, start + 8)
    objects = []
    pos = start + 16
    while pos + OBJECT_HEADER.size <= start + size:
        index, _refs, _reserved, length = OBJECT_HEADER.unpack_from(data, pos)
        objects.append((pos, index, length))
        if index == 0:
            break
        pos += OBJECT_HEADER.size + (length + 7) // 8 * 8
    return start, objects


def free_space_size_zero(data: bytes) -> bytes:
    _, objects = heap_objects(data)
    pos, index, _ = objects[-1]
    assert index == 0
    out = bytearray(data)
    struct.pack_into("<Q", out, pos + 8, 0)
    return bytes(out)


def duplicated_header(data: bytes) -> bytes:
    _, objects = heap_objects(data)
    free_pos, free_index, free_size = objects[-1]
    last_pos, last_index, _ = objects[-2]
    assert free_index == 0 and last_index > 0 and free_size >= 32
    body = data[free_pos + 16 : free_pos + 32]
    assert body == bytes(16)
    return data[:last_pos] + body + data[last_pos + 16 :]


def btree_self_loop(data: bytes) -> bytes:
    tree = data.index(b"TREE")  # the root group's: h5py writes it first
    out = bytearray(data)
    out[tree + 5] = 1  # level: an internal node, whose children are B-tree nodes
    # Signature, type, level, entries (2), left and right siblings (8 each), then key 0 (a heap
    # offset, 8 bytes) and child 0.
    struct.pack_into("<Q", out, tree + 24 + 8, tree)
    return bytes(out)


def huge_collection(data: bytes, size: int) -> bytes:
    start, _ = heap_objects(data)
    assert data[8] == 0, "superblock v0 expected"
    out = bytearray(data)
    struct.pack_into("<Q", out, start + 8, size)
    struct.pack_into("<Q", out, SUPERBLOCK_V0_EOF, size + start + 4096)
    return bytes(out)


class PaddedSource(SourceBase):
    """``data`` followed by zeros up to ``size`` bytes (a large file of tensors, none of it in memory)."""

    def __init__(self, data: bytes, size: int):
        super().__init__(size)
        self._data = data

    def _read_range(self, offset: int, length: int) -> bytes:
        head = self._data[offset : offset + length]
        chunk = head + bytes(length - len(head))
        self._read += len(chunk)
        return chunk
