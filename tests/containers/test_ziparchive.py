"""The zip reader itself: directory-only construction, lenient reads, anomalies, bounds."""

from __future__ import annotations

import io
import zipfile

import pytest

from malhug.analyzers.limits import LimitExceeded, Limits, MalformedInput
from malhug.analyzers.shared.source import BytesSource
from malhug.analyzers.shared.ziparchive import (
    EncryptedMember,
    UnsupportedCompression,
    ZipArchive,
)
from tests.builders.wrappers import zip_of
from tests.containers.zipbytes import break_crc, set_declared_size, set_flags, set_method

LIMITS = Limits()


def kinds(archive: ZipArchive) -> set[str]:
    return {a.kind for a in archive.anomalies}


def test_reads_torch_zip_directory_then_members(torch_zip: bytes) -> None:
    src = BytesSource(torch_zip)
    archive = ZipArchive(src, LIMITS)
    names = [m.name for m in archive.members]
    assert "archive/data.pkl" in names and "archive/byteorder" in names
    assert any(n.startswith("archive/data/") for n in names)
    directory_cost = src.bytes_read
    member = archive.find("archive/data.pkl")
    assert member is not None
    data = archive.read(member)
    assert data.startswith(b"\x80\x02") and data.endswith(b".")
    assert src.bytes_read - directory_cost < len(data) + 600  # local header (+ read-ahead) and data only
    assert archive.anomalies == []


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_every_supported_method_and_partial_reads(method: int) -> None:
    payload = b"hello malhug " * 500
    data = zip_of({"a.txt": payload, "b/c.bin": b"\x00\x01\x02"}, compression=method)
    archive = ZipArchive(BytesSource(data), LIMITS)
    first = archive.members[0]
    assert archive.read(first) == payload
    assert archive.read(first, max_bytes=11) == payload[:11]
    assert archive.read(archive.members[1]) == b"\x00\x01\x02"
    assert archive.anomalies == []


def test_zip64_members_and_offsets() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        with zf.open("big.pkl", "w", force_zip64=True) as f:
            f.write(b"\x80\x02N.")
        zf.writestr("small.txt", b"ok")
    archive = ZipArchive(BytesSource(buf.getvalue()), LIMITS)
    assert [m.name for m in archive.members] == ["big.pkl", "small.txt"]
    assert archive.read(archive.members[0]) == b"\x80\x02N."


def test_junk_before_archive_is_an_anomaly_and_offsets_shift() -> None:
    data = b"#!/bin/sh\necho hi\n" + zip_of({"x.pkl": b"\x80\x02N."})
    archive = ZipArchive(BytesSource(data), LIMITS)
    assert archive.prefix == 18
    assert "junk-prefix" in kinds(archive)
    assert archive.read(archive.members[0]) == b"\x80\x02N."


@pytest.mark.parametrize("mask", [0x20, 0x40, 0x60])
def test_flag_bits_5_6_are_read_leniently(mask: int) -> None:
    data = set_flags(zip_of({"archive/data.pkl": b"\x80\x02N."}), "archive/data.pkl", mask)
    with pytest.raises(NotImplementedError):
        zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl")  # the strict reader refuses
    archive = ZipArchive(BytesSource(data), LIMITS)
    assert archive.read(archive.members[0]) == b"\x80\x02N."
    assert "flag-bits" in kinds(archive)


def test_bad_crc_is_read_and_recorded() -> None:
    data = break_crc(zip_of({"archive/data.pkl": b"\x80\x02N."}, zipfile.ZIP_DEFLATED), "archive/data.pkl")
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl")
    archive = ZipArchive(BytesSource(data), LIMITS)
    assert archive.read(archive.members[0]) == b"\x80\x02N."
    assert "bad-crc" in kinds(archive)


def test_encrypted_flag_over_plain_data_is_a_trick_not_encryption() -> None:
    data = set_flags(zip_of({"x.pkl": b"\x80\x02N."}), "x.pkl", 0x1)
    archive = ZipArchive(BytesSource(data), LIMITS)
    assert archive.read(archive.members[0]) == b"\x80\x02N."
    assert "encrypted-flag" in kinds(archive)


def test_really_encrypted_member_raises() -> None:
    data = break_crc(set_flags(zip_of({"x.pkl": b"\x13\x37" * 20}), "x.pkl", 0x1), "x.pkl")
    archive = ZipArchive(BytesSource(data), LIMITS)
    with pytest.raises(EncryptedMember):
        archive.read(archive.members[0])


def test_unsupported_method_raises() -> None:
    data = set_method(zip_of({"x.pkl": b"\x80\x02N."}), "x.pkl", 99)
    archive = ZipArchive(BytesSource(data), LIMITS)
    with pytest.raises(UnsupportedCompression) as info:
        archive.read(archive.members[0])
    assert info.value.method == 99


def test_truncated_archive_is_malformed(torch_zip: bytes) -> None:
    for cut in (len(torch_zip) // 2, len(torch_zip) - 5, 10):
        with pytest.raises(MalformedInput):
            ZipArchive(BytesSource(torch_zip[:cut]), LIMITS)


def test_bombs_hit_limits() -> None:
    bomb = zip_of({"zeros.bin": b"\0" * (8 << 20)}, zipfile.ZIP_DEFLATED)
    small = Limits(max_decompressed_bytes=1 << 20)
    archive = ZipArchive(BytesSource(bomb), small)
    with pytest.raises(LimitExceeded):
        archive.read(archive.members[0])
    # A lying directory (declared size patched down) is caught while streaming.
    liar = set_declared_size(bomb, "zeros.bin", 100)
    archive = ZipArchive(BytesSource(liar), small)
    with pytest.raises(LimitExceeded):
        archive.read(archive.members[0])
    ratio = Limits(max_compression_ratio=50)
    archive = ZipArchive(BytesSource(bomb), ratio)
    with pytest.raises(LimitExceeded):
        archive.check_bomb(archive.members[0])
    many = zip_of({f"m{i}": b"" for i in range(20)})
    with pytest.raises(LimitExceeded):
        ZipArchive(BytesSource(many), Limits(max_members=10))


def test_duplicate_names_are_recorded() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.pkl", b"\x80\x02N.")
        with pytest.warns(UserWarning):
            zf.writestr("a.pkl", b"\x80\x02K\x01.")
    archive = ZipArchive(BytesSource(buf.getvalue()), LIMITS)
    assert "duplicate-name" in kinds(archive)
    assert [archive.read(m) for m in archive.members] == [b"\x80\x02N.", b"\x80\x02K\x01."]


class CountingReads(BytesSource):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.calls = 0

    def read_at(self, offset: int, length: int) -> bytes:
        self.calls += 1
        return super().read_at(offset, length)


def test_sniffing_a_stored_member_is_one_read() -> None:
    data = zip_of({"a.bin": b"\x01" * 10000, "b.txt": b"hello"})
    src = CountingReads(data)
    archive = ZipArchive(src, LIMITS)
    before = src.calls
    assert archive.read(archive.members[0], max_bytes=4096) == b"\x01" * 4096
    assert archive.read(archive.members[1], max_bytes=4096) == b"hello"
    assert src.calls - before == 2
    assert archive.read(archive.members[0]) == b"\x01" * 10000  # a later full read still works


def test_local_header_disagreeing_with_directory_and_trailing_data() -> None:
    data = bytearray(zip_of({"good.pkl": b"\x80\x02N."}))
    local_name_at = data.find(b"good.pkl")  # the first occurrence is in the local header
    data[local_name_at : local_name_at + 8] = b"evil.pkl"
    archive = ZipArchive(BytesSource(bytes(data) + b"appended junk"), LIMITS)
    assert archive.read(archive.members[0]) == b"\x80\x02N."
    assert {"local-header-mismatch", "trailing-data"} <= kinds(archive)
    mismatch = next(a for a in archive.anomalies if a.kind == "local-header-mismatch")
    assert mismatch.member == "good.pkl" and "evil.pkl" in mismatch.message


def test_long_comment_needs_the_full_tail() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", b"x")
        zf.comment = b"c" * 60000
    archive = ZipArchive(BytesSource(buf.getvalue()), LIMITS)
    assert archive.comment == b"c" * 60000
    assert archive.read(archive.members[0]) == b"x" and archive.anomalies == []
