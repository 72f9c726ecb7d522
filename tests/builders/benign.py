"""Benign model files written by the real libraries (torch, joblib/scikit-learn, NumPy, h5py,
safetensors, gguf, onnx) and plain pickles of ordinary Python objects that naive scanners flag.

``BENIGN`` maps a file name to a builder taking a scratch folder and returning the file's bytes.
"""

from __future__ import annotations

import argparse
import collections
import enum
import functools
import io
import pathlib
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from tests.builders.keras import h5_model, keras_metadata_pb, keras_v3_model
from tests.builders.torchfiles import small_state_dict, torch_save_bytes


class Color(enum.Enum):
    RED = 1
    GREEN = 2


class Span(NamedTuple):
    start: int
    end: int


def _tiny_transformer() -> Any:
    import torch

    class TinyTransformer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(64, 16)
            self.layer = torch.nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, batch_first=True)
            self.norm = torch.nn.LayerNorm(16)
            self.head = torch.nn.Linear(16, 64)

    return TinyTransformer()


def _cnn() -> Any:
    import torch

    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 3 * 3, 10),
    )


def torch_transformer(_: Path) -> bytes:
    return torch_save_bytes(_tiny_transformer().state_dict())


def torch_cnn(_: Path) -> bytes:
    return torch_save_bytes(_cnn().state_dict())


def torch_many_tensors(_: Path) -> bytes:
    import torch

    return torch_save_bytes({f"layers.{i}.weight": torch.full((4, 4), float(i)) for i in range(200)})


def torch_optimizer_state(_: Path) -> bytes:
    import torch

    model = _cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.zeros(1, 3, 8, 8)).sum().backward()
    opt.step()
    return torch_save_bytes({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "lr": 1e-3})


def torch_whole_model(_: Path) -> bytes:
    """``torch.save(model)`` of a user-defined nn.Module subclass (pickled by reference to its class)."""
    from tests.builders.usermodel import TinyNet

    return torch_save_bytes(TinyNet())


def torch_whole_model_main(_: Path) -> bytes:
    """``torch.save(model)`` run from a script: the class is pickled as ``__main__.TinyNet``."""
    from tests.builders.torchfiles import read_records, write_torch_zip

    records = read_records(torch_whole_model(_))
    records["data.pkl"] = records["data.pkl"].replace(b"ctests.builders.usermodel\nTinyNet\n", b"c__main__\nTinyNet\n")
    assert b"c__main__\nTinyNet\n" in records["data.pkl"]
    return write_torch_zip("archive", records)


def torch_legacy(_: Path) -> bytes:
    return torch_save_bytes(small_state_dict(), _use_new_zipfile_serialization=False)


def _sklearn_models() -> dict[str, Any]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4))
    y = (x[:, 0] > 0).astype(int)
    return {
        "pipeline": make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y),
        "forest": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(x, y),
    }


def _joblib(tmp: Path, name: str, compress: int) -> bytes:
    import joblib

    path = tmp / name
    joblib.dump(_sklearn_models(), path, compress=compress)
    return path.read_bytes()


def sklearn_joblib(tmp: Path) -> bytes:
    return _joblib(tmp, "model.joblib", 0)


def sklearn_joblib_compressed(tmp: Path) -> bytes:
    return _joblib(tmp, "model_z.joblib", 3)


def numpy_npy(_: Path) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.arange(100, dtype=np.float32).reshape(10, 10))
    return buf.getvalue()


def numpy_npz(_: Path) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, weights=np.ones((4, 4)), bias=np.zeros(4, dtype=np.int64))
    return buf.getvalue()


def numpy_npz_compressed(_: Path) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, embeddings=np.linspace(0, 1, 256).reshape(16, 16))
    return buf.getvalue()


def numpy_pickle_protocol2(_: Path) -> bytes:
    """NumPy arrays pickled with protocol 2: their bytes go through ``_codecs.encode``."""
    return pickle.dumps({"w": np.arange(12, dtype=np.float64).reshape(3, 4), "b": np.zeros(3)}, protocol=2)


def keras_h5_dense(_: Path) -> bytes:
    return h5_model(None)


def keras_v3_dense(_: Path) -> bytes:
    return keras_v3_model(None)


def keras_metadata_dense(_: Path) -> bytes:
    return keras_metadata_pb(None)


def safetensors_file(_: Path) -> bytes:
    from safetensors.numpy import save

    return save(
        {"embed.weight": np.ones((8, 4), dtype=np.float32), "head.bias": np.zeros(8, dtype=np.float32)},
        metadata={"format": "pt", "note": "do not use os.system or eval in production"},
    )


LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)


def gguf_llama3(tmp: Path, template: str = LLAMA3_TEMPLATE, name: str = "model.gguf") -> bytes:
    import gguf

    path = tmp / name
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_context_length(128)
    writer.add_embedding_length(8)
    writer.add_block_count(1)
    writer.add_chat_template(template)
    writer.add_tensor("token_embd.weight", np.ones((16, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


def onnx_model(_: Path) -> bytes:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 2), dtype=np.float32), name="W")
    bias = numpy_helper.from_array(np.zeros(2, dtype=np.float32), name="B")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["XW"]), helper.make_node("Add", ["XW", "B"], ["Y"])],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, producer_name="malhug-tests", opset_imports=[helper.make_opsetid("", 17)])
    return bytes(onnx.shape_inference.infer_shapes(model).SerializeToString())


def vocab_pickle(_: Path) -> bytes:
    vocab = {word: i for i, word in enumerate(["<pad>", "os.system", "eval", "exec", "subprocess", "rm -rf /"])}
    return pickle.dumps({"vocab": vocab, "merges": [("o", "s"), ("ev", "al")]}, protocol=4)


def stdlib_objects_pickle(_: Path) -> bytes:
    """Objects whose pickles name stdlib callables: partial, compiled regex, Namespace, paths,
    OrderedDict, enums, namedtuples, a bound method (stored through ``builtins.getattr``)."""
    obj = {
        "partial": functools.partial(int, base=2),
        "regex": re.compile(r"[a-z]+\d*", re.IGNORECASE),
        "args": argparse.Namespace(lr=0.1, epochs=3, output="runs/"),
        "path": pathlib.PurePosixPath("/data/train.csv"),
        "ordered": collections.OrderedDict([("a", 1), ("b", 2)]),
        "color": Color.GREEN,
        "span": Span(0, 5),
        "counter": collections.Counter("hello"),
        "bound": "text".upper,
        "complex": complex(1, 2),
        "set": {1, 2, 3},
    }
    return pickle.dumps(obj, protocol=4)


def stdlib_objects_pickle_p2(tmp: Path) -> bytes:
    obj = {"partial": functools.partial(max, default=0), "path": pathlib.PurePosixPath("a/b"), "span": Span(1, 2)}
    return pickle.dumps(obj, protocol=2)


CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)


def gguf_chatml(tmp: Path) -> bytes:
    return gguf_llama3(tmp, CHATML_TEMPLATE, name="chatml.gguf")


def gguf_mistral(tmp: Path) -> bytes:
    return gguf_llama3(tmp, MISTRAL_TEMPLATE, name="mistral.gguf")


def torch_half_and_numpy(_: Path) -> bytes:
    """fp16/bf16 tensors, an int buffer, a NumPy array and Python scalars in one checkpoint."""
    import torch

    return torch_save_bytes(
        {
            "embed": torch.ones(4, 4, dtype=torch.float16),
            "proj": torch.zeros(2, 4, dtype=torch.bfloat16),
            "position_ids": torch.arange(8).unsqueeze(0),
            "vocab_sizes": np.array([32000, 8], dtype=np.int64),
            "config": {"hidden": 4, "act": "gelu", "dropout": 0.1},
        }
    )


def sklearn_function_transformer(tmp: Path) -> bytes:
    """A pipeline holding NumPy functions by reference (FunctionTransformer(np.log1p))."""
    import joblib
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    x = np.abs(np.random.default_rng(1).standard_normal((20, 3)))
    model = make_pipeline(FunctionTransformer(np.log1p, inverse_func=np.expm1), Ridge()).fit(x, x[:, 0])
    path = tmp / "ft.joblib"
    joblib.dump(model, path)
    return path.read_bytes()


DATASET_SCRIPT = '''"""SQuAD-like dataset loading script."""

import json

import datasets

_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/"
_URLS = {"train": _URL + "train-v1.1.json", "dev": _URL + "dev-v1.1.json"}


class Squad(datasets.GeneratorBasedBuilder):
    VERSION = datasets.Version("1.0.0")

    def _info(self):
        features = datasets.Features({"id": datasets.Value("string"), "question": datasets.Value("string")})
        return datasets.DatasetInfo(description="Reading comprehension", features=features)

    def _split_generators(self, dl_manager):
        files = dl_manager.download_and_extract(_URLS)
        return [
            datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"filepath": files["train"]}),
            datasets.SplitGenerator(name=datasets.Split.VALIDATION, gen_kwargs={"filepath": files["dev"]}),
        ]

    def _generate_examples(self, filepath):
        with open(filepath, encoding="utf-8") as f:
            squad = json.load(f)
        for article in squad["data"]:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    yield qa["id"], {"id": qa["id"], "question": qa["question"]}
'''

MODELING_SCRIPT = '''"""A trust_remote_code modeling file: a small custom architecture."""

import math

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel


class TinyConfig(PretrainedConfig):
    model_type = "tiny"

    def __init__(self, hidden_size=64, num_layers=2, **kwargs):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        super().__init__(**kwargs)


class TinyModel(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.layers = nn.ModuleList(nn.Linear(config.hidden_size, config.hidden_size) for _ in range(config.num_layers))
        self.scale = 1 / math.sqrt(config.hidden_size)

    def forward(self, hidden_states):
        for layer in self.layers:
            hidden_states = torch.relu(layer(hidden_states)) * self.scale
        return hidden_states
'''


def dataset_script(_: Path) -> bytes:
    return DATASET_SCRIPT.encode()


def modeling_script(_: Path) -> bytes:
    return MODELING_SCRIPT.encode()


BENIGN: dict[str, Callable[[Path], bytes]] = {
    "torch_transformer.bin": torch_transformer,
    "torch_cnn.pt": torch_cnn,
    "torch_many_tensors.pt": torch_many_tensors,
    "torch_optimizer.pt": torch_optimizer_state,
    "torch_whole_model.pt": torch_whole_model,
    "torch_whole_model_main.pt": torch_whole_model_main,
    "torch_legacy.pt": torch_legacy,
    "sklearn.joblib": sklearn_joblib,
    "sklearn_compressed.joblib": sklearn_joblib_compressed,
    "array.npy": numpy_npy,
    "arrays.npz": numpy_npz,
    "arrays_compressed.npz": numpy_npz_compressed,
    "numpy_protocol2.pkl": numpy_pickle_protocol2,
    "keras_dense.h5": keras_h5_dense,
    "keras_dense.keras": keras_v3_dense,
    "keras_metadata.pb": keras_metadata_dense,
    "model.safetensors": safetensors_file,
    "llama3.gguf": gguf_llama3,
    "model.onnx": onnx_model,
    "vocab.pkl": vocab_pickle,
    "stdlib_objects.pkl": stdlib_objects_pickle,
    "stdlib_objects_p2.pkl": stdlib_objects_pickle_p2,
    "chatml.gguf": gguf_chatml,
    "mistral.gguf": gguf_mistral,
    "torch_half_numpy.pt": torch_half_and_numpy,
    "sklearn_function_transformer.joblib": sklearn_function_transformer,
    "squad.py": dataset_script,
    "modeling_tiny.py": modeling_script,
}
