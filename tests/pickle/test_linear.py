"""Analysis work grows linearly with the pathological pickle shapes of issue #15.

N nested calls through one memoized callable used to take 12 s at N=4,000 (every call walked its
whole argument subtree again, every reference copied the history of the chain that built it). The
work is counted, never timed: every Python-level and builtin call the scan makes is counted with a
profile hook, for N and 4N; linear work grows about 4x, quadratic work 16x.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

from malhug.core.model import Verdict
from tests.pickle.helpers import s4, scan, sglobal

GET0 = b"h\x00"  # BINGET 0
ECHO = "echo malhug"


def nested_calls(n: int) -> bytes:
    """``system(system(…system('echo malhug')…))``: the callable memoized once, fetched N times."""
    return b"\x80\x04" + sglobal("posix", "system") + b"\x940" + (GET0 + b"(") * n + s4(ECHO) + b"tR" * n + b"."


def getattr_chain(n: int) -> bytes:
    """``getattr(getattr(…getattr(posix.system, '__call__')…, '__call__'), '__call__')('echo …')``."""
    head = b"\x80\x04" + sglobal("builtins", "getattr") + b"\x940" + (GET0 + b"(") * n + sglobal("posix", "system")
    return head + (s4("__call__") + b"tR") * n + s4(ECHO) + b"\x85R."


def through_result(n: int) -> bytes:
    """``f = getattr(posix, 'system')`` memoized as a call result, then ``f(f(…f('echo')…))``."""
    f = sglobal("builtins", "getattr") + sglobal("builtins", "__import__") + s4("posix") + b"\x85R" + s4("system")
    head = b"\x80\x04" + f + b"\x86R\x940"
    return head + (GET0 + b"(") * n + s4(ECHO) + b"tR" * n + b"."


def build_chain(n: int) -> bytes:
    """One object given N BUILD states and N SETITEMs, then a payload call."""
    obj = b"\x80\x04" + sglobal("collections", "OrderedDict") + b")R"
    ops = (b"}" + s4("k") + b"K\x01sb" + s4("k") + b"K\x02s") * n
    payload = sglobal("posix", "system") + s4(ECHO) + b"\x85R"
    return obj + ops + payload + b"\x86."


def deep_tuples(n: int) -> bytes:
    """A payload call wrapped in N nested one-tuples, each memoized."""
    inner = sglobal("posix", "system") + s4(ECHO) + b"\x85R"
    return b"\x80\x04" + inner + b"\x85\x94" * n + b"."


def nested_eval(n: int) -> bytes:
    """``eval(eval(…eval('1')…))`` through one memoized ``eval``: every level is Python code."""
    return b"\x80\x04" + sglobal("builtins", "eval") + b"\x940" + (GET0 + b"(") * n + s4("1") + b"tR" * n + b"."


def count_work(action: Callable[[], Any]) -> tuple[int, Any]:
    """Function calls (Python and builtin) made while ``action`` runs."""
    calls = 0

    def hook(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    old = sys.getprofile()
    sys.setprofile(hook)
    try:
        result = action()
    finally:
        sys.setprofile(old)
    return calls, result


SHAPES = {
    "nested calls": (nested_calls, "MH101"),
    "getattr chain": (getattr_chain, "MH102"),
    "through a memoized result": (through_result, "MH102"),
    "BUILD and SETITEM chain": (build_chain, "MH101"),
    "deep memoized tuples": (deep_tuples, "MH101"),
    "nested eval": (nested_eval, "MH101"),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_work_is_linear_in_the_number_of_opcodes(shape: str) -> None:
    build, rule = SHAPES[shape]
    scan(build(8))  # imports and caches warmed up outside the counts
    small_work, small = count_work(lambda: scan(build(400)))
    large_work, large = count_work(lambda: scan(build(1600)))
    for report in (small, large):
        assert report.verdict is Verdict.MALICIOUS, shape
        assert rule in {f.rule for f in report.findings}, shape
    # 4x the input: linear work is ~4x (plus constant costs), quadratic 16x.
    assert large_work < 6 * small_work, (shape, small_work, large_work)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_evidence_and_messages_stay_bounded(shape: str) -> None:
    build, rule = SHAPES[shape]
    report = scan(build(3000))
    assert report.verdict is Verdict.MALICIOUS
    decisive = [f for f in report.findings if f.rule == rule]
    assert decisive
    for f in report.findings:
        assert len(f.message) <= 2000, (f.rule, f.message[:200])
        assert len(f.evidence) <= 1000, f.rule
        assert len(f.trace) <= 17, f.rule
        assert sum(len(step.message) for step in f.trace) <= 17 * 1000


def test_nested_calls_keep_the_decisive_payload() -> None:
    report = scan(nested_calls(4000))
    constant = [f for f in report.findings if f.rule == "MH101" and "constant command" in f.message]
    assert len(constant) == 1
    assert constant[0].evidence == f"os.system({ECHO!r})"
    assert constant[0].location.offset == nested_calls(4000).index(s4(ECHO)) + len(s4(ECHO)) + 1


def test_long_getattr_chain_is_reported_once_with_a_bounded_path() -> None:
    report = scan(getattr_chain(4000))
    reached = [f for f in report.findings if f.rule == "MH102"]
    assert len(reached) == 1, [f.message[:120] for f in reached[:5]]
    message = reached[0].message
    assert message.startswith("pickle reaches os.system through getattr → getattr")
    assert "…" in message and message.count("getattr") < 40
