"""Keras 1.x-era HDF5 files, written by Keras 1's rules (``keras/engine/topology.py`` of Keras 1.2):
weight files are ``layer_names`` on the root and ``weight_names`` per layer group, with no
``model_config`` and often no ``keras_version``; whole-model files carry a ``model_config`` whose
Sequential ``config`` is a bare list of layers (Keras 2 wraps it in ``{"name", "layers"}``), and a
Lambda's ``function`` is ``func_dump``'s (base64 marshal code, defaults, closure). Written with h5py;
nothing is loaded with Keras.
"""

from __future__ import annotations

import io
import json

import h5py
import numpy as np
import pytest

from malhug.analyzers.api import scan_bytes
from malhug.core.model import Category, Verdict
from tests.keras.keraslib import lambda_b64


def _weights(f: h5py.Group, layers: list[str], tf_names: bool) -> None:
    f.attrs["layer_names"] = np.array([n.encode() for n in layers])
    for name in layers:
        g = f.create_group(name)
        suffix = ":0" if tf_names else ""
        names = [f"{name}_W{suffix}", f"{name}_b{suffix}"]
        g.attrs["weight_names"] = np.array([n.encode() for n in names])
        g.create_dataset(names[0], data=np.zeros((4, 4), "float32"))
        g.create_dataset(names[1], data=np.zeros((4,), "float32"))


def keras1_weights(version: str | None, backend: str | None, tf_names: bool = False) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        if version is not None:
            f.attrs["keras_version"] = version.encode()
        if backend is not None:
            f.attrs["backend"] = backend.encode()
        _weights(f, ["dense_1", "dense_2"], tf_names)
    return buf.getvalue()


def keras1_model(layers: list[dict]) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = b"1.2.2"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": layers}).encode()
        f.attrs["training_config"] = json.dumps({"loss": "mse", "optimizer_config": {"class_name": "SGD"}}).encode()
        _weights(f.create_group("model_weights"), ["dense_1"], False)
    return buf.getvalue()


DENSE1 = {
    "class_name": "Dense",
    "config": {"name": "dense_1", "output_dim": 4, "input_dim": 4, "init": "glorot_uniform", "activation": "relu"},
}


@pytest.mark.parametrize(
    "version, backend, tf_names",
    [(None, None, False), (None, "theano", False), ("1.0.1", "theano", False), ("1.2.2", "tensorflow", True)],
)
def test_keras1_weight_files_are_clean(version: str | None, backend: str | None, tf_names: bool) -> None:
    report = scan_bytes(keras1_weights(version, backend, tf_names), name="weights.h5")
    assert report.format == "hdf5"
    assert report.findings == [], [(f.rule, f.message) for f in report.findings]
    assert report.verdict is Verdict.CLEAN


def test_keras1_sequential_model_with_a_bare_layer_list_is_clean() -> None:
    report = scan_bytes(keras1_model([DENSE1]), name="model.h5")
    assert report.findings == [], [(f.rule, f.message) for f in report.findings]
    assert report.verdict is Verdict.CLEAN


def test_keras1_lambda_in_a_bare_layer_list_is_still_analyzed() -> None:
    code = lambda_b64("__import__('os').system('echo keras1') or x")
    lam = {
        "class_name": "Lambda",
        "config": {"name": "lambda_1", "function": [code, None, None], "function_type": "lambda", "arguments": {}},
    }
    report = scan_bytes(keras1_model([DENSE1, lam]), name="model.h5")
    found = [f for f in report.findings if f.rule == "MH301"]
    assert found and found[0].category is Category.COMMAND_EXEC, [(f.rule, f.message) for f in report.findings]
    assert report.verdict is Verdict.MALICIOUS
