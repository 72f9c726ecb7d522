"""Fuzz target: the HDF5 path (``keras/hdf5.py``, the libhdf5 reader process ``keras/h5worker.py``).

Inputs are byte mutations of the Keras H5 builders' output (a benign model and one with a Lambda
whose payload would create a sentinel file), with extra weight on the global heap collection, where
the strings live and where libhdf5 was found to loop. On every input:

- no exception escapes the scan, and no MH903 other than the reader process dying in C (a signal):
  an exception in our own code is a bug;
- the reader is bounded: a small ``max_worker_seconds`` and ``max_worker_memory`` (a hang or a huge
  allocation is MH902, never a hung test);
- never ``clean`` when the payload is reachable: if the verdict is clean and the Lambda's bytecode is
  still in the file, h5py itself (as Keras loads it, in a subprocess with a time-out) must not find
  a ``Lambda`` layer holding it in ``model_config`` (a mutation that breaks the layer's
  ``class_name`` key leaves the bytes in place but nothing Keras would build);
- nothing ran: the sentinel file does not exist.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from malhug.analyzers.dispatch import scan_source
from malhug.analyzers.limits import Limits
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import Verdict
from tests.fuzz.harness import bounded
from tests.keras import h5corrupt
from tests.keras.keraslib import dense, h5_bytes, lambda_b64, lambda_layer, sequential

LIMITS = Limits(max_seconds=20.0, max_worker_seconds=2.0, max_worker_memory=512 * 1024 * 1024, max_members=2_000)
SENTINEL = Path(tempfile.gettempdir()) / "malhug-fuzz-hdf5-sentinel"


@functools.cache
def _payload_b64() -> str:
    return lambda_b64(f"open({str(SENTINEL)!r}, 'w').close() or x")


@functools.cache
def _seeds() -> tuple[bytes, ...]:
    lam = lambda_layer([_payload_b64(), None, None])
    return (
        h5_bytes(sequential(dense("d"), lam)),
        h5_bytes(sequential(dense("d"), dense("e", 2))),
        h5_bytes(sequential(lam), extra_attrs={"notes": "x" * 40}),
    )


@st.composite
def _mutated_h5(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_seeds())))
    heap_start, objects = h5corrupt.heap_objects(bytes(data))
    heap_end = objects[-1][0] + 16 if objects else heap_start + 16
    for _ in range(draw(st.integers(1, 3))):
        n = len(data)
        if not n:
            break
        in_heap = draw(st.booleans()) and heap_end <= n
        pos = draw(st.integers(heap_start, heap_end - 1) if in_heap else st.integers(0, n - 1))
        kind = draw(
            st.sampled_from(("set", "flip", "duplicate", "zero", "length", "truncate", "insert", "set", "zero"))
        )
        if kind == "set":
            data[pos] = draw(st.integers(0, 255))
        elif kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "duplicate":  # a run copied over the bytes after it (the file keeps its size)
            run = bytes(data[pos : pos + draw(st.integers(1, 16))])
            at = min(n - len(run), pos + draw(st.integers(1, 64)))
            data[at : at + len(run)] = run
        elif kind == "zero":
            end = min(n, pos + draw(st.sampled_from((2, 4, 8, 16))))
            data[pos:end] = bytes(end - pos)
        elif kind == "length":
            width = draw(st.sampled_from((2, 4, 8)))
            pos = min(pos, max(0, n - width))
            value = draw(st.sampled_from((0, 1, 0xFFFF, 2**31, n, 2**40, 2**64 - 1)))
            data[pos : pos + width] = (value % (1 << (8 * width))).to_bytes(width, "little")
        elif kind == "truncate":
            del data[max(pos, n // 2) :]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


_LOADER = """
import io, json, sys, h5py
marker = sys.argv[1]
def lambdas(node):
    if isinstance(node, dict):
        if node.get("class_name") == "Lambda" and isinstance(node.get("config"), dict):
            yield json.dumps(node["config"].get("function"))
        for value in node.values():
            yield from lambdas(value)
    elif isinstance(node, list):
        for value in node:
            yield from lambdas(value)
with h5py.File(io.BytesIO(sys.stdin.buffer.read()), "r") as f:
    text = f.attrs["model_config"]
    text = text.decode("utf-8") if isinstance(text, bytes) else str(text)
    found = any(marker in function for function in lambdas(json.loads(text)))
print("REACHABLE" if found else "UNREACHABLE")
"""


def _h5py_reads_the_payload(data: bytes) -> bool:
    """Whether Keras would build the payload's Lambda: h5py reads ``model_config``, it is JSON, and a
    layer of class ``Lambda`` holds the payload's bytecode intact (nothing is ever loaded)."""
    marker = _payload_b64().replace("\n", "")[:60]
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-c", _LOADER, marker], input=data, capture_output=True, timeout=10, cwd="/"
        )
    except subprocess.TimeoutExpired:
        return False  # the loader hangs too: nothing runs
    return proc.stdout.strip() == b"REACHABLE"


@given(_mutated_h5())
def test_fuzz_hdf5(data: bytes) -> None:
    with bounded("hdf5", data, name="fuzzed.h5"):
        report = scan_source(BytesSource(data), name="fuzzed.h5", limits=LIMITS, format_hint="hdf5")
        crashes = [f.message for f in report.findings if f.rule == "MH903" and "killed by SIG" not in f.message]
        assert not crashes, crashes
        assert not SENTINEL.exists(), "a payload ran during the scan"
        payload = _payload_b64().replace("\n", "")[:60].encode()
        if report.verdict is Verdict.CLEAN and payload in data:
            assert not _h5py_reads_the_payload(data), json.dumps([f.message for f in report.findings])
