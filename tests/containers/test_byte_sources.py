"""Every byte source checks its reads the same way (``SourceBase``, exported by ``malhug.analyzers.api``):
a negative offset or length is a caller bug, a read past the end returns fewer bytes (none at or after
the end), a zero-length read returns nothing and reads nothing, and a huge length never allocates more
than the source holds. ``bytes_read`` counts what was transferred."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from malhug.analyzers.api import BytesSource, FileSource, LimitExceeded, SourceBase, clamp_read, covered
from malhug.analyzers.shared.slices import HeadSource, SliceSource
from malhug.hub.rangesource import HttpRangeSource
from malhug.monitor.rescan import KeptSource

DATA = b"0123456789"
HUGE = 2**62


class RecordingHttp:
    """The file served over 'HTTP' from memory, each ranged request recorded."""

    def __init__(self, data: bytes):
        self.data = data
        self.calls: list[tuple[int, int]] = []

    def get_bytes(self, url: str, *, what: str, start: int | None = None, end: int | None = None) -> tuple[bytes, str]:
        assert start is not None and end is not None
        self.calls.append((start, end))
        return self.data[start : end + 1], url


def _file(tmp_path: Path) -> SourceBase:
    path = tmp_path / "ten.bin"
    path.write_bytes(DATA)
    return FileSource(path)


def _slice(tmp_path: Path) -> SourceBase:
    return SliceSource(BytesSource(b"xx" + DATA + b"yy"), 2, len(DATA))


def _http(tmp_path: Path) -> SourceBase:
    return HttpRangeSource(RecordingHttp(DATA), "u", len(DATA), budget=1000, block=4)  # type: ignore[arg-type]


SOURCES: dict[str, Callable[[Path], SourceBase]] = {
    "bytes": lambda tmp: BytesSource(DATA),
    "file": _file,
    "slice": _slice,
    "head": lambda tmp: HeadSource(DATA, len(DATA)),
    "kept": lambda tmp: KeptSource(len(DATA), [(0, DATA)]),
    "http": _http,
}


@pytest.fixture(params=sorted(SOURCES))
def source(request: pytest.FixtureRequest, tmp_path: Path) -> SourceBase:
    src = SOURCES[request.param](tmp_path)
    assert isinstance(src, SourceBase) and src.size == len(DATA) and src.bytes_read == 0
    return src


@pytest.mark.parametrize(("offset", "length"), [(-1, 3), (3, -1), (-5, -5)])
def test_negative_offset_or_length_is_refused(source: SourceBase, offset: int, length: int) -> None:
    with pytest.raises(ValueError, match="negative offset or length"):
        source.read_at(offset, length)
    assert source.bytes_read == 0


@pytest.mark.parametrize(
    ("offset", "length", "expected"),
    [
        (0, 10, DATA),  # exactly the whole source
        (8, 5, b"89"),  # straddles the end: clamped to what is there
        (10, 1, b""),  # at the end
        (11, 4, b""),  # past the end
        (HUGE, HUGE, b""),  # far past the end
        (3, 0, b""),  # zero length
        (0, 0, b""),
        (4, HUGE, b"456789"),  # a huge length: the rest of the source, nothing allocated for the ask
    ],
)
def test_reads_are_clamped_to_the_source(source: SourceBase, offset: int, length: int, expected: bytes) -> None:
    assert source.read_at(offset, length) == expected
    assert source.bytes_read == len(expected)


def test_remote_reads_past_the_end_or_of_nothing_make_no_request() -> None:
    http = RecordingHttp(DATA)
    src = HttpRangeSource(http, "u", len(DATA), budget=1000, block=4)  # type: ignore[arg-type]
    assert src.read_at(3, 0) == src.read_at(10, 5) == src.read_at(HUGE, 1) == b""
    assert http.calls == [] and src.bytes_read == 0
    assert src.read_at(8, HUGE) == b"89"
    assert http.calls == [(8, 9)] and src.bytes_read == 2


def test_remote_read_ahead_counts_what_crossed_the_network_and_hits_are_free() -> None:
    http = RecordingHttp(DATA)
    src = HttpRangeSource(http, "u", len(DATA), budget=1000, block=4)  # type: ignore[arg-type]
    assert src.read_at(1, 2) == b"12"
    assert http.calls == [(1, 4)] and src.bytes_read == 4  # a block of 4 fetched for 2 asked
    assert src.read_at(2, 3) == b"234"  # inside the block: from memory, not counted again
    assert http.calls == [(1, 4)] and src.bytes_read == 4


def test_kept_source_serves_only_kept_segments_and_counts_what_it_served() -> None:
    src = KeptSource(len(DATA), [(6, b"6789"), (0, b"012")])
    assert src.read_at(1, 2) == b"12" and src.read_at(7, HUGE) == b"789"
    assert src.bytes_read == 5
    with pytest.raises(LimitExceeded, match="kept bytes of this file"):
        src.read_at(2, 3)  # 2..4 straddles a gap
    assert src.read_at(10, 1) == b"" and src.bytes_read == 5


def test_head_source_claims_the_whole_size_and_reads_past_the_head_return_nothing() -> None:
    src = HeadSource(b"0123", 10)
    assert src.size == 10 and src.read_at(2, 5) == b"23" and src.read_at(4, 3) == b""
    assert src.bytes_read == 2 and src.read_all() == b"0123"


def test_slice_refuses_a_negative_window_and_stops_at_its_parent_end() -> None:
    with pytest.raises(ValueError, match="negative offset or length"):
        SliceSource(BytesSource(DATA), -1, 3)
    parent = BytesSource(DATA)
    window = SliceSource(parent, 7, 100)
    assert window.size == 3 and window.read_at(1, HUGE) == b"89"
    assert window.bytes_read == parent.bytes_read == 2


def test_clamp_read_and_covered() -> None:
    assert [clamp_read(0, 4, 10), clamp_read(8, 4, 10), clamp_read(10, 4, 10), clamp_read(12, 4, 10)] == [4, 2, 0, 0]
    assert clamp_read(5, HUGE, 10) == 5 and clamp_read(3, 0, 10) == 0
    with pytest.raises(ValueError, match="negative offset or length"):
        clamp_read(-1, 1, 10)
    segments = [(0, b"abc"), (5, b"fgh")]
    assert covered(segments, 1, 2) == b"bc" and covered(segments, 5, 3) == b"fgh"
    assert covered(segments, 2, 4) is None and covered(segments, 7, 2) is None and covered([], 0, 1) is None
