"""Tar (generic and legacy PyTorch layout), 7z, and NumPy .npy files."""

from __future__ import annotations

import io
import pickle
import tarfile

import numpy as np
import pytest

from malhug.analyzers import formats
from malhug.analyzers.api import scan_bytes
from malhug.analyzers.limits import Limits
from malhug.core.model import Category, Severity, Verdict
from tests.builders.wrappers import sevenzip
from tests.containers.helpers import (
    assert_not_clean,
    assert_pickle_payload_at,
    evil_pickle,
    npy_bytes,
    rules,
    with_rule,
)


def tar_of(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


def legacy_tar(pickle_member: bytes, storages: bytes | None = None) -> bytes:
    """The layout torch's legacy tar writer used: sys_info, pickle, storages, tensors."""
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}}, protocol=2)
    count = pickle.dumps(0, protocol=2)
    return tar_of({"sys_info": sys_info, "pickle": pickle_member, "storages": storages or count, "tensors": count})


def test_legacy_torch_tar_payloads() -> None:
    benign = pickle.dumps({"layer.weight": [0.5, 1.5]}, protocol=2)
    report = scan_bytes(legacy_tar(benign))
    assert report.format == formats.PYTORCH_TAR
    assert report.verdict is Verdict.CLEAN, [(f.rule, f.message) for f in report.findings]
    assert_pickle_payload_at(scan_bytes(legacy_tar(evil_pickle())), "pickle")
    # storages: a count pickle, then a pickle header per storage followed by raw bytes.
    storages = pickle.dumps(1, protocol=2) + evil_pickle() + b"\x00" * 64
    assert_pickle_payload_at(scan_bytes(legacy_tar(benign, storages)), "storages")


def test_generic_tar_members_and_traversal() -> None:
    report = scan_bytes(tar_of({"model/weights.pkl": evil_pickle(0), "README.md": b"# model\n"}))
    assert report.format == formats.TAR
    assert_pickle_payload_at(report, "model/weights.pkl")
    traversal = scan_bytes(tar_of({"../outside.sh": b"echo malhug\n"}))
    finding = with_rule(traversal, "MH201")[0]
    assert finding.location.member == "../outside.sh" and finding.category is Category.PATH_TRAVERSAL
    link = scan_bytes(tar_of({"a.txt": b"hi"}, links={"escape": "../../etc/passwd"}))
    assert "link target" in with_rule(link, "MH201")[0].message
    clean = scan_bytes(tar_of({"a.txt": b"hello\n", "b/c.json": b'{"a": 1}'}))
    assert clean.verdict is Verdict.CLEAN and "MH201" not in rules(clean)


def test_truncated_tar_is_not_clean() -> None:
    data = tar_of({"a.pkl": evil_pickle() + b"\0" * 2000, "b.txt": b"x" * 3000})
    report = scan_bytes(data[:1500])
    assert_not_clean(report)


def test_sevenzip_wrapper() -> None:
    report = scan_bytes(sevenzip("pytorch_model.pkl", evil_pickle()))
    assert report.format == formats.SEVEN_ZIP
    assert_pickle_payload_at(report, "pytorch_model.pkl")
    clean = scan_bytes(sevenzip("notes.txt", b"hello world\n"))
    assert clean.verdict is Verdict.CLEAN and clean.findings == []


def test_sevenzip_bomb_and_encryption() -> None:
    import py7zr

    bomb = sevenzip("zeros.bin", b"\0" * (8 << 20))
    report = scan_bytes(bomb, limits=Limits(max_decompressed_bytes=1 << 20))
    assert "MH902" in rules(report)
    assert_not_clean(report)
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password="malhug") as archive:
        archive.writestr(evil_pickle(), "model.pkl")
    report = scan_bytes(buf.getvalue())
    assert "MH203" in rules(report)
    assert report.verdict is Verdict.SUSPICIOUS


def test_npy_object_array_with_payload() -> None:
    report = scan_bytes(npy_bytes("|O", (2,), evil_pickle(3)))
    assert report.format == formats.NUMPY
    note = with_rule(report, "MH206")[0]
    assert note.severity is Severity.LOW and "|O" in note.evidence
    assert_pickle_payload_at(report, "<object data>")


def test_npy_plain_arrays_are_clean_and_checked() -> None:
    for array in (np.arange(10, dtype=np.int64), np.zeros((3, 4), dtype=">f4"), np.array(["ab", "c"]), np.zeros(0)):
        buf = io.BytesIO()
        np.save(buf, array)
        report = scan_bytes(buf.getvalue())
        assert report.format == formats.NUMPY
        assert report.findings == [], (array.dtype, report.findings)
    structured = np.zeros(3, dtype=[("x", "<f4"), ("y", "<i8", (2,))])
    buf = io.BytesIO()
    np.save(buf, structured)
    assert scan_bytes(buf.getvalue()).findings == []


@pytest.mark.parametrize("version", [1, 2])
def test_npy_size_mismatches(version: int) -> None:
    short = scan_bytes(npy_bytes("<f8", (4,), b"\0" * 16, version))
    assert with_rule(short, "MH901")[0].category is Category.MALFORMED
    assert_not_clean(short)
    extra = scan_bytes(npy_bytes("<f8", (1,), b"\0" * 8 + evil_pickle(), version))
    assert "MH207" in rules(extra)
    assert_pickle_payload_at(extra, "<after array data>")
    bad_header = scan_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': __import__('os')}\n")
    assert "MH901" in rules(bad_header)


def test_tar_with_a_corrupt_header_mid_archive_is_malformed() -> None:
    data = bytearray(tar_of({"a.txt": b"hello\n", "b.pkl": evil_pickle()}))
    second = data.find(b"b.pkl")
    data[second + 148 : second + 156] = b"0000000\x00"  # wrong checksum: tarfile stops quietly here
    report = scan_bytes(bytes(data))
    finding = with_rule(report, "MH901")[0]
    assert "not analyzed" in finding.message
    assert_not_clean(report)


def test_corrupt_7z_and_npy_dtype_are_malformed_not_crashes() -> None:
    data = bytearray(sevenzip("a.pkl", evil_pickle()))
    data[40:60] = b"\xff" * 20
    report = scan_bytes(bytes(data))
    assert "MH903" not in rules(report) and "MH901" in rules(report)
    bogus = scan_bytes(npy_bytes("|\x04", (1,), b"\0" * 8))
    assert "MH901" in rules(bogus)


def test_archive_header_reads_are_capped() -> None:
    from malhug.analyzers.limits import LimitExceeded
    from malhug.analyzers.shared.slices import BoundedSourceIO
    from malhug.analyzers.shared.source import BytesSource

    reader = BoundedSourceIO(BytesSource(b"x" * 100), max_read=10)
    assert reader.read(8) == b"x" * 8
    with pytest.raises(LimitExceeded):
        reader.read(50)
    reader.seek(95)
    assert reader.read(50) == b"x" * 5  # reads past the end are clamped, not refused
