"""Benign counterparts of what the advisory fixes flag: real objects built with ``pickle.dumps`` (never
loaded) and stored references stay clean or at most a note."""

from __future__ import annotations

import functools
import logging
import operator
import pickle

from malhug.core.model import Verdict
from tests.builders.pickles import Global, Writer
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
