"""Zip analyzers end to end: PyTorch checkpoints (any folder, any name), quirks, nesting, npz, bombs."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from malhug.analyzers import formats
from malhug.analyzers.api import scan_bytes, scan_file
from malhug.analyzers.limits import Limits
from malhug.core.model import Category, Severity, Verdict
from tests.builders.torchfiles import poisoned_torch_zip, read_records, write_torch_zip
from tests.builders.wrappers import zip_of
from tests.containers.helpers import (
    assert_not_clean,
    assert_pickle_payload_at,
    evil_pickle,
    npy_bytes,
    rules,
    system_call,
    with_rule,
)
from tests.containers.zipbytes import break_crc, set_flags, set_method


def evil_torch(folder: str = "my_model") -> bytes:
    return poisoned_torch_zip(folder, [system_call()])


def test_renamed_poisoned_checkpoint_is_found(tmp_path: Path) -> None:
    path = tmp_path / "readme.txt"
    path.write_bytes(evil_torch("weights v2"))
    report = scan_file(path)
    assert report.format == formats.PYTORCH_ZIP
    assert_pickle_payload_at(report, "weights v2/data.pkl")


@pytest.mark.quiet("MH201", "MH202", "MH203", "MH204")
def test_benign_checkpoint_is_clean(torch_zip: bytes) -> None:
    report = scan_bytes(torch_zip, name="pytorch_model.bin")
    assert report.format == formats.PYTORCH_ZIP
    assert report.verdict is Verdict.CLEAN, [(f.rule, f.message) for f in report.findings]
    assert not rules(report) & {"MH201", "MH202", "MH203", "MH204", "MH901", "MH902", "MH903"}


def test_every_pkl_member_is_scanned(torch_zip: bytes) -> None:
    records = read_records(torch_zip)
    records["extra/hidden.pkl"] = evil_pickle(4)
    report = scan_bytes(write_torch_zip("archive", records))
    assert report.format == formats.PYTORCH_ZIP
    assert_pickle_payload_at(report, "archive/extra/hidden.pkl")


@pytest.mark.fires("MH202")
def test_flag_bits_5_6_are_reported_and_content_still_analyzed() -> None:
    data = set_flags(evil_torch("m"), "m/data.pkl", 0x60)
    report = scan_bytes(data)
    hits = with_rule(report, "MH202")
    assert any(f.location.member == "m/data.pkl" and f.evidence == "flag-bits" for f in hits)
    assert hits[0].severity is Severity.MEDIUM and hits[0].category is Category.UNSAFE_FORMAT
    assert_pickle_payload_at(report, "m/data.pkl")


@pytest.mark.fires("MH202")
def test_bad_crc_is_reported_and_content_still_analyzed() -> None:
    report = scan_bytes(break_crc(evil_torch("m"), "m/data.pkl"))
    assert any(f.evidence == "bad-crc" and f.location.member == "m/data.pkl" for f in with_rule(report, "MH202"))
    assert_pickle_payload_at(report, "m/data.pkl")


@pytest.mark.fires("MH203")
def test_encrypted_flag_trick_and_real_encryption() -> None:
    trick = scan_bytes(set_flags(evil_torch("m"), "m/data.pkl", 0x1))
    assert any(f.evidence == "encrypted-flag" for f in with_rule(trick, "MH202"))
    assert_pickle_payload_at(trick, "m/data.pkl")
    sealed = break_crc(set_flags(zip_of({"secret.pkl": b"\x9a\x11" * 40}), "secret.pkl", 0x1), "secret.pkl")
    report = scan_bytes(sealed)
    assert with_rule(report, "MH203")[0].location.member == "secret.pkl"
    assert report.verdict is Verdict.SUSPICIOUS


@pytest.mark.fires("MH204")
def test_unsupported_compression_is_never_clean() -> None:
    report = scan_bytes(set_method(zip_of({"model.pkl": evil_pickle()}), "model.pkl", 97))
    finding = with_rule(report, "MH204")[0]
    assert finding.location.member == "model.pkl" and finding.evidence == "method=97"
    assert_not_clean(report)


@pytest.mark.fires("MH205")
def test_zip_in_zip_is_followed() -> None:
    outer = zip_of({"inner.zip": evil_torch("m"), "notes.txt": b"hello"}, compression=zipfile.ZIP_DEFLATED)
    report = scan_bytes(outer)
    assert report.format == formats.ZIP
    nested = with_rule(report, "MH205")[0]
    assert nested.location.member == "inner.zip" and nested.severity is Severity.INFO
    assert_pickle_payload_at(report, "inner.zip:m/data.pkl")


def test_nesting_beyond_the_limit_is_not_clean() -> None:
    data = zip_of({"a.txt": b"hi"})
    for level in range(6):
        data = zip_of({f"level{level}.zip": data})
    report = scan_bytes(data, limits=Limits(max_nesting_depth=3))
    assert "MH902" in rules(report)
    assert_not_clean(report)


@pytest.mark.quiet("MH201")
@pytest.mark.fires("MH201")
def test_path_traversal_names() -> None:
    report = scan_bytes(zip_of({"../../home/user/.bashrc": b"echo malhug", "ok/readme.txt": b"hi"}))
    finding = with_rule(report, "MH201")[0]
    assert finding.location.member == "../../home/user/.bashrc"
    assert finding.severity is Severity.HIGH and finding.category is Category.PATH_TRAVERSAL
    assert report.verdict is Verdict.MALICIOUS
    absolute = scan_bytes(zip_of({"/etc/cron.d/job": b"x"}))
    assert with_rule(absolute, "MH201")[0].severity is Severity.MEDIUM
    backslash = scan_bytes(zip_of({"..\\..\\evil.bat": b"x"}))
    assert with_rule(backslash, "MH201")[0].severity is Severity.HIGH
    inside = scan_bytes(zip_of({"a/../b.txt": b"x"}))  # stays inside the folder: odd, not an escape
    assert with_rule(inside, "MH201")[0].severity is Severity.MEDIUM
    benign = scan_bytes(zip_of({"data/train.csv": b"a,b\n1,2\n", "README.md": b"# hi\n"}))
    assert "MH201" not in rules(benign) and benign.verdict is Verdict.CLEAN


def test_npz_plain_arrays_are_clean() -> None:
    for save in (np.savez, np.savez_compressed):
        buf = io.BytesIO()
        save(buf, weights=np.arange(12, dtype=np.float32).reshape(3, 4), labels=np.array(["a", "bc"]))
        report = scan_bytes(buf.getvalue())
        assert report.format == formats.NPZ
        assert report.verdict is Verdict.CLEAN and report.findings == [], report.findings


@pytest.mark.fires("MH206")
def test_npz_object_array_with_payload() -> None:
    evil = npy_bytes("|O", (1,), evil_pickle(3))
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        report = scan_bytes(zip_of({"arr.npy": evil, "ok.npy": npy_bytes("<f4", (2,), b"\0" * 8)}, compression))
        assert report.format == formats.NPZ
        note = with_rule(report, "MH206")[0]
        assert note.location.member == "arr.npy" and note.severity is Severity.LOW
        assert_pickle_payload_at(report, "arr.npy:<object data>")


def test_zip_bomb_is_a_limit_finding_never_clean() -> None:
    bomb = zip_of({"zeros.bin": b"\0" * (20 << 20), "readme.txt": b"hi"}, zipfile.ZIP_DEFLATED)
    report = scan_bytes(bomb, limits=Limits(max_decompressed_bytes=4 << 20, max_compression_ratio=100))
    finding = with_rule(report, "MH902")[0]
    assert finding.location.member == "zeros.bin"
    assert report.verdict is Verdict.SUSPICIOUS
    # A bomb named like a pickle is decompressed and stopped at the size limit.
    report = scan_bytes(
        zip_of({"a/data.pkl": b"\0" * (20 << 20)}, zipfile.ZIP_DEFLATED), limits=Limits(max_decompressed_bytes=4 << 20)
    )
    assert "MH902" in rules(report)
    assert_not_clean(report)


def test_truncated_zip_is_malformed_never_clean(torch_zip: bytes) -> None:
    report = scan_bytes(torch_zip[: len(torch_zip) - 40])
    assert report.format == formats.PYTORCH_ZIP or report.format == formats.ZIP
    assert "MH901" in rules(report)
    assert_not_clean(report)
    # Directory intact but a member's data cut off: the directory says more than the file holds.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", b"x" * 100)
    data = buf.getvalue()
    cut = data[:40] + data[100:]  # member data removed, offsets now point past their targets
    assert_not_clean(scan_bytes(cut))


def test_data_before_the_archive_is_reported_and_scanned() -> None:
    polyglot = b"import os\nos.system('echo malhug')\n" + zip_of({"notes.txt": b"hello"})
    report = scan_bytes(polyglot)
    assert report.format == formats.ZIP
    assert any(f.evidence == "junk-prefix" for f in with_rule(report, "MH202"))
    assert any(f.location.member and f.location.member.startswith("<before archive>") for f in report.findings)


def test_torchscript_archive_debug_info_is_not_taken_for_python_pickles() -> None:
    import torch

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated, its files are not
        module = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.ReLU()))
        torch.jit.save(module, buf)
    report = scan_bytes(buf.getvalue())
    assert report.format == formats.PYTORCH_ZIP
    assert not any((f.location.member or "").endswith(".debug_pkl") for f in report.findings)
    assert not rules(report) & {"MH901", "MH902", "MH903"}, [(f.rule, f.message) for f in report.findings]


def test_large_compressed_plain_array_needs_only_its_header() -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, big=np.arange(3 << 20, dtype=np.int64))  # 24 MiB of data
    report = scan_bytes(buf.getvalue(), limits=Limits(max_decompressed_bytes=4 << 20))
    assert report.format == formats.NPZ
    assert report.verdict is Verdict.CLEAN and report.findings == [], report.findings
