"""Benign files written by the real libraries must scan clean: no finding of medium or worse.

A scanner that flags these (torch state dicts, scikit-learn through joblib, NumPy's protocol-2
``_codecs.encode``, enums, ``functools.partial``, "os.system" as vocabulary text) is unusable on a hub.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from malhug.analyzers.api import scan_file
from malhug.core.model import Severity, Verdict
from tests.builders import write_all
from tests.builders.benign import BENIGN
from tests.builders.benign_matrix import BENIGN_MATRIX

ALL = {**BENIGN, **{f"matrix/{name}": build for name, build in BENIGN_MATRIX.items()}}
NAMES = sorted(ALL)
# Formats a clean verdict must not come from: nothing was analyzed.
NOT_ANALYZED = {"unknown", "text"}


@pytest.fixture(scope="session")
def benign_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("benign")
    write_all(ALL, root, tmp_path_factory.mktemp("benign-scratch"))
    return root


@pytest.mark.parametrize("name", NAMES)
def test_benign_file_scans_clean(benign_dir: Path, name: str) -> None:
    report = scan_file(benign_dir / name)
    loud = [f for f in report.findings if f.severity >= Severity.MEDIUM]
    assert not loud, [(f.rule, f.severity.value, f.category.value, f.location.member, f.message) for f in loud]
    assert report.error is None
    assert report.verdict is Verdict.CLEAN
    assert report.format not in NOT_ANALYZED, f"{name} was not analyzed (format {report.format})"


def test_builders_write_what_the_libraries_write(benign_dir: Path) -> None:
    """The fixtures are the real formats (guards against a builder silently writing something else)."""
    head = {name: (benign_dir / name).read_bytes()[:8] for name in BENIGN}
    assert head["torch_cnn.pt"].startswith(b"PK\x03\x04")
    assert head["torch_legacy.pt"].startswith(b"\x80\x02")
    assert head["array.npy"].startswith(b"\x93NUMPY")
    assert head["keras_dense.h5"].startswith(b"\x89HDF")
    assert head["llama3.gguf"].startswith(b"GGUF")
    assert head["sklearn_compressed.joblib"][:1] == b"x"  # zlib stream
    assert b"_codecs" in (benign_dir / "numpy_protocol2.pkl").read_bytes()
    assert b"os.system" in (benign_dir / "vocab.pkl").read_bytes()
