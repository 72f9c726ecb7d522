"""Fuzz target: Keras configs (``keras/config.py``), ``keras_metadata.pb`` (``keras/savedmodel.py``) and
Lambda bytecode through our own marshal reader (``keras/marshal_reader.py``, ``keras/lambda_code.py``)."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from malhug.analyzers.keras.lambda_code import assess_lambda
from malhug.analyzers.keras.marshal_reader import CodeInfo, read_code
from tests.fuzz.harness import check_parser, check_scan
from tests.fuzz.mutate import mutated
from tests.fuzz.seeds import keras_config_seeds, marshal_seeds, savedmodel_seeds

_JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
_KEYS = st.sampled_from(
    ("class_name", "config", "layers", "function", "module", "registered_name", "code", "items", "name")
)
_CLASS = st.sampled_from(("Lambda", "Sequential", "Functional", "__lambda__", "__tuple__", "Dense", "TFOpLambda"))


def _decode(data: bytes | str) -> object:
    assert isinstance(data, bytes)
    code = read_code(data)
    assert isinstance(code, CodeInfo)
    return assess_lambda(code, origin="fuzz")


@st.composite
def keras_values(draw: st.DrawFn) -> object:
    """JSON shaped like Keras configs: Lambdas whose function is a list, a tuple object or a code dict,
    holding base64 of mutated marshal bytes, nested models, odd types everywhere."""
    code = base64.b64encode(draw(mutated(marshal_seeds, max_edits=2))).decode()
    leaf = _JSON_LEAF | _CLASS | st.just(code)
    value = draw(
        st.recursive(
            leaf,
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS | st.text(max_size=4), inner, max_size=4),
            max_leaves=20,
        )
    )
    lam = {
        "class_name": "Lambda",
        "config": {
            "name": "l",
            "function": draw(
                st.sampled_from(
                    (
                        [code, None, None],
                        {"class_name": "__lambda__", "config": {"code": code}},
                        {"class_name": "__tuple__", "items": [code]},
                        value,
                    )
                )
            ),
        },
    }
    return {"class_name": draw(_CLASS), "config": {"name": "m", "layers": [lam, value]}}


@given(mutated(marshal_seeds))
def test_mutated_lambda_bytecode_is_decoded_or_refused(data: bytes) -> None:
    check_parser("keras", data, _decode)


@given(mutated(keras_config_seeds))
def test_mutated_configs_and_metadata_are_handled(data: bytes) -> None:
    check_scan("keras", data, name="config.json")


@given(mutated(savedmodel_seeds))
def test_mutated_saved_models_are_handled(data: bytes) -> None:
    check_scan("keras", data, name="saved_model.pb")


@given(keras_values())
def test_generated_configs_are_handled(value: object) -> None:
    check_scan("keras", json.dumps(value).encode(), name="config.json")


@given(st.dictionaries(_KEYS | st.text(max_size=5), _JSON_LEAF, max_size=4), st.integers(0, 3))
def test_a_lambda_payload_is_found_whatever_surrounds_it(extra: dict[str, object], position: int) -> None:
    config = json.loads(keras_config_seeds()[0])
    layers = config["config"]["layers"]
    lam = next(layer for layer in layers if layer["class_name"] == "Lambda")
    lam["config"].update({k: v for k, v in extra.items() if k not in ("function", "class_name")})
    layers.insert(min(position, len(layers)), {"class_name": "Dense", "config": {"name": f"d{position}", **extra}})
    check_scan("keras", json.dumps(config).encode(), name="config.json", must_flag=True)
