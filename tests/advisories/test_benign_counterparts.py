"""Benign counterparts of what the advisory fixes flag: real objects built with ``pickle.dumps`` (never
loaded) and stored references stay clean or at most a note."""

from __future__ import annotations

import functools
import logging
import operator
import pickle

import pytest
import torch

from malhug.core.model import Verdict
from tests.builders.pickles import Global, Writer
from tests.builders.torchfiles import read_records, torch_save_bytes
from tests.pickle.helpers import rules, scan, summary


def _root(value: object, protocol: int = 4) -> bytes:
    w = Writer(protocol).header()
    w.value(value)
    return bytes(w.op(b"."))


def test_stored_functools_reduce_is_a_note() -> None:
    report = scan(_root({"combine": Global("functools", "reduce")}))
    assert report.verdict is not Verdict.MALICIOUS, summary(report)
    assert rules(report) == {"MH106"}


def test_real_itemgetter_and_partial_of_reduce_objects_are_not_malicious() -> None:
    data = pickle.dumps({"key": operator.itemgetter("score"), "idx": operator.itemgetter(1)}, protocol=4)
    report = scan(data)
    assert report.verdict is Verdict.CLEAN, summary(report)
    total = functools.partial(functools.reduce, operator.add)
    report = scan(pickle.dumps({"total": total}, protocol=4))
    assert report.verdict is not Verdict.MALICIOUS, summary(report)


def test_pickled_logger_is_clean() -> None:
    report = scan(pickle.dumps({"log": logging.getLogger("malhug.model")}, protocol=4))
    assert report.verdict is Verdict.CLEAN and report.findings == [], summary(report)


def test_unbound_method_payload_index_does_not_touch_benign_classes() -> None:
    """A model class rebuilt through its own classmethod-like qualname stays an unknown-name note."""
    data = _root({"cfg": Global("mylib.config", "Config.from_dict")})
    report = scan(data)
    assert report.verdict is Verdict.CLEAN, summary(report)


def test_tensor_subclass_rebuilt_through_rebuild_from_type_v2_is_clean() -> None:
    """torch pickles tensor subclasses as _rebuild_from_type_v2(_rebuild_tensor_v2, cls, args, state):
    the applied function is torch's own rebuild helper."""
    tensor = torch.ones(3).as_subclass(Tagged)
    records = read_records(torch_save_bytes({"w": tensor}))
    data = next(v for k, v in records.items() if k.endswith("data.pkl"))
    assert b"_rebuild_from_type_v2" in data
    report = scan(data)
    assert report.verdict is Verdict.CLEAN, summary(report)
    assert rules(report) <= {"MH108"}


class Tagged(torch.Tensor):
    """A tensor subclass as users define them."""


@pytest.mark.quiet("MH101", "MH102", "MH109")
def test_pickled_map_of_a_builtin_is_not_malicious() -> None:
    """map objects pickle as builtins.map(func, iterator); a harmless func stays harmless."""
    report = scan(pickle.dumps({"labels": map(str, [1, 2])}, protocol=4))
    assert report.verdict is not Verdict.MALICIOUS, summary(report)
    assert not rules(report) & {"MH101", "MH102", "MH109"}


def test_plain_attrgetter_and_methodcaller_objects_are_clean() -> None:
    """Getter objects stored in configs (sort keys, field accessors) fetch harmless names; one that fetches
    a dangerous name stays malicious (tests/pickle/test_gadgets.py)."""
    data = pickle.dumps({"key": operator.attrgetter("score.value"), "norm": operator.methodcaller("lower")}, protocol=4)
    report = scan(data)
    assert report.verdict is Verdict.CLEAN, summary(report)
    bad = scan(pickle.dumps({"key": operator.attrgetter("system")}, protocol=4))
    assert bad.verdict is Verdict.MALICIOUS and "MH101" in rules(bad), summary(bad)
