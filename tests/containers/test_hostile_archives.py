"""Archive headers built to exhaust the parser rather than to be read (#15)."""

from __future__ import annotations

import io
import tarfile

import pytest

from malhug.analyzers.api import scan_bytes
from malhug.core.model import Verdict
from tests.containers.helpers import evil_pickle


def _longname_header(name: bytes = b"x" * 200) -> bytes:
    info = tarfile.TarInfo("././@LongLink")
    info.type = tarfile.GNUTYPE_LONGNAME
    info.size = len(name) + 1
    data = name + b"\x00"
    return info.tobuf(format=tarfile.GNU_FORMAT) + data + b"\x00" * (-len(data) % 512)


def _record(name: str, data: bytes) -> bytes:
    """One member's header and padded data, without the archive's end blocks."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info.tobuf(format=tarfile.GNU_FORMAT) + data + b"\x00" * (-len(data) % 512)


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("where", ["first member", "after a member"])
def test_chain_of_gnu_long_name_headers_is_a_limit_not_a_crash(where: str) -> None:
    """tarfile reads each extended header recursively: 5,000 in a row overflowed the stack in
    format detection and in the tar analyzer (a traceback instead of a report)."""
    chain = _longname_header() * 5000
    member = _tar({"model.pkl": evil_pickle(2)})
    if where == "first member":
        data = chain + member
    else:
        data = _record("config.txt", b"{}") + chain + member  # a member, then the chain
    report = scan_bytes(data, name="x.tar")
    limit = [f for f in report.findings if f.rule == "MH902"]
    assert limit and "extended headers" in limit[0].message, [(f.rule, f.message) for f in report.findings]
    assert report.verdict is not Verdict.CLEAN


@pytest.mark.quiet("MH902")
def test_a_few_long_names_are_read() -> None:
    data = _longname_header(b"a" * 300 + b".pkl") * 3 + _tar({"ignored": evil_pickle(2)})
    report = scan_bytes(data, name="x.tar")
    assert report.verdict is Verdict.MALICIOUS
    assert "MH902" not in {f.rule for f in report.findings}
    assert any(f.location.member == "a" * 300 + ".pkl" for f in report.findings if f.rule == "MH101")
