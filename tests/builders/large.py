"""Large PyTorch checkpoints written sparsely: the zip layout torch produces (64-byte aligned stored
records, zip64 once offsets or sizes pass 4 GiB), with tensor data left as holes in the file so a
4 GiB checkpoint costs no disk space or time to write.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import BinaryIO

from tests.builders.pickles import Global, Writer

_ZIP64_LIMIT = 0xFFFFFFFF
_ALIGN = 64
_ZERO_BLOCK = bytes(16 * 1024 * 1024)


def state_dict_pickle(numels: list[int], storage_type: str = "FloatStorage") -> bytes:
    """``data.pkl`` of an OrderedDict of 1-D float tensors ``layers.{i}.weight`` whose storages are
    the records ``data/{i}`` (persistent ids, as torch writes them)."""
    w = Writer(2).header()
    w.global_(Global("collections", "OrderedDict"))
    w.op(b")R(")  # OrderedDict() then MARK for SETITEMS
    for i, numel in enumerate(numels):
        w.value(f"layers.{i}.weight")
        w.global_(Global("torch._utils", "_rebuild_tensor_v2"))
        w.op(b"(")  # MARK of the argument tuple
        w.op(b"(")  # MARK of the persistent id tuple
        w.value("storage")
        w.global_(Global("torch", storage_type))
        w.value(str(i))
        w.value("cpu")
        w.value(numel)
        w.op(b"tQ")  # TUPLE, BINPERSID
        w.value(0)
        w.value((numel,))
        w.value((1,))
        w.value(False)
        w.global_(Global("collections", "OrderedDict"))
        w.op(b")R")
        w.op(b"tR")  # TUPLE, REDUCE
    w.op(b"u.")  # SETITEMS, STOP
    return bytes(w)


def _crc_of_zeros(size: int) -> int:
    crc = 0
    while size > 0:
        n = min(size, len(_ZERO_BLOCK))
        crc = zlib.crc32(memoryview(_ZERO_BLOCK)[:n], crc)
        size -= n
    return crc


class _SparseZip:
    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.central: list[bytes] = []

    def add(self, name: str, data: bytes | None, size: int, crc: int | None = None) -> None:
        """A stored record; ``data=None`` leaves ``size`` zero bytes as a hole."""
        fh = self.fh
        offset = fh.tell()
        size = len(data) if data is not None else size
        raw = name.encode()
        crc = zlib.crc32(data) if data is not None else (crc if crc is not None else _crc_of_zeros(size))
        big = size >= _ZIP64_LIMIT or offset >= _ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, size, size) if big else b""
        head_len = 30 + len(raw) + len(extra)
        pad = (-(offset + head_len + 4)) % _ALIGN
        extra += struct.pack("<HH", 0x4246, pad) + b"Z" * pad  # torch's "FB" alignment field
        shown = _ZIP64_LIMIT if big else size
        fh.write(
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 45 if big else 20, 0, 0, 0, 0x21, crc, shown, shown, len(raw), len(extra)
            )
        )
        fh.write(raw + extra)
        if data is not None:
            fh.write(data)
        else:
            fh.seek(size, 1)
        c_extra = b""
        fields = []
        if size >= _ZIP64_LIMIT:
            fields += [size, size]
        if offset >= _ZIP64_LIMIT:
            fields.append(offset)
        if fields:
            c_extra = struct.pack("<HH", 1, 8 * len(fields)) + struct.pack(f"<{len(fields)}Q", *fields)
        c_size = _ZIP64_LIMIT if size >= _ZIP64_LIMIT else size
        c_off = _ZIP64_LIMIT if offset >= _ZIP64_LIMIT else offset
        self.central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                45,
                45 if fields else 20,
                0,
                0,
                0,
                0x21,
                crc,
                c_size,
                c_size,
                len(raw),
                len(c_extra),
                0,
                0,
                0,
                0,
                c_off,
            )
            + raw
            + c_extra
        )

    def close(self) -> None:
        fh = self.fh
        start = fh.tell()
        for entry in self.central:
            fh.write(entry)
        end = fh.tell()
        count, cd_size = len(self.central), end - start
        if start >= _ZIP64_LIMIT:
            fh.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, cd_size, start))
            fh.write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
            fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, _ZIP64_LIMIT, _ZIP64_LIMIT, 0))
        else:
            fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size, start, 0))


def sparse_checkpoint(path: Path, total_bytes: int, *, tensors: int = 8, folder: str = "archive") -> Path:
    """Write a benign torch-layout checkpoint of about ``total_bytes`` of float32 tensor data."""
    per = total_bytes // tensors // 4
    numels = [per] * tensors
    with open(path, "wb") as fh:
        z = _SparseZip(fh)
        z.add(f"{folder}/data.pkl", state_dict_pickle(numels), 0)
        z.add(f"{folder}/.format_version", b"1", 0)
        z.add(f"{folder}/byteorder", b"little", 0)
        zero_crc = _crc_of_zeros(per * 4)
        for i, numel in enumerate(numels):
            z.add(f"{folder}/data/{i}", None, numel * 4, crc=zero_crc)
        z.add(f"{folder}/version", b"3\n", 0)
        z.add(f"{folder}/.data/serialization_id", b"1234567890123456789012345678901234567890", 0)
        z.close()
        fh.truncate()
    return path
