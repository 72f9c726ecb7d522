"""The report contract (docs/REPORT.md) for a pickle finding, end to end through a torch zip, and
robustness: mutated streams never crash the analyzer and never come out clean by accident."""

from __future__ import annotations

import pickle
import random

import pytest

from malhug.analyzers.api import scan_bytes
from tests.builders.pickles import Call, call, pickle_of
from tests.pickle.helpers import scan


def test_design_example_through_a_torch_zip() -> None:
    pytest.importorskip("torch")
    from tests.builders.torchfiles import poisoned_torch_zip

    data = poisoned_torch_zip("archive", [call("os.system", "echo pwned")])
    report = scan_bytes(data, name="models/evil/pytorch_model.bin")
    assert report.verdict.value == "malicious"
    found = [f.to_dict() for f in report.findings if f.rule == "MH101"]
    assert len(found) == 1, report.to_dict()
    f = found[0]
    assert (f["rule"], f["severity"], f["category"]) == ("MH101", "critical", "command-exec")
    assert f["message"].startswith("pickle calls os.system with a constant command")
    assert f["location"]["member"] == "archive/data.pkl"
    assert isinstance(f["location"]["offset"], int) and f["location"]["offset"] > 2
    assert f["evidence"] == "os.system('echo pwned')"
    assert [x.rule for x in report.findings if x.severity.rank >= 2] == ["MH101"]  # the state dict is clean


def test_mutated_streams_never_crash_the_analyzer() -> None:
    seeds = [
        pickle.dumps({"a": [1, 2, (3, "x")], "b": {1, 2}, "c": frozenset("ab"), "d": b"xy", "e": 1.5}, protocol=p)
        for p in range(6)
    ]
    seeds += [
        pickle_of(
            [Call(call("builtins.getattr", call("builtins.__import__", "os"), "system"), ("echo x",))], protocol=p
        )
        for p in (0, 2, 4)
    ]
    rnd = random.Random(20240601)
    for _ in range(400):
        data = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 3)):
            k = rnd.randrange(len(data))
            data[k] = rnd.randrange(256)
        report = scan(bytes(data), hint="pickle")
        assert not any(f.rule == "MH903" for f in report.findings), (bytes(data), report.to_dict())


def test_rendering_a_wide_deep_shared_structure_is_bounded() -> None:
    """Eight levels of eight-wide tuples sharing one memo entry: 8**8 nodes if rendered naively."""
    level = b"\x80\x04K\x01\x94"  # memo 0 = 1
    for i in range(8):
        level += b"(" + b"h" + bytes([i]) + b"" + (b"h" + bytes([i])) * 7 + b"t\x94"
    data = level + b"\x8c\x02os\x8c\x06system\x93h\x08\x85R."
    report = scan(data)
    f = [x for x in report.findings if x.rule == "MH101"]
    assert f and len(f[0].evidence) <= 1000 and f[0].evidence.startswith("os.system(((((")


def test_folding_never_amplifies() -> None:
    """``bytes(10**12)`` and a doubling chain of ``operator.add`` are refused, not computed."""
    huge = pickle_of([call("os.system", call("builtins.bytes", 10**12))], protocol=4)
    assert [f.rule for f in scan(huge).findings] == ["MH101"]
    text: object = "x" * 4096
    for _ in range(40):
        text = call("operator.add", text, text)
    report = scan(pickle_of([call("os.system", text)], protocol=4))
    f = next(f for f in report.findings if f.rule == "MH101")
    assert f.severity.value == "high"  # the command is not followed as a constant


def test_a_payload_repeated_many_times_is_listed_once_per_call_up_to_a_cap() -> None:
    from tests.builders.pickles import payload_ops

    body = payload_ops([call("os.system", "echo again")], 4) * 120
    report = scan(b"\x80\x04" + body + b"N.")
    found = [f for f in report.findings if f.rule == "MH101"]
    assert len(found) == 51
    assert found[-1].message.endswith("(this and 69 more calls like it)")
