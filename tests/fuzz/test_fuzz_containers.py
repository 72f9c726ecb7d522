"""Fuzz target: containers (zip reader incl. central-directory fields, npz, tar, 7z, gzip/bz2/xz/lz4/zlib)
through the whole pipeline (``containers/*``)."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import check_scan
from tests.fuzz.mutate import INTERESTING, mutated
from tests.fuzz.seeds import WRAPPERS, container_seeds, malicious_pickles, wrap

NAME = "pytorch_model.bin"
# Zip records: signature -> offsets (and widths) of their integer fields.
ZIP_FIELDS = {
    b"PK\x03\x04": ((4, 2), (6, 2), (8, 2), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2)),
    b"PK\x01\x02": ((6, 2), (8, 2), (10, 2), (16, 4), (20, 4), (24, 4), (28, 2), (30, 2), (32, 2), (34, 2), (42, 4)),
    b"PK\x05\x06": ((4, 2), (6, 2), (8, 2), (10, 2), (12, 4), (16, 4), (20, 2)),
    b"PK\x06\x06": ((24, 8), (32, 8), (40, 8), (48, 8)),
    b"PK\x06\x07": ((8, 8), (16, 4)),
}


def _records(data: bytes) -> list[tuple[int, bytes]]:
    out = []
    for sig in ZIP_FIELDS:
        at = data.find(sig)
        while at >= 0:
            out.append((at, sig))
            at = data.find(sig, at + 1)
    return sorted(out)


@st.composite
def zip_field_edits(draw: st.DrawFn) -> bytes:
    """A zip seed with header fields (sizes, offsets, counts, flags, methods, name lengths) set to
    boundary values, as a hand-crafted archive would."""
    data = bytearray(draw(st.sampled_from([s for s in container_seeds() if s[:2] == b"PK"])))
    records = _records(bytes(data))
    for _ in range(draw(st.integers(1, 4))):
        at, sig = draw(st.sampled_from(records))
        offset, width = draw(st.sampled_from(ZIP_FIELDS[sig]))
        if at + offset + width > len(data):
            continue
        value = draw(st.sampled_from(INTERESTING + (len(data), at)) | st.integers(0, 2 ** (8 * width) - 1))
        data[at + offset : at + offset + width] = (value % 2 ** (8 * width)).to_bytes(width, "little")
    return bytes(data)


@st.composite
def overlapping_zip(draw: st.DrawFn) -> bytes:
    """Central entries that share one local header (a few or many), the zip-bomb layout."""
    data = bytearray(wrap("zip", malicious_pickles()[1]))
    cd = data.find(b"PK\x01\x02")
    eocd = data.rfind(b"PK\x05\x06")
    entry = bytes(data[cd:eocd])
    copies = draw(st.integers(2, 300))
    body = bytes(data[:cd]) + entry * copies
    end = bytearray(data[eocd:])
    struct.pack_into("<HHII", end, 8, copies % 65536, copies % 65536, len(entry) * copies, cd)
    return body + bytes(end)


@given(mutated(container_seeds))
def test_mutated_containers_are_handled(data: bytes) -> None:
    check_scan("containers", data, name=NAME)


@given(zip_field_edits())
def test_zip_header_fields_are_handled(data: bytes) -> None:
    check_scan("containers", data, name=NAME)


@given(overlapping_zip())
def test_overlapping_zip_entries_are_bounded_and_flagged(data: bytes) -> None:
    check_scan("containers", data, name=NAME, must_flag=True)


@given(st.lists(st.sampled_from(WRAPPERS), min_size=1, max_size=3), st.sampled_from(malicious_pickles()))
def test_a_payload_is_found_in_any_chain_of_containers(kinds: list[str], evil: bytes) -> None:
    data = evil
    for kind in kinds:
        data = wrap(kind, data)
    check_scan("containers", data, name=NAME, must_flag=True)


@given(st.dictionaries(st.text("abcdefgh/._", min_size=1, max_size=12), st.binary(max_size=64), max_size=4))
def test_a_poisoned_member_is_found_among_any_other_members(others: dict[str, bytes]) -> None:
    from tests.builders.wrappers import zip_of

    members = {k: v for k, v in others.items() if k != "archive/data.pkl"}
    members["archive/data.pkl"] = malicious_pickles()[1]
    check_scan("containers", zip_of(members), name=NAME, must_flag=True)
