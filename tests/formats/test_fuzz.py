"""Mutated and truncated files never crash an analyzer (no MH903); every failure is a finding."""

from __future__ import annotations

import json
import random
import struct

import numpy as np
import pytest
from safetensors.numpy import save

from malhug.analyzers.dispatch import scan_source
from malhug.analyzers.shared.source import BytesSource
from tests.formats.templates import SSTI
from tests.formats.test_onnx import _external, _model
from tests.keras.keraslib import h5_bytes, keras_zip, lambda_b64, lambda_layer, sequential
from tests.keras.protowire import keras_metadata, node_def, saved_model, string_tensor_attr

MUTATIONS = 150


def _lambda_config() -> dict:
    return sequential(lambda_layer([lambda_b64("os.system('echo malhug') or x"), None, None]))


def _gguf() -> bytes:
    key, value = b"tokenizer.chat_template", SSTI["attr-concat"].encode()
    return (
        b"GGUF"
        + struct.pack("<IQQ", 3, 0, 1)
        + struct.pack("<Q", len(key))
        + key
        + struct.pack("<IQ", 8, len(value))
        + value
    )


SEEDS = {
    "hdf5": lambda: h5_bytes(_lambda_config()),
    "keras-v3": lambda: keras_zip(_lambda_config()),
    "keras-metadata-pb": lambda: keras_metadata([("root", json.dumps(_lambda_config()))]),
    "savedmodel-pb": lambda: saved_model(
        [node_def("p", "Const", attrs={"value": string_tensor_attr("/etc/passwd")}), node_def("r", "ReadFile", ("p",))]
    ),
    "onnx": lambda: _model(_external("../../etc/passwd")),
    "safetensors": lambda: save({"a": np.ones(3, dtype=np.float32), "b": np.zeros(2, dtype=np.int8)}),
    "gguf": _gguf,
    "json": lambda: json.dumps({"chat_template": SSTI["getitem-plus"], "x": _lambda_config()}).encode(),
}


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_mutations_never_crash(fmt: str) -> None:
    seed = SEEDS[fmt]()
    rng = random.Random(fmt)
    for i in range(MUTATIONS):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if i % 4 == 0:
            data = data[: rng.randrange(1, len(data))]
        report = scan_source(BytesSource(bytes(data)), name="fuzzed", format_hint=fmt)
        crashes = [f.message for f in report.findings if f.rule == "MH903"]
        assert not crashes, (fmt, i, crashes)
