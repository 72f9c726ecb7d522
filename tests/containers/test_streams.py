"""Compressed streams: a pickle payload inside gzip/bz2/xz/lzma/lz4/zlib, real joblib files, faults."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections.abc import Callable
from pathlib import Path

import lz4.frame
import numpy as np
import pytest

from malhug.analyzers import formats
from malhug.analyzers.api import scan_bytes
from malhug.analyzers.limits import Limits
from malhug.core.model import Verdict
from tests.containers.helpers import assert_not_clean, assert_pickle_payload_at, evil_pickle, rules, with_rule

WRAPPERS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": (formats.GZIP, lambda d: gzip.compress(d, mtime=0)),
    "bz2": (formats.BZ2, bz2.compress),
    "xz": (formats.XZ, lzma.compress),
    "lzma-alone": (formats.XZ, lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE)),
    "lz4": (formats.LZ4, lz4.frame.compress),
    "zlib": (formats.ZLIB, zlib.compress),
    "joblib-zfile": (formats.ZLIB, lambda d: b"ZF" + hex(len(d)).encode().ljust(19) + zlib.compress(d)),
}
MEMBER = {
    formats.GZIP: "<gzip>",
    formats.BZ2: "<bz2>",
    formats.XZ: "<xz>",
    formats.LZ4: "<lz4>",
    formats.ZLIB: "<zlib>",
}


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_payload_inside_compressed_stream(wrapper: str, protocol: int) -> None:
    fmt, compress = WRAPPERS[wrapper]
    report = scan_bytes(compress(evil_pickle(protocol)), name="model.joblib")
    assert report.format == fmt
    assert_pickle_payload_at(report, MEMBER[fmt])


@pytest.mark.quiet("MH207")
@pytest.mark.parametrize("method", ["zlib", "gzip", "bz2", "lzma", "xz", "lz4"])
def test_real_joblib_compressed_arrays_are_clean(method: str, tmp_path: Path) -> None:
    import joblib

    path = tmp_path / f"arrays.{method}"
    joblib.dump({"coef": np.arange(100, dtype=np.float64), "names": ["a", "b"]}, path, compress=(method, 3))
    report = scan_bytes(path.read_bytes())
    assert report.verdict is Verdict.CLEAN, [(f.rule, f.location.member, f.message) for f in report.findings]
    assert not rules(report) & {"MH901", "MH902", "MH903", "MH207"}


def test_gzip_original_name_locates_findings() -> None:
    import io

    buf = io.BytesIO()
    with gzip.GzipFile(filename="weights.pkl", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(evil_pickle())
    assert_pickle_payload_at(scan_bytes(buf.getvalue()), "weights.pkl")


def test_payload_before_a_truncated_stream_is_still_found() -> None:
    noise = np.random.default_rng(0).bytes(20000)  # incompressible, so a cut loses only the end
    stream = gzip.compress(evil_pickle() + noise, mtime=0)
    report = scan_bytes(stream[: len(stream) // 2])
    assert "MH901" in rules(report)
    assert report.verdict is Verdict.MALICIOUS
    corrupt = zlib.compress(evil_pickle() + bytes(range(256)) * 40)
    broken = corrupt[:200] + b"\xff" * 50 + corrupt[250:]
    report = scan_bytes(broken)
    assert "MH901" in rules(report)
    assert_not_clean(report)


@pytest.mark.quiet("MH207")
@pytest.mark.fires("MH207")
def test_trailing_data_after_stream() -> None:
    report = scan_bytes(gzip.compress(b"just text\n", mtime=0) + b"HIDDEN PAYLOAD HERE")
    finding = with_rule(report, "MH207")[0]
    assert finding.evidence == b"HIDDEN PAYLOAD HERE".hex()
    assert report.verdict is Verdict.SUSPICIOUS
    # Concatenated gzip members are one stream (gzip -c a b), not trailing data.
    both = gzip.compress(b"part one ", mtime=0) + gzip.compress(b"part two\n", mtime=0)
    assert "MH207" not in rules(scan_bytes(both))


def test_decompression_bomb_is_a_limit() -> None:
    bomb = gzip.compress(b"\0" * (16 << 20), mtime=0)
    report = scan_bytes(bomb, limits=Limits(max_decompressed_bytes=2 << 20))
    assert "MH902" in rules(report)
    assert_not_clean(report)
    report = scan_bytes(bz2.compress(b"\0" * (16 << 20)), limits=Limits(max_compression_ratio=100))
    assert "MH902" in rules(report)
