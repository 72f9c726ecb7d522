"""Defanged payloads for hub tests, built from raw pickle opcodes and hand-written zip records.

Nothing here is ever loaded: the bytes go to the fake Hub and MalHug reads them as data.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tests.fakehub import SparseFile

SENTINEL_CMD = "echo malhug-sentinel-hub"


def _binunicode(text: str) -> bytes:
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def evil_pickle(command: str = SENTINEL_CMD) -> bytes:
    """Protocol 2: ``posix.system(command)`` via GLOBAL + TUPLE1 + REDUCE."""
    return b"\x80\x02cposix\nsystem\n" + _binunicode(command) + b"\x85R."


def benign_pickle() -> bytes:
    """Protocol 2: ``{"weight": [1, 2, 3], "name": "layer"}`` (plain containers only)."""
    return (
        b"\x80\x02}("
        + _binunicode("weight")
        + b"](K\x01K\x02K\x03e"
        + _binunicode("name")
        + _binunicode("layer")
        + b"u."
    )


def torch_zip(pkl: bytes, *, prefix: str = "archive") -> bytes:
    """A PyTorch-style zip: ``<prefix>/data.pkl``, ``<prefix>/version``, one storage under ``data/``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{prefix}/data.pkl", pkl)
        zf.writestr(f"{prefix}/byteorder", b"little")
        zf.writestr(f"{prefix}/data/0", b"\x00" * 64)
        zf.writestr(f"{prefix}/version", b"3\n")
    return buf.getvalue()


def _local(name: bytes, data_len: int, crc: int, zip64: bool) -> bytes:
    extra = struct.pack("<HHQQ", 1, 16, data_len, data_len) if zip64 else b""
    size = 0xFFFFFFFF if zip64 else data_len
    return (
        struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 0, 0, 0, crc, size, size, len(name), len(extra))
        + name
        + extra
    )


def _central(name: bytes, data_len: int, crc: int, offset: int, zip64: bool) -> bytes:
    extra = struct.pack("<HHQQ", 1, 16, data_len, data_len) if zip64 else b""
    size = 0xFFFFFFFF if zip64 else data_len
    return (
        struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            45,
            45,
            0,
            0,
            0,
            0,
            crc,
            size,
            size,
            len(name),
            len(extra),
            0,
            0,
            0,
            0,
            offset,
        )
        + name
        + extra
    )


def sparse_torch_zip(pkl: bytes, size: int = 4 * 2**30, prefix: str = "archive") -> SparseFile:
    """A ``size``-byte PyTorch zip whose one huge storage is a hole: data.pkl first, directory last (zip64)."""
    small = [(f"{prefix}/data.pkl".encode(), pkl), (f"{prefix}/version".encode(), b"3\n")]
    head = b""
    central = b""
    for name, data in small:
        central += _central(name, len(data), zlib.crc32(data), len(head), False)
        head += _local(name, len(data), zlib.crc32(data), False) + data
    big_name = f"{prefix}/data/0".encode()
    big_offset = len(head)
    big_header = _local(big_name, 0, 0, True)
    tail_len_guess = len(central) + len(_central(big_name, 0, 0, 0, True)) + 56 + 20 + 22
    big_len = size - big_offset - len(big_header) - tail_len_guess
    head += _local(big_name, big_len, 0, True)
    central += _central(big_name, big_len, 0, big_offset, True)
    cd_offset = len(head) + big_len
    zip64_eocd_offset = cd_offset + len(central)
    n = len(small) + 1
    tail = central
    tail += struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
    tail += struct.pack("<4sIQI", b"PK\x06\x07", 0, zip64_eocd_offset, 1)
    tail += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    assert cd_offset + len(tail) == size, (cd_offset, len(tail), size)
    return SparseFile(size, ((0, head), (cd_offset, tail)))


def big_legacy_pickle(size: int) -> bytes:
    """A benign protocol-2 pickle of about ``size`` bytes (one long string), read only whole."""
    return b"\x80\x02" + _binunicode("a" * max(0, size - 10)) + b"."


EVIL_LOADING_SCRIPT = f'''"""A dataset loading script that does more than load data."""
import os

import datasets


class Evil(datasets.GeneratorBasedBuilder):
    def _info(self):
        os.system("{SENTINEL_CMD}")
        return datasets.DatasetInfo()
'''

EVIL_REMOTE_CODE = f'''"""Remote code named by auto_map."""
import subprocess

from transformers import PreTrainedModel


class EvilModel(PreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        subprocess.run("{SENTINEL_CMD}", shell=True)
'''

BENIGN_REMOTE_CODE = '''"""Remote code named by auto_map."""
from transformers import PreTrainedModel


class GoodModel(PreTrainedModel):
    def forward(self, x):
        return x
'''
