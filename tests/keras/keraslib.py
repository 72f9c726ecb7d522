"""Keras configs and containers for the Keras analyzer tests, written without Keras.

Lambda bytecode is ``marshal.dumps`` of code compiled here (creating marshal bytes is safe; nothing
in these tests ever loads them).
"""

from __future__ import annotations

import codecs
import io
import json
import marshal
import types
import zipfile
from typing import Any

import h5py
import numpy as np

from malhug.analyzers.api import scan_bytes
from malhug.core.model import FileReport, Finding


def lambda_code(source: str, filename: str = "/tmp/malhug-test.py") -> types.CodeType:
    """The code object of ``lambda x: <source>``."""
    module = compile(f"lambda x: {source}", filename, "eval")
    code = module.co_consts[0]
    assert isinstance(code, types.CodeType)
    return code


def lambda_b64(source: str) -> str:
    # Keras writes codecs.encode(raw, "base64"): base64 with a newline every 76 characters.
    return codecs.encode(marshal.dumps(lambda_code(source)), "base64").decode("ascii")


def dense(name: str, units: int = 4) -> dict[str, Any]:
    return {
        "class_name": "Dense",
        "config": {"name": name, "units": units, "activation": "relu", "use_bias": True, "dtype": "float32"},
    }


def lambda_layer(function: Any, name: str = "lambda", function_type: str = "lambda", module: str = "__main__") -> dict:
    return {
        "class_name": "Lambda",
        "config": {
            "name": name,
            "trainable": True,
            "dtype": "float32",
            "function": function,
            "function_type": function_type,
            "module": module,
            "output_shape": None,
            "output_shape_type": "raw",
            "output_shape_module": None,
            "arguments": {},
        },
    }


def sequential(*layers: dict[str, Any]) -> dict[str, Any]:
    first = {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32", "name": "in"}}
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": [first, *layers]}}


def h5_bytes(model_config: Any | None, *, extra_attrs: dict[str, Any] | None = None) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        if model_config is not None:
            f.attrs["model_config"] = model_config if isinstance(model_config, str) else json.dumps(model_config)
        f.attrs["training_config"] = json.dumps({"loss": "mse", "metrics": ["mae"], "optimizer_config": {}})
        for key, value in (extra_attrs or {}).items():
            f.attrs[key] = value
        weights = f.create_group("model_weights/dense/dense")
        weights.create_dataset("kernel:0", data=np.ones((4, 4), dtype="float32"))
        f["model_weights/dense"].attrs["weight_names"] = np.array([b"dense/kernel:0"])
    return buf.getvalue()


def keras_zip(config: Any, extra: dict[str, bytes] | None = None) -> bytes:
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        f.create_group("layers/dense/vars").create_dataset("0", data=np.ones((4, 4), dtype="float32"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2024-05-01@10:00:00"}))
        zf.writestr("config.json", config if isinstance(config, str) else json.dumps(config))
        zf.writestr("model.weights.h5", weights.getvalue())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def scan(data: bytes, name: str = "model") -> FileReport:
    return scan_bytes(data, name=name)


def only(report: FileReport, rule: str) -> Finding:
    hits = [f for f in report.findings if f.rule == rule]
    assert len(hits) == 1, [(f.rule, f.message) for f in report.findings]
    return hits[0]


def rules(report: FileReport) -> list[str]:
    return sorted(f.rule for f in report.findings)
