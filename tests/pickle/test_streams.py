"""Several pickles in one stream, legacy torch files, joblib raw arrays, trailing data."""

from __future__ import annotations

import io
import os
import pickle
from typing import Any

import pytest

from malhug.core.model import Severity, Verdict
from tests.builders.pickles import call, payload_ops, pickle_of
from tests.pickle.helpers import one, rules, scan, summary

ECHO = "echo malhug"


class Payload:
    """Pickles as ``os.system(command)``; never unpickled."""

    def __init__(self, command: str = ECHO) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (self.command,))


def test_second_pickle_in_the_stream_is_interpreted() -> None:
    first = pickle.dumps({"a": 1}, protocol=4)
    data = first + pickle.dumps(Payload(), protocol=4) + pickle.dumps([1], protocol=0)
    report = scan(data)
    f = one(report, "MH101")
    assert f.location.offset is not None and f.location.offset > len(first)
    assert rules(report) == {"MH101"}


@pytest.mark.fires("MH111")
def test_trailing_bytes_are_a_low_note() -> None:
    data = pickle.dumps({"a": 1}, protocol=4) + b"\x00\x01\x02trailer"
    report = scan(data)
    f = one(report, "MH111")
    assert (f.severity, f.location.offset, report.verdict) == (Severity.LOW, data.index(b"\x00\x01"), Verdict.CLEAN)


@pytest.mark.fires("MH901")
def test_broken_second_pickle_is_malformed() -> None:
    data = pickle.dumps({"a": 1}, protocol=4) + b"\x80\x04K\x01\xff"
    f = one(scan(data), "MH901")
    assert "after 1 complete pickle" in f.message


def _legacy(obj: object) -> bytes:
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def test_legacy_torch_stream_with_raw_storages_is_clean() -> None:
    torch = pytest.importorskip("torch")
    data = _legacy({"w": torch.arange(64, dtype=torch.float32)})
    report = scan(data, hint="pickle")
    assert report.findings == [], summary(report)


def test_legacy_torch_payload_in_the_model_pickle() -> None:
    torch = pytest.importorskip("torch")
    data = _legacy({"w": torch.zeros(3), "evil": Payload()})
    report = scan(data, hint="pickle")
    assert one(report, "MH101").evidence == f"os.system('{ECHO}')"
    assert report.verdict is Verdict.MALICIOUS


def _joblib(value: object, seekable: bool = True) -> bytes:
    joblib = pytest.importorskip("joblib")
    buf = io.BytesIO()
    if seekable:
        joblib.dump(value, buf)
        return buf.getvalue()

    class Unseekable(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            return buf.write(b)

        def tell(self) -> int:
            raise io.UnsupportedOperation("tell")

    joblib.dump(value, io.BufferedWriter(Unseekable()))
    return buf.getvalue()


@pytest.mark.parametrize("seekable", [True, False])
def test_joblib_arrays_are_skipped_exactly(seekable: bool) -> None:
    np = pytest.importorskip("numpy")
    value = {
        "f": np.arange(7, dtype=np.float64),
        "i": np.arange(12, dtype=np.int16).reshape(3, 4),
        "fortran": np.asfortranarray(np.ones((2, 3), dtype=np.float32)),
        "u": np.array(["ab", "c"]),
        "b": np.array([True, False]),
        "rec": np.zeros(2, dtype=[("a", "f4"), ("b", "i2")]),
        "empty": np.zeros((0, 3)),
        "scalar": np.float64(2.0),
        "obj": np.array([1, "x", None], dtype=object),
    }
    report = scan(_joblib(value, seekable))
    assert report.findings == [], summary(report)


def test_payload_after_joblib_raw_arrays_is_found() -> None:
    np = pytest.importorskip("numpy")
    data = _joblib({"coef": np.arange(64, dtype=np.float64), "hook": Payload()})
    f = one(scan(data), "MH101")
    assert f.location.offset is not None and f.location.offset > data.index(np.arange(64, dtype=np.float64).tobytes())


def test_payload_inside_a_joblib_object_array() -> None:
    np = pytest.importorskip("numpy")
    array = np.empty(2, dtype=object)
    array[0], array[1] = 1, Payload()
    report = scan(_joblib({"coef": np.ones(3), "objs": array}))
    assert one(report, "MH101").evidence == f"os.system('{ECHO}')"


def test_joblib_array_past_the_end_is_malformed() -> None:
    np = pytest.importorskip("numpy")
    data = _joblib({"coef": np.arange(64, dtype=np.float64)})
    cut = data.index(np.arange(64, dtype=np.float64).tobytes()) + 100
    f = one(scan(data[:cut]), "MH901")
    assert "joblib array data" in f.message


def test_injected_payload_between_array_and_rest() -> None:
    np = pytest.importorskip("numpy")
    array = np.arange(16, dtype=np.float64)
    data = _joblib({"coef": array})
    end = data.find(array.tobytes()) + array.nbytes
    evil = data[:end] + payload_ops([call("posix.system", ECHO)], 4) + data[end:]
    assert one(scan(evil), "MH101").location.offset == end + len(payload_ops([call("posix.system", ECHO)], 4)) - 2


def test_sentinel_is_never_created(tmp_path: Any) -> None:
    """Scanning payloads that would create a file (directly, nested, after arrays) creates nothing."""
    np = pytest.importorskip("numpy")
    sentinel = tmp_path / "malhug-sentinel"
    command = f"touch {sentinel}"
    inner = pickle_of([call("os.system", command)], protocol=2)
    fixtures = [
        inner,
        pickle_of([call("pickle.loads", inner)], protocol=3),
        pickle_of([call("builtins.exec", f"import os; os.system({command!r})")], protocol=0),
        _joblib({"a": np.ones(4), "b": Payload(command)}),
        inner[:-1] + b"\xff broken",
    ]
    for data in fixtures:
        report = scan(data)
        assert report.verdict is Verdict.MALICIOUS, summary(report)
    assert not sentinel.exists()
    assert one(scan(inner), "MH101").evidence == f"os.system('{command}')"


def test_joblib_wrapper_with_a_dtype_class_reads_a_nested_pickle() -> None:
    """A dtype given as a class makes joblib's ``dtype.hasobject`` truthy: a pickle follows."""
    from tests.pickle.helpers import s4, sglobal

    state = (
        b"}(" + s4("shape") + b"K\x01\x85" + s4("dtype") + sglobal("numpy", "float64") + s4("order") + s4("C") + b"u"
    )
    wrapper = sglobal("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81" + state + b"b"
    data = b"\x80\x04" + wrapper + pickle_of([call("os.system", "echo hidden")], protocol=4) + b"."
    report = scan(data)
    assert one(report, "MH101").evidence == "os.system('echo hidden')"
    assert "MH901" not in rules(report)


def test_large_legacy_checkpoint_reads_only_its_pickles(tmp_path: Any) -> None:
    torch = pytest.importorskip("torch")
    from malhug.analyzers.api import scan_file

    path = tmp_path / "legacy.bin"
    path.write_bytes(_legacy({"w": torch.zeros(3_000_000)}))  # 12 MB of raw storage after the pickles
    report = scan_file(path, hash_file=False)
    assert report.findings == [], summary(report)
    assert report.bytes_read < 5 * 1024 * 1024 < path.stat().st_size  # the first window, not 12 MB


def test_payload_past_the_first_window_is_found() -> None:
    data = (
        pickle.dumps([b"\x00" * (5 * 1024 * 1024)], protocol=4)[:-1]
        + b"0"
        + pickle_of([call("os.system", "echo late")], protocol=4)[2:]
    )
    f = one(scan(data), "MH101")
    assert f.location.offset is not None and f.location.offset > 5 * 1024 * 1024


def test_stream_larger_than_the_limit_reports_what_it_read() -> None:
    from malhug.analyzers.limits import Limits

    head = pickle_of([call("os.system", "echo early")], protocol=4)[:-1] + b"0"
    data = head + pickle.dumps([b"\x00" * (3 * 1024 * 1024)], protocol=4)[2:]
    report = scan(data, Limits(max_stream_bytes=1024 * 1024))
    assert rules(report) == {"MH101", "MH902"}, summary(report)
    assert "pickle stream bytes" in one(report, "MH902").message
