"""A large legitimate pickle (a tokenizer-like vocabulary: over a million memoized keys, millions of
opcodes) stays clean: the pickle limits are set from measured benign files (analyzers/LIMITS.md,
tools/measure_pickle_limits.py), not guesses. Written opcode by opcode, as ``pickle.dumps`` of a
dict and a list writes them (batches of 1,000 items); nothing is unpickled. Work is counted, not timed.
"""

from __future__ import annotations

import struct

from malhug.analyzers.limits import DEFAULT_LIMITS
from malhug.core.model import Verdict
from tests.pickle.helpers import scan, summary

WORDS = 1_200_000
IDS = 2_500_000


def vocab_pickle() -> bytes:
    out = [b"\x80\x04}\x94(\x8c\x05vocab\x94}\x94"]
    for start in range(0, WORDS, 1000):
        out.append(b"(")
        for i in range(start, min(start + 1000, WORDS)):
            word = f"w{i}".encode()
            out.append(b"\x8c" + bytes([len(word)]) + word + b"\x94J" + struct.pack("<i", i))
        out.append(b"u")
    out.append(b"\x8c\x03ids\x94]\x94")
    for start in range(0, IDS, 1000):
        out.append(b"(" + b"K\x07" * min(1000, IDS - start) + b"e")
    out.append(b"u.")
    return b"".join(out)


def test_vocabulary_pickle_beyond_the_old_limits_is_clean() -> None:
    data = vocab_pickle()
    # Beyond the limits this used to have (5M opcodes, 1M memo entries), within today's.
    assert data.count(b"\x94") > 1_000_000
    assert WORDS * 3 + IDS > 5_000_000
    assert WORDS * 3 + IDS < DEFAULT_LIMITS.max_pickle_ops
    report = scan(data)
    assert report.findings == [], summary(report)
    assert report.verdict is Verdict.CLEAN
