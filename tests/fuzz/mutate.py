"""Strategies that start from seed inputs and mutate them, as a coverage-blind fuzzer would.

``mutated(seeds)`` draws a seed and applies a few edits: bit flips, byte sets, insertions and
deletions, splices from another seed, duplicated runs (the "few duplicated bytes" class), truncation,
appended or prepended bytes, and length-field edits (an integer of 1/2/4/8 bytes, either byte order,
overwritten with a boundary value: 0, 1, 0x7f..., 0xff..., the input's own length and its neighbours).
Hypothesis shrinks a failing input towards the seed with fewer edits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hypothesis import strategies as st

INTERESTING = (
    0,
    1,
    2,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0xFFFF,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    2**63 - 1,
    2**64 - 1,
)
EDITS = ("flip", "set", "insert", "delete", "splice", "duplicate", "length", "truncate", "append", "prepend")
FILL = (b"\x00", b"\xff", b"A", b"\x80", b"(", b".", b"\n", b"{", b"}", b'"', b"\\")


def _seeds(seeds: Sequence[bytes] | Callable[[], Sequence[bytes]]) -> st.SearchStrategy[bytes]:
    """Seeds given as a list, or as a function building them on first draw (seed builders import
    torch, h5py, onnx…; a test module should not pay that at collection)."""
    if callable(seeds):
        build = seeds
        return st.deferred(lambda: st.sampled_from(list(build())))
    return st.sampled_from(list(seeds))


@st.composite
def _edit(draw: st.DrawFn, data: bytearray, donors: st.SearchStrategy[bytes]) -> None:
    kind = draw(st.sampled_from(EDITS))
    n = len(data)
    pos = draw(st.integers(0, n))
    if kind == "flip" and n:
        pos = min(pos, n - 1)
        data[pos] ^= 1 << draw(st.integers(0, 7))
    elif kind == "set" and n:
        pos = min(pos, n - 1)
        data[pos] = draw(st.integers(0, 255))
    elif kind == "insert":
        fill = draw(st.sampled_from(FILL) | st.binary(min_size=1, max_size=8))
        data[pos:pos] = fill * draw(st.integers(1, 64))
    elif kind == "delete" and n:
        del data[pos : pos + draw(st.integers(1, 64))]
    elif kind == "splice":
        donor = draw(donors)
        if donor:
            start = draw(st.integers(0, len(donor) - 1))
            chunk = donor[start : start + draw(st.integers(1, 512))]
            if draw(st.booleans()):
                data[pos : pos + len(chunk)] = chunk  # overwrite
            else:
                data[pos:pos] = chunk
    elif kind == "duplicate" and n:
        run = bytes(data[pos : pos + draw(st.integers(1, 32))])
        data[pos:pos] = run * draw(st.integers(1, 4))
    elif kind == "length" and n:
        width = draw(st.sampled_from((1, 2, 4, 8)))
        pos = min(pos, max(0, n - width))
        value = draw(st.sampled_from(INTERESTING + (n, n - 1, n + 1, n - pos, 2 * n)) | st.integers(0, 2**64 - 1))
        value %= 1 << (8 * width)
        data[pos : pos + width] = value.to_bytes(width, draw(st.sampled_from(("little", "big"))))
    elif kind == "truncate" and n:
        del data[pos:]
    elif kind == "append":
        data += draw(st.binary(max_size=256) | donors)
    elif kind == "prepend":
        data[0:0] = draw(st.binary(min_size=1, max_size=64))


def mutated(
    seeds: Sequence[bytes] | Callable[[], Sequence[bytes]], *, max_edits: int = 6, donors: Sequence[bytes] = ()
) -> st.SearchStrategy[bytes]:
    """A seed with up to ``max_edits`` edits (splices take chunks from the seeds themselves or ``donors``)."""
    base = _seeds(seeds)
    donor = base if not donors else base | st.sampled_from(list(donors))

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(base))
        for _ in range(draw(st.integers(0, max_edits))):
            draw(_edit(data, donor))
        return bytes(data)

    return build()


def garbage(max_size: int = 512) -> st.SearchStrategy[bytes]:
    """Bytes a loader never reads (after a pickle's STOP, after a GGUF's tensor table...)."""
    return st.binary(max_size=max_size) | st.sampled_from((b"\x00" * 4096, b"PK\x03\x04", b"\x80\x05", b"garbage\n"))
