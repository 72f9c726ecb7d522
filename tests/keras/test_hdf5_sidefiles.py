"""Files a Keras HDF5 model names and libhdf5 opens when h5py reads it, scanned with the model.

h5py follows an external link when the linked object is read (``h5py.ExternalLink``), reads a
virtual dataset's data from its source files (``h5py.VirtualSource``) and a dataset with external
storage from raw files (``create_dataset(external=...)``): see h5py's "External links", "Virtual
Datasets (VDS)" and ``Dataset.external`` documentation. Fixtures are written with h5py into a temp
folder (the product only reads them, through its HDF5 reader process); a payload is a Keras Lambda
whose bytecode runs ``echo``.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from malhug.analyzers.api import scan_file, scan_path
from malhug.core.model import Category, FileReport, Verdict
from tests.keras.keraslib import dense, h5_bytes, lambda_b64, lambda_layer, only, rules, sequential

EVIL = sequential(dense("dense"), lambda_layer([lambda_b64("os.system('echo linked') or x"), None, None]))


def write_model(path: Path, *, links: dict[str, tuple[str, str]] | None = None) -> None:
    """A benign Keras H5 model, with external links ``{path in file: (file name, object)}``."""
    path.write_bytes(h5_bytes(sequential(dense("dense"))))
    with h5py.File(path, "a") as f:
        for where, (filename, target) in (links or {}).items():
            f[where] = h5py.ExternalLink(filename, target)


def members(report: FileReport) -> set[str]:
    return {f.location.member or "" for f in report.findings}


@pytest.mark.fires("MH211")
def test_external_link_to_a_poisoned_model_is_scanned_with_the_naming_file(tmp_path: Path) -> None:
    write_model(tmp_path / "model.h5", links={"/extra": ("weights.h5", "/")})
    (tmp_path / "weights.h5").write_bytes(h5_bytes(EVIL))
    report = scan_file(tmp_path / "model.h5")
    lam = only(report, "MH301")
    assert lam.location.member == "side:weights.h5:model_config"
    assert lam.category is Category.COMMAND_EXEC
    assert "'echo linked'" in lam.evidence
    assert only(report, "MH308").evidence == "weights.h5:/"
    assert "MH211" not in rules(report)
    assert report.verdict is Verdict.MALICIOUS
    # Without the linked file, the model names something we could not see.
    (tmp_path / "weights.h5").unlink()
    missing = only(scan_file(tmp_path / "model.h5"), "MH211")
    assert missing.evidence == "weights.h5"
    assert "HDF5 external link /extra" in missing.message


@pytest.mark.fires("MH210")
@pytest.mark.parametrize("name", ["../weights.h5", "/tmp/weights.h5", "sub/../../weights.h5"])
def test_external_link_leaving_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    (tmp_path / "weights.h5").write_bytes(h5_bytes(EVIL))
    write_model(folder / "model.h5", links={"/extra": (name, "/")})
    report = scan_file(folder / "model.h5")
    assert only(report, "MH210").evidence == name
    assert "MH301" not in rules(report)  # not read: the payload outside the folder stays unseen


def test_virtual_dataset_source_file_is_scanned(tmp_path: Path) -> None:
    src = tmp_path / "source.h5"
    src.write_bytes(h5_bytes(EVIL))
    with h5py.File(src, "a") as f:
        f.create_dataset("data", data=np.arange(4, dtype="float32"))
    write_model(tmp_path / "model.h5")
    with h5py.File(tmp_path / "model.h5", "a") as f:
        layout = h5py.VirtualLayout(shape=(4,), dtype="float32")
        layout[:] = h5py.VirtualSource("source.h5", "data", shape=(4,))
        f.create_virtual_dataset("model_weights/virtual", layout, fillvalue=0)
    report = scan_file(tmp_path / "model.h5")
    assert only(report, "MH301").location.member == "side:source.h5:model_config"
    assert report.verdict is Verdict.MALICIOUS


@pytest.mark.quiet("MH211")
def test_external_raw_storage_is_checked_to_be_there(tmp_path: Path) -> None:
    write_model(tmp_path / "model.h5")
    with h5py.File(tmp_path / "model.h5", "a") as f:
        f.create_dataset("model_weights/raw", shape=(4,), dtype="float32", external=[("raw.bin", 0, 16)])
    (tmp_path / "raw.bin").write_bytes(np.ones(4, dtype="float32").tobytes())
    report = scan_file(tmp_path / "model.h5")
    assert "MH211" not in rules(report)
    assert report.findings == [], [(f.rule, f.message) for f in report.findings]
    assert report.verdict is Verdict.CLEAN
    (tmp_path / "raw.bin").unlink()
    missing = only(scan_file(tmp_path / "model.h5"), "MH211")
    assert missing.evidence == "raw.bin"
    assert "external raw data" in missing.message


@pytest.mark.quiet("MH210")
def test_links_between_two_files_and_back_end(tmp_path: Path) -> None:
    write_model(tmp_path / "a.h5", links={"/to_b": ("b.h5", "/")})
    write_model(tmp_path / "b.h5", links={"/to_a": ("a.h5", "/"), "/self": ("b.h5", "/")})
    report = scan_file(tmp_path / "a.h5")
    assert "MH210" not in rules(report)
    assert "MH211" not in rules(report)
    assert {f.evidence for f in report.findings if f.rule == "MH308"} == {"b.h5:/", "a.h5:/"}
    assert not any("side:a.h5" in m for m in members(report))  # the file itself is not scanned again


def test_folder_scan_reports_the_linked_payload_at_the_model_too(tmp_path: Path) -> None:
    write_model(tmp_path / "model.h5", links={"/extra": ("weights.h5", "/")})
    (tmp_path / "weights.h5").write_bytes(h5_bytes(EVIL))
    reports = {Path(r.path).name: r for r in scan_path(tmp_path)}
    assert reports["model.h5"].verdict is Verdict.MALICIOUS
    assert only(reports["model.h5"], "MH301").location.member == "side:weights.h5:model_config"
    assert reports["weights.h5"].verdict is Verdict.MALICIOUS


def test_link_in_a_linked_file_is_resolved_against_that_files_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write_model(tmp_path / "model.h5", links={"/extra": ("sub/part.h5", "/")})
    write_model(tmp_path / "sub" / "part.h5", links={"/more": ("weights.h5", "/")})
    (tmp_path / "sub" / "weights.h5").write_bytes(h5_bytes(EVIL))
    report = scan_file(tmp_path / "model.h5")
    lam = only(report, "MH301")
    assert lam.location.member == "side:sub/part.h5:side:sub/weights.h5:model_config"
    assert "MH211" not in rules(report)
    assert report.verdict is Verdict.MALICIOUS
