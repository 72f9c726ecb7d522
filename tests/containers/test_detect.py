"""Format detection from bytes: real files of every format, renamed, and text that must stay text."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import pickle
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import lz4.frame
import numpy as np
import pytest

from malhug.analyzers import formats
from malhug.analyzers.detect import detect_format
from malhug.analyzers.shared.source import BytesSource, FileSource
from tests.builders.torchfiles import read_records, small_state_dict, torch_save_bytes, write_torch_zip
from tests.builders.wrappers import sevenzip, zip_of
from tests.containers.helpers import evil_pickle


def detect(data: bytes, name: str = "") -> str:
    return detect_format(BytesSource(data), name)


class CountingSource(BytesSource):
    """Records the largest offset read, to check that detection reads only the head."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.reads: list[tuple[int, int]] = []

    def read_at(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return super().read_at(offset, length)


def test_torch_zip_renamed_to_txt_with_renamed_folder_is_pytorch_zip(torch_zip: bytes, tmp_path: Path) -> None:
    renamed = write_torch_zip("my weights", read_records(torch_zip))
    path = tmp_path / "notes.txt"
    path.write_bytes(renamed)
    with FileSource(path) as src:
        assert detect_format(src, "notes.txt") == formats.PYTORCH_ZIP
    assert detect(torch_zip) == formats.PYTORCH_ZIP


def test_zip_layouts() -> None:
    assert detect(zip_of({"model/weights.pkl": b"x", "model/data/0": b"\0" * 8})) == formats.PYTORCH_ZIP
    assert detect(zip_of({"config.json": b"{}", "metadata.json": b"{}", "model.weights.h5": b""})) == formats.KERAS_V3
    assert detect(zip_of({"readme.txt": b"hi", "a.bin": b"\0"})) == formats.ZIP
    buf = io.BytesIO()
    np.savez_compressed(buf, a=np.zeros(3), b=np.arange(2))
    assert detect(buf.getvalue()) == formats.NPZ
    # An archive with junk before it (readable by zipfile.is_zipfile users) is still a zip.
    assert detect(b"hello there\n" * 50 + zip_of({"x.pkl": b"\x80\x02N."})) == formats.ZIP


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_pickle_every_protocol(protocol: int) -> None:
    benign = pickle.dumps({"weights": [1.5, 2.5], "name": "layer", "shape": (2, 3)}, protocol=protocol)
    assert detect(benign) == formats.PICKLE
    assert detect(evil_pickle(protocol)) == formats.PICKLE


def test_protocol0_openings_without_proto() -> None:
    assert detect(b"cos\nsystem\n(S'echo malhug'\ntR.") == formats.PICKLE
    assert detect(b"(dp0\nS'a'\np1\nI1\ns.") == formats.PICKLE
    assert detect(b"(lp0\nI1\naI2\na.") == formats.PICKLE
    assert detect(pickle.dumps([1, 2, 3], protocol=1)[:2]) != formats.PICKLE  # "]q" alone is too short to tell


@pytest.mark.parametrize(
    "text",
    [
        b"(c) 2024 Example Corp. All rights reserved.\n",
        b"cat\ndog\n",
        b"Version 1.0\nbuild 7\n",
        b"]] nothing here [[\n",
        b"I think therefore I am\n",
        b"S3 bucket list\n",
        b"N/A\n",
        b"(see below)\n",
        b"---\nlicense: mit\n---\n# Model card\n",
    ],
)
def test_text_is_not_pickle(text: bytes) -> None:
    assert detect(text) == formats.TEXT


def test_joblib_and_compression_wrappers(tmp_path: Path) -> None:
    import joblib

    plain = tmp_path / "plain.joblib"
    joblib.dump({"a": np.arange(5)}, plain)
    assert detect(plain.read_bytes()) == formats.JOBLIB
    expected = {
        "zlib": formats.ZLIB,
        "gzip": formats.GZIP,
        "bz2": formats.BZ2,
        "lzma": formats.XZ,
        "xz": formats.XZ,
        "lz4": formats.LZ4,
    }
    for method, fmt in expected.items():
        path = tmp_path / f"m.{method}"
        joblib.dump(np.arange(5), path, compress=(method, 3))
        assert detect(path.read_bytes()) == fmt, method
    payload = evil_pickle()
    assert detect(gzip.compress(payload)) == formats.GZIP
    assert detect(bz2.compress(payload)) == formats.BZ2
    assert detect(lzma.compress(payload)) == formats.XZ
    assert detect(lz4.frame.compress(payload)) == formats.LZ4
    for level in (1, 6, 9):
        assert detect(zlib.compress(payload, level)) == formats.ZLIB
    zfile = b"ZF" + hex(len(payload)).encode().ljust(19) + zlib.compress(payload)
    assert detect(zfile) == formats.ZLIB
    # "x^" text must not be taken for a zlib header.
    assert detect(b"x^2 + y^2 = z^2\n") == formats.TEXT


def test_archives_and_arrays() -> None:
    assert detect(sevenzip("model.pkl", evil_pickle())) == formats.SEVEN_ZIP
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("sys_info", "pickle", "storages", "tensors"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"N.\n"))
    assert detect(buf.getvalue()) == formats.PYTORCH_TAR
    buf2 = io.BytesIO()
    with tarfile.open(fileobj=buf2, mode="w") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    assert detect(buf2.getvalue()) == formats.TAR
    arr = io.BytesIO()
    np.save(arr, np.zeros((2, 2)))
    assert detect(arr.getvalue()) == formats.NUMPY
    legacy = torch_save_bytes(small_state_dict(), _use_new_zipfile_serialization=False)
    assert detect(legacy) == formats.PICKLE


def test_model_formats_by_wire_format() -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, producer_name="pytorch")
    assert detect(model.SerializeToString()) == formats.ONNX
    assert isinstance(onnx.ModelProto, type)
    from safetensors.numpy import save

    assert detect(save({"w": np.zeros(4, dtype=np.float32)})) == formats.SAFETENSORS
    assert detect(b"\x89HDF\r\n\x1a\n" + b"\0" * 200) == formats.HDF5
    assert detect(b"\0" * 512 + b"\x89HDF\r\n\x1a\n" + b"\0" * 200) == formats.HDF5
    assert detect(b"GGUF" + struct.pack("<I", 3) + b"\0" * 64) == formats.GGUF


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


def _field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2]) + _varint(len(payload)) + payload


def test_savedmodel_and_keras_metadata_protobufs() -> None:
    meta_info = _field(1, b"\x0a\x03v1x")  # MetaInfoDef.meta_graph_version
    saved_model = b"\x08\x01" + _field(2, _field(1, meta_info))
    assert detect(saved_model) == formats.SAVEDMODEL
    node = (
        _field(3, b"root")
        + _field(4, b"_tf_keras_sequential")
        + _field(5, json.dumps({"class_name": "Sequential"}).encode())
    )
    assert detect(_field(1, node)) == formats.KERAS_METADATA
    from tests.builders.keras import keras_metadata_pb

    assert detect(keras_metadata_pb()) == formats.KERAS_METADATA
    # The same start bytes as ONNX (08 xx 12) but a short text producer: not a SavedModel.
    assert detect(b"\x08\x01" + _field(2, b"pytorch")) != formats.SAVEDMODEL


def test_text_json_python_and_name_tie_break() -> None:
    assert detect(b'{"architectures": ["BertModel"], "hidden_size": 768}') == formats.JSON
    assert detect(b"import os\nos.system('echo malhug')\n") == formats.PYTHON
    assert detect(b"#!/usr/bin/env python\nprint('hi')\n") == formats.PYTHON
    assert detect(b"__import__('os').system('echo malhug')\n") == formats.PYTHON
    assert detect(b"x = 1\ny = 2\n") == formats.TEXT
    assert detect(b"x = 1\ny = 2\n", "config.py") == formats.PYTHON
    python2 = b"import os\nprint 'hello'\nos.system('echo malhug')\n"
    assert detect(python2, "loader.py") == formats.PYTHON
    assert detect(python2, "notes.md") == formats.TEXT
    readme = b"# Model\n\n```python\nimport torch\nmodel = torch.load('x')\n```\n"
    assert detect(readme) == formats.TEXT
    big_script = (
        b'"""Dataset script."""\nimport datasets\n\n_CITATION = """\n' + b"@article{x, title={y}}\n" * 1000 + b'"""\n'
    )
    assert detect(big_script) == formats.PYTHON
    assert detect(b"") == formats.TEXT
    assert detect(bytes(range(256)) * 4) == formats.UNKNOWN


def test_detection_reads_only_the_head() -> None:
    for data in (b"\x80\x04\x95" + b"\x00" * (8 << 20), bytes(range(256)) * (32 << 10)):
        big = CountingSource(data)
        detect_format(big, "")
        assert big.bytes_read <= 16 * 1024, big.reads
        assert len(big.reads) <= 2, big.reads
        # Only the head, plus at most the 22 bytes where a zip's end record would be.
        assert all(off < 8192 or (off == len(data) - 22 and n <= 22) for off, n in big.reads), big.reads


def test_truncated_or_weird_zip_is_still_zip() -> None:
    data = zipfile.ZipFile  # noqa: F841 - keep the import used for type readers
    full = zip_of({"a.pkl": b"\x80\x02N."})
    assert detect(full[: len(full) // 2]) == formats.ZIP
