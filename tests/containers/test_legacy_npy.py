"""``.npy`` files written by Python 2 (numpy's format spec, ``numpy.lib.format``), read as numpy reads them.

Python 2 wrote ``repr`` of longs in the header (``'shape': (3L, 4L)``), which numpy's reader drops
before its literal parse for version 1.0/2.0 headers; object arrays were pickled with protocol 2 and
Python 2 module names (``copy_reg``, ``__builtin__``), which the unpickler maps with
``fix_imports`` (``_compat_pickle``). Byte strings are ``SHORT_BINSTRING``, longs ``LONG1``.
Written byte by byte; nothing is loaded.
"""

from __future__ import annotations

import pytest

from malhug.analyzers.api import scan_bytes
from malhug.core.model import Verdict
from tests.containers.helpers import evil_pickle


def npy_v1(header: str, body: bytes, newline: bytes = b"\n") -> bytes:
    pad = 64 - (10 + len(header) + len(newline)) % 64
    raw = header.encode("latin-1") + b" " * pad + newline
    return b"\x93NUMPY\x01\x00" + len(raw).to_bytes(2, "little") + raw + body


def py2_object_array() -> bytes:
    """``numpy.array([u'abc', 'xy', 12L], dtype=object)`` as Python 2's numpy pickled it (protocol 2)."""
    return (
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85U\x01b\x87Rq\x03"
        b"(K\x01K\x03\x85cnumpy\ndtype\nq\x04U\x02O8K\x00K\x01\x87Rq\x05"
        b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb\x89]q\x06("
        b"X\x03\x00\x00\x00abcU\x02xy\x8a\x01\x0ce"
        b"tb."
    )


def py2_reconstructor_list() -> bytes:
    """A list holding an old-style ``copy_reg._reconstructor(cls, __builtin__.object, None)`` instance."""
    return b"\x80\x02]q\x00(ccopy_reg\n_reconstructor\nq\x01c__builtin__\nobject\nq\x02h\x02N\x87Rq\x03e."


def report_of(data: bytes) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in scan_bytes(data, name="a.npy").findings]


@pytest.mark.parametrize(
    "header, size",
    [
        ("{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L), }", 24),
        ("{'descr': '<i4', 'fortran_order': True, 'shape': (6L,), }", 24),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8),
        ("{'descr': [('x', '<i4'), ('name', '|S3')], 'fortran_order': False, 'shape': (2L,), }", 14),
    ],
)
def test_py2_headers_with_long_literals_read_as_numpy_reads_them(header: str, size: int) -> None:
    report = scan_bytes(npy_v1(header, b"\x00" * size), name="a.npy")
    assert report.format == "numpy"
    assert report.findings == [], report_of(npy_v1(header, b"\x00" * size))
    assert report.verdict is Verdict.CLEAN


def test_py2_object_array_is_clean_with_no_unknown_import() -> None:
    data = npy_v1("{'descr': '|O', 'fortran_order': False, 'shape': (3L,), }", py2_object_array())
    report = scan_bytes(data, name="a.npy")
    assert {f.rule for f in report.findings} <= {"MH206"}, report_of(data)  # MH206: the object-array note
    assert report.verdict is Verdict.CLEAN


def test_py2_copy_reg_names_are_mapped_like_fix_imports() -> None:
    data = npy_v1("{'descr': '|O', 'fortran_order': False, 'shape': (1L,), }", py2_reconstructor_list())
    report = scan_bytes(data, name="a.npy")
    assert not [f for f in report.findings if f.rule in ("MH106", "MH107", "MH108")], report_of(data)
    assert report.verdict is Verdict.CLEAN


def test_py2_header_does_not_hide_a_payload_in_the_object_array() -> None:
    data = npy_v1("{'descr': '|O', 'fortran_order': False, 'shape': (1L,), }", evil_pickle(2))
    report = scan_bytes(data, name="a.npy")
    assert any(f.rule == "MH101" for f in report.findings), report_of(data)
    assert report.verdict is Verdict.MALICIOUS


def test_long_suffix_inside_a_field_name_is_kept() -> None:
    header = "{'descr': [('a2L', '<i4')], 'fortran_order': False, 'shape': (1L,), }"
    report = scan_bytes(npy_v1(header, b"\x00" * 4), name="a.npy")
    assert report.findings == [] and report.verdict is Verdict.CLEAN


def test_version_3_header_gets_no_py2_filtering() -> None:
    header = "{'descr': '<i4', 'fortran_order': False, 'shape': (1L,), }"
    raw = (header + " " * 3 + "\n").encode()
    data = b"\x93NUMPY\x03\x00" + len(raw).to_bytes(4, "little") + raw + b"\x00" * 4
    report = scan_bytes(data, name="a.npy")
    assert [f.rule for f in report.findings] == ["MH901"]
    assert "not a literal dict" in report.findings[0].message
