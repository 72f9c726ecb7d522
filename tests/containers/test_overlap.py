"""Overlapping zip entries (#15): many central-directory entries on one local header, or a member
whose local header lies inside another member's data. Reported (MH202), each distinct member
analyzed once: N entries on one 1 MiB member must not cost N decompressions."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest

from malhug.analyzers.limits import Limits
from malhug.analyzers.shared import ziparchive
from malhug.core.model import FileReport, Verdict
from tests.containers.helpers import PAYLOAD_COMMAND, evil_pickle
from tests.pickle.helpers import scan

STORED, DEFLATED = 0, 8


def _local(name: str, data: bytes, method: int) -> tuple[bytes, int, int, int]:
    """(local record, crc, compressed size, size)."""
    body = data if method == STORED else zlib.compress(data)[2:-4]  # raw deflate
    crc = zlib.crc32(data)
    raw = name.encode()
    header = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(body), len(data), len(raw), 0)
    return header + raw + body, crc, len(body), len(data)


def _central(name: str, method: int, crc: int, csize: int, size: int, offset: int) -> bytes:
    raw = name.encode()
    fixed = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        20,
        20,
        0,
        method,
        0,
        0x21,
        crc,
        csize,
        size,
        len(raw),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    return fixed + raw


def _end(entries: int, central: bytes, at: int) -> bytes:
    return struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, entries, entries, len(central), at, 0)


def shared_header_zip(names: list[str], data: bytes, method: int = DEFLATED) -> bytes:
    """One local record (named ``names[0]``) and one central entry per name, all pointing at it."""
    record, crc, csize, size = _local(names[0], data, method)
    central = b"".join(_central(name, method, crc, csize, size, 0) for name in names)
    return record + central + _end(len(names), central, len(record))


def nested_header_zip() -> bytes:
    """Member ``weights.bin`` (stored) holds, inside its data, the whole local record of
    ``archive/data.pkl``; the directory points at both."""
    inner, icrc, icsize, isize = _local("archive/data.pkl", evil_pickle(2), STORED)
    outer_data = b"\x00" * 64 + inner + b"\x00" * 64
    outer, ocrc, ocsize, osize = _local("weights.bin", outer_data, STORED)
    inner_at = outer.index(inner)
    central = _central("weights.bin", STORED, ocrc, ocsize, osize, 0) + _central(
        "archive/data.pkl", STORED, icrc, icsize, isize, inner_at
    )
    return outer + central + _end(2, central, len(outer))


def _overlap_notes(report: FileReport) -> list[str]:
    return [f.message for f in report.findings if f.rule == "MH202" and "overlap" in f.evidence]


def test_many_entries_on_one_local_header_are_reported_and_analyzed_once(monkeypatch: Any) -> None:
    decompressions = 0
    real = ziparchive.inflate

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal decompressions
        decompressions += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(ziparchive, "inflate", counting)
    payload = evil_pickle(2) + b"\x00" * (1 << 20)
    names = ["archive/data.pkl"] + [f"archive/copy{i}.pkl" for i in range(2000)]
    report = scan(shared_header_zip(names, payload))
    notes = _overlap_notes(report)
    assert len(notes) == 1 and notes[0].startswith("2001 central directory entries share the local header at offset 0")
    payloads = [f for f in report.findings if f.rule == "MH101"]
    assert [f.location.member for f in payloads] == ["archive/data.pkl"]
    assert PAYLOAD_COMMAND in payloads[0].evidence
    assert report.verdict is Verdict.MALICIOUS
    assert decompressions <= 3, decompressions  # not one per entry


def test_a_skipped_name_on_a_shared_header_does_not_hide_the_pickle_entry() -> None:
    """torch reads ``archive/data.pkl`` by its entry; a storage name sharing the header (never read
    by the analysis) must not make the pickle entry look analyzed already."""
    report = scan(shared_header_zip(["archive/data/0", "archive/data.pkl"], evil_pickle(2)))
    assert "archive/data.pkl" in {f.location.member for f in report.findings if f.rule == "MH101"}
    assert _overlap_notes(report)


def test_local_header_inside_another_members_data_is_reported() -> None:
    report = scan(nested_header_zip())
    notes = _overlap_notes(report)
    assert notes and "'archive/data.pkl' starts inside the data of 'weights.bin'" in notes[0], notes
    assert "MH101" in {f.rule for f in report.findings}


def test_separate_members_raise_no_overlap_note() -> None:
    first, crc1, c1, s1 = _local("a.pkl", evil_pickle(2), DEFLATED)
    second, crc2, c2, s2 = _local("b.txt", b"hello", DEFLATED)
    central = _central("a.pkl", DEFLATED, crc1, c1, s1, 0) + _central("b.txt", DEFLATED, crc2, c2, s2, len(first))
    data = first + second + central + _end(2, central, len(first) + len(second))
    report = scan(data)
    assert not [f for f in report.findings if f.rule == "MH202"], [(f.rule, f.message) for f in report.findings]
    assert "MH101" in {f.rule for f in report.findings}


def test_anomalies_of_one_kind_are_capped_and_counted() -> None:
    names = ["archive/data.pkl", *(["dup.txt"] * 500)]
    report = scan(shared_header_zip(names, b"plain text"))
    quirks = [f for f in report.findings if f.rule == "MH202"]
    assert len(quirks) <= 3 * ziparchive.MAX_ANOMALIES_PER_KIND
    assert any(f.evidence == "more" for f in quirks) or len(quirks) < ziparchive.MAX_ANOMALIES_PER_KIND


@pytest.mark.parametrize("entries", [2000])
def test_budget_used_up_stops_the_walk_with_one_note(entries: int) -> None:
    """Distinct entries on one bomb member: the shared decompression budget runs out once, and the
    remaining entries are counted in one MH902 rather than decompressed (or reported) each."""
    bomb = evil_pickle(2) + b"\x00" * (4 << 20)
    record, crc, csize, size = _local("archive/data.pkl", bomb, DEFLATED)
    central = b"".join(
        _central(f"m{i}.pkl", DEFLATED, crc, csize - i, size, 0) for i in range(entries)
    )  # distinct sizes: not the same member twice
    data = record + central + _end(entries, central, len(record))
    report = scan(data, limits=Limits(max_decompressed_bytes=2 << 20))
    limits = [f for f in report.findings if f.rule == "MH902"]
    assert any("more entries not analyzed" in f.message for f in limits)
    assert len(limits) < 10
    assert report.verdict is Verdict.MALICIOUS
