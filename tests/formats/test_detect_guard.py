"""Detection runs inside the dispatcher's guard, and its decompression trial is memory-bounded.

A detection failure is a finding (MH901/MH902/MH903), never a traceback; a 32-byte LZMA-alone header
declaring a multi-GiB dictionary is not allocated (checked under RLIMIT_AS in a subprocess).
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import malhug.analyzers.detect as detect
from malhug.analyzers import formats
from malhug.analyzers.api import scan_bytes
from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import Verdict
from tests.containers.helpers import evil_pickle


def _raiser(exc: BaseException) -> Callable[..., None]:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise exc

    return boom


@pytest.mark.parametrize(
    ("exc", "rule"),
    [
        (RuntimeError("boom"), "MH903"),
        (LimitExceeded("detection bytes", 10, 20), "MH902"),
        (MalformedInput("bad header", 3), "MH901"),
        (MemoryError(), "MH902"),
        (RecursionError(), "MH902"),
    ],
)
def test_detection_failure_is_a_finding(monkeypatch: pytest.MonkeyPatch, exc: BaseException, rule: str) -> None:
    monkeypatch.setattr(detect, "_magic", _raiser(exc))
    report = scan_bytes(b"\x80\x02N.", name="model.bin")
    hits = [f for f in report.findings if f.rule == rule]
    assert hits and hits[0].message.startswith("format detection"), report.findings
    assert report.verdict is Verdict.SUSPICIOUS
    assert "MH904" not in {f.rule for f in report.findings}  # the failure is the finding, not "unknown"


def test_detection_failure_inside_a_container_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    real = detect.detect_analyses

    def flaky(src: BytesSource, name: str = "", limits: object = None) -> list[str]:
        if name == "inner.bin":
            raise RuntimeError("boom")
        return real(src, name)

    import malhug.analyzers.dispatch as dispatch

    monkeypatch.setattr(dispatch, "detect_analyses", flaky)
    ctx = ScanContext(name="a.zip")
    ctx.scan_nested(BytesSource(b"\x80\x02N."), "inner.bin")
    (hit,) = [f for f in ctx.findings if f.rule == "MH903"]
    assert hit.location.member == "inner.bin"


def _lzma_alone(dict_size: int) -> bytes:
    return bytes([0x5D]) + struct.pack("<I", dict_size) + b"\xff" * 8 + b"\x00" * 19


def test_lzma_alone_trial_passes_a_memlimit() -> None:
    # 3 GiB (a size encoders write): recognised as xz without allocating; 4 GiB - 1: not a header.
    assert detect._is_lzma_alone(_lzma_alone(0xC0000000))
    assert not detect._is_lzma_alone(_lzma_alone(0xFFFFFFFF))


_UNDER_RLIMIT = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (768 << 20, 768 << 20))
    from malhug.analyzers.api import scan_bytes
    from malhug.analyzers.detect import detect_analyses
    from malhug.analyzers.shared.source import BytesSource
    out = {}
    for arg in sys.argv[1:]:
        data = bytes.fromhex(arg)
        report = scan_bytes(data, name="x.bin")
        out[arg] = [detect_analyses(BytesSource(data)), report.verdict.value, sorted({f.rule for f in report.findings})]
    print(json.dumps(out))
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS semantics")
def test_huge_lzma_dictionary_under_a_memory_limit(tmp_path: Path) -> None:
    headers = [_lzma_alone(0xC0000000).hex(), _lzma_alone(0xFFFFFFFF).hex()]
    proc = subprocess.run(
        [sys.executable, "-c", _UNDER_RLIMIT, *headers], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    analyses, verdict, _rules = out[headers[0]]
    assert analyses == [formats.XZ]
    assert verdict != "clean"  # whatever the xz analyzer meets, it is reported
    analyses, _verdict, rules = out[headers[1]]
    assert analyses == [formats.UNKNOWN] and rules == ["MH904"]


def test_evil_pickle_still_detected_with_guard() -> None:
    report = scan_bytes(evil_pickle(), name="m.bin")
    assert report.format == formats.PICKLE and "MH101" in {f.rule for f in report.findings}
