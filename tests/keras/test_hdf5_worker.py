"""HDF5 is read by libhdf5 in a killable worker: hangs, deaths and hungry files are findings, never clean.

Nothing here measures seconds: the hanging files are given a small ``max_worker_seconds`` and the
tests assert the finding and that the worker was killed and replaced.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from malhug.analyzers.dispatch import scan_source
from malhug.analyzers.keras import h5worker
from malhug.analyzers.keras.hdf5 import POOL, RAW_WINDOW
from malhug.analyzers.limits import Limits
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import Category, FileReport, Verdict
from tests.keras import h5corrupt
from tests.keras.keraslib import dense, h5_bytes, lambda_b64, lambda_layer, rules, sequential

QUICK = Limits(max_worker_seconds=1.0)
MiB = 1024 * 1024


def _lambda_h5() -> bytes:
    return h5_bytes(sequential(dense("d"), lambda_layer([lambda_b64("os.system('echo malhug') or x"), None, None])))


def _scan(src: object, limits: Limits | None = None, name: str = "model.h5") -> FileReport:
    return scan_source(src, name=name, limits=limits or Limits())  # type: ignore[arg-type]


def _worker_pid() -> int:
    assert POOL.worker is not None and POOL.worker.alive()
    return POOL.worker.pid


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_benign_file_is_clean_and_the_worker_is_reused() -> None:
    data = h5_bytes(sequential(dense("d")))
    assert _scan(BytesSource(data)).verdict is Verdict.CLEAN
    pid, started = _worker_pid(), POOL.started
    report = _scan(BytesSource(data))
    assert report.verdict is Verdict.CLEAN and report.findings == []
    assert (_worker_pid(), POOL.started) == (pid, started)


@pytest.mark.parametrize("corrupt", [h5corrupt.free_space_size_zero, h5corrupt.duplicated_header])
def test_endless_loop_in_libhdf5_is_mh902_and_the_worker_is_replaced(corrupt) -> None:
    data = corrupt(_lambda_h5())
    _scan(BytesSource(h5_bytes(sequential(dense("d")))))  # a worker is running
    pid, started = _worker_pid(), POOL.started
    report = _scan(BytesSource(data), QUICK)
    assert report.format == "hdf5"
    assert rules(report) == ["MH301", "MH902"]
    lam, limit = report.findings
    assert limit.category is Category.RESOURCE_ABUSE
    assert "HDF5 reading time (seconds) exceeds the limit of 1" in limit.message
    # The config was never read through libhdf5: it is found in the raw bytes of the heap.
    config_at = data.index(b'{"class_name": "Sequential"')
    assert lam.location.member == f"offset {config_at}"
    assert "'echo malhug'" in lam.evidence and lam.category is Category.COMMAND_EXEC
    assert report.verdict is Verdict.MALICIOUS
    assert POOL.worker is None and _gone(pid)  # killed and reaped
    after = _scan(BytesSource(_lambda_h5()))
    assert "MH301" in rules(after) and after.verdict is Verdict.MALICIOUS
    assert POOL.started == started + 1 and _worker_pid() != pid


def test_endless_loop_in_a_benign_file_is_suspicious_only() -> None:
    report = _scan(BytesSource(h5corrupt.free_space_size_zero(h5_bytes(sequential(dense("d"))))), QUICK)
    assert rules(report) == ["MH902"]
    assert report.verdict is Verdict.SUSPICIOUS


class _KillingSource(BytesSource):
    """Kills the worker with SIGKILL while it waits for its ``nth`` read (detection's reads, made
    before the worker is asked, do not count)."""

    def __init__(self, data: bytes, nth: int):
        super().__init__(data)
        self.reads = 0
        self.nth = nth
        self.killed: int | None = None

    def read_at(self, offset: int, length: int) -> bytes:
        self.reads += POOL.lock.locked()
        if self.reads == self.nth and self.killed is None:
            self.killed = _worker_pid()
            os.kill(self.killed, signal.SIGKILL)
        return super().read_at(offset, length)


@pytest.mark.parametrize("nth", [1, 3, 6])
def test_worker_killed_mid_read_is_mh903_and_the_next_file_is_analyzed(nth: int) -> None:
    _scan(BytesSource(h5_bytes(sequential(dense("d")))))
    src = _KillingSource(_lambda_h5(), nth)
    report = _scan(src)
    assert src.killed is not None
    assert "MH903" in rules(report)
    f = next(f for f in report.findings if f.rule == "MH903")
    assert "HDF5 reader process failed" in f.message and "SIGKILL" in f.message
    assert report.verdict is not Verdict.CLEAN
    assert _gone(src.killed)
    after = _scan(BytesSource(_lambda_h5()))
    assert "MH301" in rules(after) and "MH903" not in rules(after)
    assert _worker_pid() != src.killed


def test_libhdf5_crashing_on_a_btree_loop_is_mh903_and_what_was_read_stays() -> None:
    report = _scan(BytesSource(h5corrupt.btree_self_loop(_lambda_h5())))
    assert rules(report) == ["MH301", "MH903"]  # the root attributes were read before the crash
    crash = report.findings[1]
    assert "killed by SIGSEGV" in crash.message
    assert report.verdict is Verdict.MALICIOUS
    assert POOL.worker is None
    assert _scan(BytesSource(h5_bytes(sequential(dense("d"))))).verdict is Verdict.CLEAN


def test_collection_larger_than_the_memory_limit_is_mh902() -> None:
    data = h5corrupt.huge_collection(_lambda_h5(), 512 * MiB)
    src = h5corrupt.PaddedSource(data, 520 * MiB)
    report = _scan(src, Limits(max_worker_memory=256 * MiB))
    limits = [f for f in report.findings if f.rule == "MH902"]
    assert {"model_config", "keras_version"} <= {f.location.member for f in limits}
    assert all("needs more memory than the reader's limit" in f.message for f in limits)
    # Keras, with no such limit, would read the config: it is found in the raw bytes instead.
    assert set(rules(report)) == {"MH301", "MH902"}
    assert report.verdict is Verdict.MALICIOUS
    assert src.bytes_read <= RAW_WINDOW + MiB  # the raw window; the collection was never read whole


def test_bytes_the_reader_may_read_are_bounded() -> None:
    data = h5corrupt.huge_collection(_lambda_h5(), 8 * MiB)
    src = h5corrupt.PaddedSource(data, 16 * MiB)
    report = _scan(src, Limits(max_stream_bytes=MiB))
    assert rules(report) == ["MH301", "MH902"]
    assert "HDF5 metadata bytes read exceeds the limit of 1.04858e+06" in report.findings[1].message
    assert src.bytes_read <= 2 * MiB + h5worker.CHUNK  # the reader's bytes, then the raw window
    assert POOL.worker is None  # it was mid-job: killed
    assert _scan(BytesSource(h5_bytes(sequential(dense("d"))))).verdict is Verdict.CLEAN


def test_text_the_reader_sends_back_is_bounded() -> None:
    big = sequential(*(dense(f"dense_{i}") for i in range(400)))  # ~40 KB of model_config
    report = _scan(BytesSource(h5_bytes(big)), Limits(max_decompressed_bytes=16 * 1024))
    assert rules(report) == ["MH902"]
    assert "HDF5 attribute text exceeds the limit of 16384" in report.findings[0].message
    assert _scan(BytesSource(h5_bytes(big))).verdict is Verdict.CLEAN


def test_only_metadata_is_read_through_the_parents_source() -> None:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["model_config"] = json.dumps(sequential(dense("d")))
        f.create_dataset("weights", data=np.ones((512, 1024), dtype="float32"))  # 2 MiB of tensors
    src = BytesSource(buf.getvalue())
    report = _scan(src)
    assert report.verdict is Verdict.CLEAN
    assert 0 < report.bytes_read == src.bytes_read < 64 * 1024


def test_worker_runs_confined(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_malhug_test_token")
    POOL.close()
    _scan(BytesSource(h5_bytes(sequential(dense("d")))))
    pid = _worker_pid()
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert b"hf_malhug_test_token" not in environ and b"HF_TOKEN" not in environ
    limits = Path(f"/proc/{pid}/limits").read_text()
    fsize = next(line for line in limits.splitlines() if line.startswith("Max file size"))
    assert fsize.split()[3:5] == ["0", "0"]
    address = next(line for line in limits.splitlines() if line.startswith("Max address space"))
    assert address.split()[3] == str(Limits().max_worker_memory)
    assert os.readlink(f"/proc/{pid}/cwd") == "/"


_COLD = """
import json, sys
from malhug.analyzers.dispatch import scan_file
report = scan_file(sys.argv[1])
print(json.dumps({"rules": [f.rule for f in report.findings], "h5py": "h5py" in sys.modules,
                  "numpy": "numpy" in sys.modules}))
"""


def test_an_h5_scan_does_not_import_h5py_in_the_scanning_process(tmp_path: Path) -> None:
    path = tmp_path / "model.h5"
    path.write_bytes(_lambda_h5())
    (tmp_path / "h5py.py").write_text("raise SystemExit('a scanned folder was imported')\n")
    proc = subprocess.run(
        [sys.executable, "-c", _COLD, str(path)], capture_output=True, text=True, timeout=120, check=True, cwd=tmp_path
    )
    result = json.loads(proc.stdout)
    assert result == {"rules": ["MH301"], "h5py": False, "numpy": False}
