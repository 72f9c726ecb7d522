"""A 4 GiB PyTorch checkpoint is scanned by reading its directory and its pickle, nothing else."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from malhug.analyzers import formats
from malhug.analyzers.api import scan_file
from malhug.core.model import Verdict
from tests.builders.torchfiles import read_records
from tests.containers.helpers import assert_pickle_payload_at, evil_pickle
from tests.containers.zipbytes import sparse_zip64

FOUR_GIB = 4 << 30
MIB = 1 << 20
# Two short tail reads (detection and analysis), the local headers read-ahead and data.pkl.
EXPECTED_MAX = 64 * 1024


def _require_sparse_files(folder: Path) -> None:
    """Skip (instead of writing 4 GiB of zeros) on a filesystem without holes."""
    probe = folder / "sparse-probe"
    with probe.open("wb") as f:
        f.seek(64 * MIB)
        f.write(b"\0")
    allocated = probe.stat().st_blocks * 512
    probe.unlink()
    if allocated > MIB:
        pytest.skip("the temporary filesystem does not support sparse files")


def _checkpoint(path: Path, data_pkl: bytes) -> None:
    _require_sparse_files(path.parent)
    sparse_zip64(
        path,
        [
            ("archive/data.pkl", data_pkl),
            ("archive/byteorder", b"little"),
            ("archive/data/0", FOUR_GIB),  # a hole: never written, never read
            ("archive/version", b"3\n"),
        ],
    )


def test_four_gib_checkpoint_costs_under_one_mib(torch_zip: bytes, tmp_path: Path) -> None:
    path = tmp_path / "pytorch_model.bin"
    _checkpoint(path, read_records(torch_zip)["data.pkl"])
    assert path.stat().st_size > FOUR_GIB
    with zipfile.ZipFile(path) as zf:  # the hand-built archive is a valid zip64
        assert zf.getinfo("archive/data/0").file_size == FOUR_GIB
    report = scan_file(path, hash_file=False)
    assert report.format == formats.PYTORCH_ZIP
    assert report.bytes_read < EXPECTED_MAX < MIB, report.bytes_read
    assert report.verdict is Verdict.CLEAN, [(f.rule, f.message) for f in report.findings]
    assert not any(f.location.member == "archive/data/0" for f in report.findings)


def test_four_gib_poisoned_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "model.ckpt"
    _checkpoint(path, evil_pickle())
    report = scan_file(path, hash_file=False)
    assert report.bytes_read < EXPECTED_MAX < MIB, report.bytes_read
    assert_pickle_payload_at(report, "archive/data.pkl")
