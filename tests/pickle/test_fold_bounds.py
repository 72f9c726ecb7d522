"""Constant folding cannot be made to allocate more than it follows (#15).

A memoized 1 MiB separator joining 2,000 items is 2 GiB of output from a 1 MiB pickle: folding it
exhausted memory, and the exec call it fed was reported only as an analysis failure (MH902). The
join is now refused before it is computed; memory is measured with tracemalloc, never time.
"""

from __future__ import annotations

import struct
import tracemalloc

import pytest

from malhug.core.model import Verdict
from tests.pickle.helpers import s4, scan, sglobal

SEP = "A" * (1 << 20)


def _binunicode(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def join_bomb(how: str) -> bytes:
    items = b"(" + s4("a") * 2000 + b"l"
    if how == "str.join":
        joined = sglobal("builtins", "str.join") + _binunicode(SEP) + items + b"\x86R"
    else:  # getattr(sep, 'join')(items)
        joined = sglobal("builtins", "getattr") + _binunicode(SEP) + s4("join") + b"\x86R" + items + b"\x85R"
    return b"\x80\x04" + sglobal("builtins", "exec") + joined + b"\x85R."


@pytest.mark.parametrize("how", ["str.join", "bound join"])
def test_amplifying_join_is_not_folded(how: str) -> None:
    tracemalloc.start()
    try:
        report = scan(join_bomb(how))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, peak  # 2 GiB if the join were computed
    assert report.verdict is Verdict.MALICIOUS
    assert "MH101" in {f.rule for f in report.findings}, [(f.rule, f.message) for f in report.findings]
    assert "MH902" not in {f.rule for f in report.findings}


def test_small_join_is_still_folded() -> None:
    data = (
        b"\x80\x04"
        + sglobal("posix", "system")
        + sglobal("builtins", "str.join")
        + s4(" ")
        + b"("
        + s4("echo")
        + s4("malhug")
        + b"l\x86R\x85R."
    )
    report = scan(data)
    hits = [f for f in report.findings if f.rule == "MH101"]
    assert hits and "constant command" in hits[0].message
