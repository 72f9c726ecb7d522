"""The fixture builders write what they claim (parsed with pickletools/zipfile/h5py, never loaded)."""

from __future__ import annotations

import base64
import io
import json
import marshal
import pickletools
import zipfile
from pathlib import Path

import pytest

from tests.builders.keras import h5_model, keras_metadata_pb, keras_v3_model
from tests.builders.large import sparse_checkpoint
from tests.builders.marshal_code import code_bytes, compile_lambda
from tests.builders.pickles import Call, call, inject_after_header, pickle_of
from tests.builders.torchfiles import (
    poisoned_legacy_torch,
    poisoned_torch_zip,
    read_records,
    small_state_dict,
    torch_save_bytes,
)


def ops(stream: bytes) -> list[tuple[str, object]]:
    return [(op.name, arg) for op, arg, _ in pickletools.genops(stream)]


@pytest.mark.parametrize(
    ("protocol", "global_op"),
    [(0, "GLOBAL"), (1, "GLOBAL"), (2, "GLOBAL"), (3, "GLOBAL"), (4, "STACK_GLOBAL"), (5, "STACK_GLOBAL")],
)
def test_pickle_of_writes_the_call_in_each_protocol(protocol: int, global_op: str) -> None:
    text = "line one\nback\\slash \u00e9\r\x1a"
    stream = pickle_of([call("posix.system", text)], protocol=protocol)
    names = [name for name, _ in ops(stream)]
    assert global_op in names and names[-2:] == ["REDUCE", "STOP"]
    assert text in [arg for _, arg in ops(stream)]  # protocol 0 escaping keeps the exact text
    if global_op == "GLOBAL":
        assert ("GLOBAL", "posix system") in ops(stream)


def test_shared_subexpressions_are_memoized_once() -> None:
    shared = call("builtins.__import__", "os")
    stream = pickle_of(
        [call("builtins.getattr", shared, "system"), call("builtins.getattr", shared, "popen")], protocol=2
    )
    names = [name for name, _ in ops(stream)]
    assert names.count("BINPUT") == 1 and names.count("BINGET") == 1
    assert sum(1 for name, arg in ops(stream) if name == "GLOBAL" and arg == "builtins __import__") == 1


def test_injection_keeps_the_original_stream_intact() -> None:
    original = torch_save_bytes(small_state_dict())
    data_pkl = read_records(original)["data.pkl"]
    injected = inject_after_header(data_pkl, [call("posix.system", "echo hi")])
    got, want = ops(injected), ops(data_pkl)
    assert got[0] == want[0] and got[1:6] == [
        ("GLOBAL", "posix system"),
        ("BINUNICODE", "echo hi"),
        ("TUPLE1", None),
        ("REDUCE", None),
        ("POP", None),
    ]
    assert got[6:] == want[1:]


def test_poisoned_torch_zip_keeps_torch_records_under_the_folder() -> None:
    data = poisoned_torch_zip("pytorch_standard_model", [call("builtins.exec", "print(1)")])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert {
            "pytorch_standard_model/data.pkl",
            "pytorch_standard_model/version",
            "pytorch_standard_model/byteorder",
        } <= set(names)
        assert any(n.startswith("pytorch_standard_model/data/") for n in names)
        assert ("GLOBAL", "builtins exec") in ops(zf.read("pytorch_standard_model/data.pkl"))
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())


def test_legacy_checkpoint_payload_sits_in_the_object_pickle() -> None:
    data = poisoned_legacy_torch([call("posix.system", "echo hi")])
    buf = io.BytesIO(data)
    pickles = [ops(_next_pickle(buf)) for _ in range(4)]
    assert ("GLOBAL", "posix system") in pickles[3]
    assert all(("GLOBAL", "posix system") not in p for p in pickles[:3])


def _next_pickle(buf: io.BytesIO) -> bytes:
    start = buf.tell()
    for _ in pickletools.genops(buf):
        pass
    end = buf.tell()
    buf.seek(start)
    return buf.read(end - start)


def test_legacy_marshal_layout_carries_names_constants_and_filename() -> None:
    code = compile_lambda('import os\nos.system("calc.exe")\nreturn x', filename="/home/u/evil.py")
    legacy = code_bytes(code, (3, 9))
    assert legacy[0] == ord("c") | 0x80
    for needle in (b"calc.exe", b"/home/u/evil.py", b"system"):
        assert needle in legacy
    assert legacy != marshal.dumps(code)
    assert code_bytes(code, (3, 11)) == marshal.dumps(code)


def test_lambda_lands_in_each_keras_format() -> None:
    import h5py

    body = "return exec(\"print('hi')\") or x"
    with h5py.File(io.BytesIO(h5_model(body)), "r") as f:
        config = json.loads(f.attrs["model_config"])
    lam = [layer for layer in config["config"]["layers"] if layer["class_name"] == "Lambda"]
    assert len(lam) == 1 and base64.b64decode(lam[0]["config"]["function"][0])[:1] == b"\xe3"
    with zipfile.ZipFile(io.BytesIO(keras_v3_model(body))) as zf:
        v3 = json.loads(zf.read("config.json"))
    assert v3["config"]["layers"][-1]["config"]["function"]["class_name"] == "__lambda__"
    assert b"__tuple__" in keras_metadata_pb(body) and b'"Lambda"' in keras_metadata_pb(body)


def _fields(buf: bytes) -> list[tuple[int, int, bytes | int]]:
    out: list[tuple[int, int, bytes | int]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            out.append((number, wire, value))
        elif wire == 2:
            size, pos = _varint(buf, pos)
            out.append((number, wire, buf[pos : pos + size]))
            pos += size
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return out


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def test_keras_metadata_pb_follows_saved_metadata_proto() -> None:
    """SavedMetadata{nodes=1}; SavedObject{version=1 (VersionDef), node_id=2, node_path=3, identifier=4, metadata=5}."""
    top = _fields(keras_metadata_pb("x"))
    assert top and all(number == 1 and wire == 2 for number, wire, _ in top)
    first = _fields(top[0][2])  # type: ignore[arg-type]
    assert [n for n, _, _ in first] == [1, 3, 4, 5]  # node_id 0 is omitted, as proto3 does
    second = dict((n, v) for n, _, v in _fields(top[1][2]))  # type: ignore[arg-type]
    assert second[2] == 1 and second[4] == b"_tf_keras_layer"
    assert json.loads(second[5])["class_name"] == "Dense"  # type: ignore[arg-type]


def test_sparse_checkpoint_uses_zip64_past_4_gib(tmp_path: Path) -> None:
    path = sparse_checkpoint(tmp_path / "big.bin", 4 << 30)
    assert path.stat().st_size > 4 << 30
    with zipfile.ZipFile(path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        assert infos["archive/.data/serialization_id"].header_offset > 0xFFFFFFFF
        assert sum(i.file_size for n, i in infos.items() if n.startswith("archive/data/")) == 4 << 30
    with open(path, "rb") as fh:
        for info in infos.values():
            fh.seek(info.header_offset)
            head = fh.read(30)
            data_at = (
                info.header_offset + 30 + int.from_bytes(head[26:28], "little") + int.from_bytes(head[28:30], "little")
            )
            assert data_at % 64 == 0, info.filename  # torch aligns every record
    with zipfile.ZipFile(path) as zf:
        assert ("GLOBAL", "torch._utils _rebuild_tensor_v2") in ops(zf.read("archive/data.pkl"))
        assert zf.read("archive/version") == b"3\n"


def test_call_accepts_nested_calls() -> None:
    nested = Call(call("builtins.getattr", call("builtins.__import__", "os"), "system"), ("echo hi",))
    names = [name for name, _ in ops(pickle_of([nested], protocol=2))]
    assert names.count("REDUCE") == 3
