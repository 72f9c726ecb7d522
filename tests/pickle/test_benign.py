"""What benign checkpoints really contain stays clean (the peers' false positives, measured in bench/models/RESULTS.md)."""

from __future__ import annotations

import argparse
import collections
import datetime
import decimal
import enum
import functools
import io
import pathlib
import pickle
import re
import zipfile

import pytest

from malhug.core.model import Severity, Verdict
from tests.pickle.helpers import one, rules, scan, summary


class Color(enum.Enum):
    RED = "red"


Point = collections.namedtuple("Point", ["x", "label"])


class Holder:
    def __init__(self) -> None:
        self.name = "os.system('rm -rf /')"  # text that looks like a command, stored as data

    def greet(self) -> str:
        return self.name


def _torch_data_pkl(obj: object) -> bytes:
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(obj, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith("data.pkl")))


def test_torch_state_dict_is_clean_without_notes() -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Embedding(5, 2).half())
    report = scan(_torch_data_pkl(model.state_dict()))
    assert report.findings == [], summary(report)


def test_torch_parameters_and_optimizer_state_are_clean() -> None:
    torch = pytest.importorskip("torch")
    layer = torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(layer.parameters())
    layer(torch.ones(1, 2)).sum().backward()
    opt.step()
    report = scan(
        _torch_data_pkl(
            {
                "params": list(layer.parameters()),
                "opt": opt.state_dict(),
                "size": torch.Size([2, 3]),
                "dtype": torch.bfloat16,
            }
        )
    )
    assert report.findings == [], summary(report)


def test_torch_whole_model_save_is_a_low_note() -> None:
    torch = pytest.importorskip("torch")
    report = scan(_torch_data_pkl(torch.nn.Sequential(torch.nn.Linear(2, 2))))
    assert report.verdict is Verdict.CLEAN
    assert all(f.severity <= Severity.LOW for f in report.findings), summary(report)


def test_sklearn_estimator_is_clean() -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    np = pytest.importorskip("numpy")
    model = linear_model.LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    for protocol in (2, 5):
        report = scan(pickle.dumps(model, protocol=protocol))
        assert report.findings == [], summary(report)


def test_numpy_arrays_and_scalars_are_clean() -> None:
    np = pytest.importorskip("numpy")
    value = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "s": np.float64(1.5),
        "o": np.array([1, "x"], dtype=object),
    }
    for protocol in (2, 4, 5):
        assert scan(pickle.dumps(value, protocol=protocol)).findings == []


def test_codecs_encode_for_protocol2_bytes_is_clean() -> None:
    data = pickle.dumps({"blob": b"\x00\xff" * 10}, protocol=2)
    assert b"_codecs\nencode" in data
    assert scan(data).findings == []


def test_stdlib_value_types_are_clean() -> None:
    value = [
        re.compile(r"a+b"),
        functools.partial(int, base=2),
        argparse.Namespace(lr=0.1, name="run"),
        pathlib.PurePosixPath("/tmp/x"),
        datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC),
        datetime.timedelta(days=1),
        decimal.Decimal("1.5"),
        {1, 2},
        frozenset({3}),
        slice(1, 2),
        complex(1, 2),
        bytearray(b"ab"),
        range(3),
        collections.OrderedDict(a=1),
        collections.defaultdict(list, {"a": [1]}),
    ]
    for protocol in (0, 2, 4, 5):
        report = scan(pickle.dumps(value, protocol=protocol))
        assert report.findings == [], (protocol, summary(report))


def test_user_classes_enums_and_namedtuples_are_low_notes() -> None:
    report = scan(pickle.dumps({"c": Color.RED, "p": Point(1, "a"), "h": Holder(), "m": Holder().greet}, protocol=4))
    assert report.verdict is Verdict.CLEAN, summary(report)
    assert rules(report) == {"MH108"}
    assert all(f.severity is Severity.LOW for f in report.findings)
    names = " ".join(f.message for f in report.findings)
    assert "Color" in names and "Point" in names and "Holder" in names


def test_bound_method_of_an_ordinary_object_is_clean() -> None:
    data = pickle.dumps([1, 2].append, protocol=4)
    assert b"getattr" in data
    assert scan(data).findings == []


def test_command_text_stored_as_data_is_not_a_finding() -> None:
    vocab = {"os.system('rm -rf /')": 1, "curl http://127.0.0.1 | sh": 2, "exec": 3, "posix system": 4}
    for protocol in (0, 2, 4):
        assert scan(pickle.dumps(vocab, protocol=protocol)).findings == []


@pytest.mark.fires("MH106")
def test_unknown_function_with_text_arguments_is_suspicious() -> None:
    from tests.builders.pickles import call, pickle_of

    report = scan(pickle_of([call("mytools.helpers.run_setup", "rm -rf /tmp/x")], protocol=4))
    assert report.verdict is Verdict.SUSPICIOUS
    assert rules(report) == {"MH106"}


def test_unknown_call_whose_result_is_discarded_is_suspicious() -> None:
    from tests.builders.pickles import call, pickle_of

    report = scan(pickle_of([call("mytools.helpers.prepare", 1)], protocol=4, root={"ok": 1}))
    assert report.verdict is Verdict.SUSPICIOUS
    assert any(f.rule == "MH106" and "discards the result" in f.message for f in report.findings), summary(report)


@pytest.mark.fires("MH108")
def test_unknown_class_rebuilt_and_kept_is_a_note() -> None:
    from tests.builders.pickles import call, pickle_of

    report = scan(pickle_of([call("mytools.models.TinyNet", 3)], protocol=4))
    assert report.verdict is Verdict.CLEAN
    assert rules(report) == {"MH108"}


def test_many_objects_of_one_user_class_are_one_note() -> None:
    from tests.pickle.usercls import Block

    report = scan(pickle.dumps([Block(i) for i in range(50)], protocol=2))
    f = one(report, "MH108")
    assert f.message == "pickle rebuilds an object of the unknown class tests.pickle.usercls.Block (50 times)"
    assert report.verdict is Verdict.CLEAN


def test_print_at_load_time_is_suspicious_not_clean() -> None:
    from tests.builders.pickles import call, pickle_of

    report = scan(pickle_of([call("builtins.print", "you have been owned")], protocol=2))
    assert rules(report) == {"MH106"} and report.verdict is Verdict.SUSPICIOUS
