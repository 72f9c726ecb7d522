"""Side files: files a scanned file names and its loader opens, scanned as part of it.

joblib < 0.10 stored each array in a file beside the pickle: the pickle holds a
``joblib.numpy_pickle.NDArrayWrapper`` whose state names the file, and ``joblib.load`` calls
``np.load(<folder>/<filename>, allow_pickle=True)`` on it (joblib's ``numpy_pickle_compat``). An
object array there is a pickle that runs. Fixtures are written opcode by opcode; nothing is loaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from malhug.analyzers.api import scan_bytes, scan_file, scan_path
from malhug.core.model import Category, FileReport, Verdict
from tests.builders.pickles import call, pickle_of
from tests.containers.helpers import evil_pickle, npy_bytes


def legacy_joblib(*filenames: str) -> bytes:
    """A joblib 0.9 pickle: a list of NDArrayWrapper objects (protocol 2: NEWOBJ + BUILD of a dict)."""
    out = b"\x80\x02]("
    for name in filenames:
        raw = name.encode()
        out += b"cjoblib.numpy_pickle\nNDArrayWrapper\n)\x81}("
        out += b"X\x08\x00\x00\x00filename" + b"X" + len(raw).to_bytes(4, "little") + raw
        out += b"X\x08\x00\x00\x00subclasscnumpy\nndarray\n"
        out += b"X\n\x00\x00\x00allow_mmap\x89ub"
    return out + b"e."


def summary(report: FileReport) -> list[tuple[str, str | None, str]]:
    return [(f.rule, f.location.member, f.evidence) for f in report.findings]


def benign_npy() -> bytes:
    return npy_bytes("<f4", (2,), b"\x00" * 8)


def test_payload_in_a_legacy_joblib_array_file_is_reported_at_the_pickle(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(legacy_joblib("model.pkl_01.npy"))
    (tmp_path / "model.pkl_01.npy").write_bytes(npy_bytes("|O", (2,), evil_pickle(2)))
    report = scan_file(tmp_path / "model.pkl")
    side = [f for f in report.findings if f.location.member and f.location.member.startswith("side:model.pkl_01.npy")]
    assert any(f.rule == "MH101" and f.category is Category.COMMAND_EXEC for f in side), summary(report)
    assert report.verdict is Verdict.MALICIOUS


def test_benign_legacy_joblib_with_its_array_files_is_clean(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(legacy_joblib("model.pkl_01.npy", "model.pkl_02.npy"))
    (tmp_path / "model.pkl_01.npy").write_bytes(benign_npy())
    (tmp_path / "model.pkl_02.npy").write_bytes(benign_npy())
    report = scan_file(tmp_path / "model.pkl")
    assert not [f for f in report.findings if f.rule in ("MH210", "MH211")], summary(report)
    assert report.verdict is Verdict.CLEAN, summary(report)


def test_folder_scan_reports_the_side_file_in_the_naming_file_too(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(legacy_joblib("model.pkl_01.npy"))
    (tmp_path / "model.pkl_01.npy").write_bytes(npy_bytes("|O", (1,), evil_pickle(2)))
    reports = {Path(r.path).name: r for r in scan_path(tmp_path)}
    assert reports["model.pkl"].verdict is Verdict.MALICIOUS
    assert reports["model.pkl_01.npy"].verdict is Verdict.MALICIOUS


@pytest.mark.fires("MH211")
def test_missing_side_file_is_suspicious(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(legacy_joblib("model.pkl_01.npy"))
    report = scan_file(tmp_path / "model.pkl")
    missing = [f for f in report.findings if f.rule == "MH211"]
    assert [f.evidence for f in missing] == ["model.pkl_01.npy"]
    assert report.verdict is Verdict.SUSPICIOUS


@pytest.mark.fires("MH210")
@pytest.mark.parametrize("name", ["../outside.npy", "/etc/passwd", "C:\\\\x.npy", "a/../../x.npy"])
def test_side_file_names_leaving_the_folder_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "model.pkl").write_bytes(legacy_joblib(name))
    report = scan_file(tmp_path / "model.pkl")
    escapes = [f for f in report.findings if f.rule == "MH210"]
    assert len(escapes) == 1 and escapes[0].category is Category.PATH_TRAVERSAL, summary(report)
    assert report.verdict is Verdict.MALICIOUS


@pytest.mark.quiet("MH210")
def test_side_file_in_a_subfolder_is_followed(tmp_path: Path) -> None:
    (tmp_path / "arrays").mkdir()
    (tmp_path / "arrays" / "a.npy").write_bytes(benign_npy())
    (tmp_path / "model.pkl").write_bytes(legacy_joblib("arrays/./a.npy"))
    report = scan_file(tmp_path / "model.pkl")
    assert "MH210" not in {f.rule for f in report.findings}
    assert report.verdict is Verdict.CLEAN, summary(report)


def test_link_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.npy").write_bytes(npy_bytes("|O", (1,), evil_pickle(2)))
    model = tmp_path / "model"
    model.mkdir()
    os.symlink(outside / "evil.npy", model / "model.pkl_01.npy")
    (model / "model.pkl").write_bytes(legacy_joblib("model.pkl_01.npy"))
    report = scan_file(model / "model.pkl")
    assert [f.rule for f in report.findings if f.location.member] == [], summary(report)
    assert [f.evidence for f in report.findings if f.rule == "MH211"] == ["model.pkl_01.npy"]


@pytest.mark.quiet("MH211")
def test_bytes_without_a_folder_follow_nothing() -> None:
    report = scan_bytes(legacy_joblib("model.pkl_01.npy"), name="model.pkl")
    assert "MH211" not in {f.rule for f in report.findings}
    assert report.verdict is Verdict.CLEAN, summary(report)


def _index(*shards: str) -> bytes:
    weight_map = {f"layer.{i}.weight": shard for i, shard in enumerate(shards)}
    return json.dumps({"metadata": {"total_size": 16}, "weight_map": weight_map}).encode()


def test_shard_named_by_a_checkpoint_index_is_scanned_with_the_index(tmp_path: Path) -> None:
    (tmp_path / "pytorch_model.bin.index.json").write_bytes(
        _index("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin")
    )
    (tmp_path / "pytorch_model-00001-of-00002.bin").write_bytes(pickle_of([call("builtins.print", "ok")]))
    (tmp_path / "pytorch_model-00002-of-00002.bin").write_bytes(evil_pickle(2))
    report = scan_file(tmp_path / "pytorch_model.bin.index.json")
    bad = [f for f in report.findings if f.location.member == "side:pytorch_model-00002-of-00002.bin"]
    assert any(f.rule == "MH101" for f in bad), summary(report)
    assert report.verdict is Verdict.MALICIOUS


def test_benign_sharded_index_is_clean_and_a_missing_shard_is_suspicious(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors.index.json").write_bytes(_index("a.safetensors", "b.safetensors"))
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    (tmp_path / "a.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + b"\x00" * 8)
    report = scan_file(tmp_path / "model.safetensors.index.json")
    assert [(f.rule, f.evidence) for f in report.findings] == [("MH211", "b.safetensors")]
    assert report.verdict is Verdict.SUSPICIOUS
    (tmp_path / "b.safetensors").write_bytes((tmp_path / "a.safetensors").read_bytes())
    assert scan_file(tmp_path / "model.safetensors.index.json").verdict is Verdict.CLEAN


def test_shard_name_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pytorch_model.bin.index.json").write_bytes(_index("../../evil.bin"))
    report = scan_file(tmp_path / "pytorch_model.bin.index.json")
    assert [f.rule for f in report.findings] == ["MH210"]


def _onnx_with_external(location: str) -> bytes:
    from onnx import TensorProto, helper

    t = TensorProto()
    t.name, t.data_type, t.data_location = "w", TensorProto.FLOAT, TensorProto.EXTERNAL
    t.dims.extend([2])
    for key, value in (("location", location), ("offset", "0"), ("length", "8")):
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    node = helper.make_node("Identity", ["w"], ["y"])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    graph = helper.make_graph([node], "g", [], [out], initializer=[t])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def test_onnx_external_data_missing_beside_the_model_is_reported(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(_onnx_with_external("model.onnx.data"))
    report = scan_file(tmp_path / "model.onnx")
    assert [(f.rule, f.evidence) for f in report.findings] == [("MH211", "model.onnx.data")]
    (tmp_path / "model.onnx.data").write_bytes(b"\x80\x02" + b"\x00" * 6)  # raw floats, never analyzed
    report = scan_file(tmp_path / "model.onnx")
    assert report.findings == [] and report.verdict is Verdict.CLEAN
