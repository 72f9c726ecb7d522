"""A payload in front of a decompression bomb, and decoders whose headers ask for huge memory (#15).

``pickle.load``/``torch.load`` stream a compressed member and stop at the pickle's STOP: a payload
that comes out before the bomb runs. The analysis decompresses up to the limit, analyzes what came
out, then reports the limit (MH902). Decoder memory (an LZMA dictionary announced by a 32-byte
header) is bounded before it is allocated; that is checked in a subprocess under ``RLIMIT_AS``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from collections.abc import Callable

import lz4.frame
import py7zr
import pytest

from malhug.analyzers.api import scan_bytes, scan_source
from malhug.analyzers.limits import Limits
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import FileReport, Verdict
from tests.containers.helpers import PAYLOAD_COMMAND, evil_pickle

SMALL = Limits(max_decompressed_bytes=2 << 20)
WRAPPERS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("<gzip>", lambda d: gzip.compress(d, mtime=0)),
    "bz2": ("<bz2>", bz2.compress),
    "xz": ("<xz>", lzma.compress),
    "lzma-alone": ("<xz>", lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE)),
    "lz4": ("<lz4>", lz4.frame.compress),
    "zlib": ("<zlib>", zlib.compress),
}


def payload_then_bomb(size: int = 8 << 20) -> bytes:
    return evil_pickle(2) + b"\x00" * size


def _summary(report: FileReport) -> list[tuple[str, str | None, int | None]]:
    return [(f.rule, f.location.member, f.location.offset) for f in report.findings]


def assert_payload_and_limit(report: FileReport, member: str) -> None:
    hits = [f for f in report.findings if f.rule == "MH101" and f.location.member == member]
    assert hits, _summary(report)
    assert PAYLOAD_COMMAND in hits[0].evidence
    assert hits[0].location.offset is not None and hits[0].location.offset < len(evil_pickle(2))
    assert "MH902" in {f.rule for f in report.findings}, _summary(report)
    assert report.verdict is Verdict.MALICIOUS


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
def test_payload_before_a_bomb_in_a_compressed_stream(wrapper: str) -> None:
    member, compress = WRAPPERS[wrapper]
    report = scan_bytes(compress(payload_then_bomb()), name="model.bin", limits=SMALL)
    assert_payload_and_limit(report, member)


def test_payload_before_a_ratio_bomb_with_the_default_limits() -> None:
    report = scan_bytes(bz2.compress(payload_then_bomb(64 << 20)), name="model.bin")
    assert_payload_and_limit(report, "<bz2>")
    assert any("compression ratio" in f.message for f in report.findings if f.rule == "MH902")


def test_bomb_without_a_payload_is_still_not_clean() -> None:
    report = scan_bytes(gzip.compress(b"\x00" * (8 << 20), mtime=0), name="model.bin", limits=SMALL)
    assert "MH902" in {f.rule for f in report.findings}
    assert report.verdict is not Verdict.CLEAN


def _zip(member: str, data: bytes, method: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        archive.writestr(member, data)
        archive.writestr("archive/version", b"3\n")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("method", "limits"),
    [
        (zipfile.ZIP_DEFLATED, SMALL),  # deflate stays under the default ratio: the size limit stops it
        (zipfile.ZIP_BZIP2, SMALL),
        (zipfile.ZIP_LZMA, SMALL),
        (zipfile.ZIP_BZIP2, Limits()),  # the compression ratio stops these
        (zipfile.ZIP_LZMA, Limits()),
    ],
)
def test_payload_before_a_bomb_in_a_zip_member(method: int, limits: Limits) -> None:
    report = scan_bytes(_zip("archive/data.pkl", payload_then_bomb(), method), name="model.bin", limits=limits)
    assert_payload_and_limit(report, "archive/data.pkl")


def _lzma_alone_header(dict_size: int) -> bytes:
    """A 32-byte LZMA-alone stream: properties, dictionary size, unknown length, a few bytes."""
    return bytes([0x5D]) + struct.pack("<I", dict_size) + struct.pack("<Q", 2**64 - 1) + b"\x00" * 19


def test_huge_lzma_dictionary_is_a_limit_not_an_allocation() -> None:
    report = scan_source(BytesSource(_lzma_alone_header(0xFFFFFFFF)), name="x.bin", format_hint="xz")
    limit = [f for f in report.findings if f.rule == "MH902"]
    assert limit and "decoder memory" in limit[0].message, _summary(report)
    assert report.verdict is Verdict.SUSPICIOUS


def test_huge_lzma_dictionary_under_a_memory_limit() -> None:
    """Under RLIMIT_AS the analysis must not die trying to allocate a 4 GiB dictionary."""
    code = textwrap.dedent(
        f"""
        import resource, struct
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from malhug.analyzers.api import scan_source
        from malhug.analyzers.shared.source import BytesSource
        data = {_lzma_alone_header(0xFFFFFFFF)!r}
        report = scan_source(BytesSource(data), name="x.bin", format_hint="xz")
        print(report.verdict.value, sorted({{f.rule for f in report.findings}}))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "suspicious" and "MH902" in done.stdout, done.stdout


def test_zip_lzma_member_with_a_huge_dictionary_is_refused() -> None:
    data = _zip("archive/data.pkl", evil_pickle(2), zipfile.ZIP_LZMA)
    props_at = data.index(b"archive/data.pkl") + len("archive/data.pkl") + 4  # version(2) + props length(2)
    patched = data[: props_at + 1] + struct.pack("<I", 0xFFFFFFFF) + data[props_at + 5 :]
    report = scan_bytes(patched, name="model.bin")
    limit = [f for f in report.findings if f.rule == "MH902" and f.location.member == "archive/data.pkl"]
    assert limit and "dictionary" in limit[0].message, _summary(report)
    assert report.verdict is not Verdict.CLEAN


@pytest.mark.parametrize("filter_id", [py7zr.FILTER_LZMA, py7zr.FILTER_LZMA2])
def test_7z_coder_over_the_decoder_memory_limit_is_refused(filter_id: int) -> None:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", filters=[{"id": filter_id, "dict_size": 1 << 24}]) as archive:
        archive.writestr(evil_pickle(2), "data.pkl")
    data = buf.getvalue()
    refused = scan_bytes(data, name="a.7z", limits=Limits(max_decoder_memory=1 << 20))
    limit = [f for f in refused.findings if f.rule == "MH902"]
    assert limit and "dictionary" in limit[0].message, _summary(refused)
    analyzed = scan_bytes(data, name="a.7z")
    assert analyzed.verdict is Verdict.MALICIOUS and "MH101" in {f.rule for f in analyzed.findings}


def _7z_with_header_dictionary(code: int) -> bytes:
    """A 7z whose encoded (LZMA2-compressed) header names a dictionary of size code ``code``
    (40: 4 GiB - 1); the CRCs are fixed so py7zr would decode it."""
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        archive.writestr(evil_pickle(2), "data.pkl")
    data = bytearray(buf.getvalue())
    offset, size = struct.unpack_from("<QQ", data, 12)
    at = 32 + offset
    assert data[at] == 0x17, "py7zr wrote a plain header"
    props = bytes(data[at : at + size]).index(b"\x21\x21\x01") + 3
    data[at + props] = code
    struct.pack_into("<I", data, 28, zlib.crc32(bytes(data[at : at + size])))
    struct.pack_into("<I", data, 8, zlib.crc32(bytes(data[12:32])))
    return bytes(data)


def test_7z_encoded_header_with_a_huge_dictionary_is_refused_before_py7zr_opens_it() -> None:
    report = scan_bytes(_7z_with_header_dictionary(40), name="a.7z")
    limit = [f for f in report.findings if f.rule == "MH902"]
    assert limit and "7z header decoder dictionary" in limit[0].message, _summary(report)
    assert report.verdict is Verdict.SUSPICIOUS


def test_7z_encoded_header_with_a_small_dictionary_is_read() -> None:
    report = scan_bytes(_7z_with_header_dictionary(16), name="a.7z")  # 1 MiB
    assert report.verdict is Verdict.MALICIOUS and "MH101" in {f.rule for f in report.findings}
