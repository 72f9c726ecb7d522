"""Keras files with (or without) a Lambda layer, written without Keras.

- ``h5_model``: a Keras 2 HDF5 model (``model_config`` attribute + ``model_weights`` group), written with
  h5py; the Lambda's ``function`` is ``[base64(marshal code), None, None]``.
- ``keras_v3_model``: a ``.keras`` zip (``metadata.json``, ``config.json``, ``model.weights.h5``) whose
  Lambda carries ``{"class_name": "__lambda__", "config": {"code": base64, ...}}``.
- ``keras_metadata_pb``: ``keras_metadata.pb`` of a SavedModel: a ``SavedMetadata`` protobuf (encoded
  here) whose ``SavedObject.metadata`` strings are the layers' Keras JSON.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import numpy as np

from tests.builders.marshal_code import code_bytes, compile_lambda


def lambda_b64(body: str, *, filename: str, python: tuple[int, int] = (3, 11)) -> str:
    return base64.b64encode(code_bytes(compile_lambda(body, filename=filename), python)).decode("ascii")


def _dense(name: str, units: int, activation: str = "relu") -> dict[str, Any]:
    return {
        "class_name": "Dense",
        "config": {
            "name": name,
            "trainable": True,
            "dtype": "float32",
            "units": units,
            "activation": activation,
            "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
        },
    }


def lambda_v2(code_b64: str) -> dict[str, Any]:
    return {
        "class_name": "Lambda",
        "config": {
            "name": "lambda",
            "trainable": True,
            "dtype": "float32",
            "function": [code_b64, None, None],
            "function_type": "lambda",
            "module": "__main__",
            "output_shape": None,
            "output_shape_type": "raw",
            "output_shape_module": None,
            "arguments": {},
        },
    }


def sequential_config(layers: list[dict[str, Any]]) -> dict[str, Any]:
    first = {
        "class_name": "InputLayer",
        "config": {"batch_input_shape": [None, 8], "dtype": "float32", "sparse": False, "name": "input_1"},
    }
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": [first, *layers]}}


def _write_h5(config: dict[str, Any], dense_shapes: list[tuple[str, int, int]]) -> bytes:
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["training_config"] = json.dumps({"loss": "mse", "metrics": None, "optimizer_config": {}})
        weights = f.create_group("model_weights")
        names = [c["config"]["name"] for c in config["config"]["layers"] if c["class_name"] != "InputLayer"]
        weights.attrs["layer_names"] = np.array([n.encode() for n in names])
        weights.attrs["backend"] = "tensorflow"
        weights.attrs["keras_version"] = "2.13.1"
        rng = np.random.default_rng(0)
        for name in names:
            group = weights.create_group(name)
            shape = next(((i, o) for n, i, o in dense_shapes if n == name), None)
            if shape is None:
                group.attrs["weight_names"] = np.array([], dtype="S1")
                continue
            group.attrs["weight_names"] = np.array([f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()])
            inner = group.create_group(name)
            inner.create_dataset("kernel:0", data=rng.standard_normal(shape).astype("float32"))
            inner.create_dataset("bias:0", data=np.zeros(shape[1], dtype="float32"))
    return buf.getvalue()


def h5_model(lambda_body: str | None = None, *, filename: str = "<stdin>", python: tuple[int, int] = (3, 11)) -> bytes:
    """A Keras 2 H5 model: Dense(8->16), [Lambda], Dense(16->2)."""
    layers = [_dense("dense", 16)]
    if lambda_body is not None:
        layers.append(lambda_v2(lambda_b64(lambda_body, filename=filename, python=python)))
    layers.append(_dense("dense_1", 2, "linear"))
    return _write_h5(sequential_config(layers), [("dense", 8, 16), ("dense_1", 16, 2)])


def keras_v3_model(
    lambda_body: str | None = None, *, filename: str = "<stdin>", python: tuple[int, int] = (3, 11)
) -> bytes:
    """A ``.keras`` (Keras 3) zip."""
    layers: list[dict[str, Any]] = [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 8], "name": "input"}},
        {"module": "keras.layers", **_dense("dense", 16), "registered_name": None},
    ]
    if lambda_body is not None:
        code = lambda_b64(lambda_body, filename=filename, python=python)
        layers.append(
            {
                "module": "keras.layers",
                "class_name": "Lambda",
                "config": {
                    "name": "lambda",
                    "trainable": True,
                    "dtype": "float32",
                    "function": {
                        "class_name": "__lambda__",
                        "config": {"code": code, "defaults": None, "closure": None},
                    },
                    "arguments": {},
                },
                "registered_name": None,
            }
        )
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    weights = _write_h5(sequential_config([_dense("dense", 16)]), [("dense", 8, 16)])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2024-05-01@10:00:00"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", weights)
    return buf.getvalue()


# --- protobuf wire format (only what SavedMetadata needs) -------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def saved_object(node_id: int, node_path: str, identifier: str, metadata: dict[str, Any]) -> bytes:
    """SavedObject{version=1: VersionDef{producer=1, min_consumer=2}, node_id=2, node_path=3,
    identifier=4, metadata=5}."""
    version = _field_varint(1, 2) + _field_varint(2, 1)
    return (
        _field_bytes(1, version)
        + (_field_varint(2, node_id) if node_id else b"")  # proto3 omits a default 0
        + _field_bytes(3, node_path.encode())
        + _field_bytes(4, identifier.encode())
        + _field_bytes(5, json.dumps(metadata).encode())
    )


def keras_metadata_pb(
    lambda_body: str | None = None, *, filename: str = "<stdin>", python: tuple[int, int] = (3, 11)
) -> bytes:
    """``keras_metadata.pb``: SavedMetadata{repeated SavedObject nodes = 1}."""
    layer_configs: list[dict[str, Any]] = [_dense("dense", 16)]
    if lambda_body is not None:
        code = lambda_b64(lambda_body, filename=filename, python=python)
        lam = lambda_v2(code)
        lam["config"]["function"] = {"class_name": "__tuple__", "items": [code, None, None]}
        layer_configs.append(lam)
    model_meta = {
        "name": "sequential",
        "trainable": True,
        "expects_training_arg": True,
        "dtype": "float32",
        "class_name": "Sequential",
        "config": sequential_config(layer_configs)["config"],
        "is_graph_network": True,
        "keras_version": "2.13.1",
        "backend": "tensorflow",
    }
    nodes = [saved_object(0, "root", "_tf_keras_sequential", model_meta)]
    for i, layer in enumerate(layer_configs, start=1):
        meta = {
            "name": layer["config"]["name"],
            "trainable": True,
            "expects_training_arg": False,
            "dtype": "float32",
            "batch_input_shape": None,
            "stateful": False,
            "must_restore_from_config": False,
            "class_name": layer["class_name"],
            "config": layer["config"],
            "shared_object_id": i,
        }
        nodes.append(saved_object(i, f"root.layer_with_weights-{i - 1}", "_tf_keras_layer", meta))
    return b"".join(_field_bytes(1, node) for node in nodes)
