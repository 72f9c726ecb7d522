"""Fuzz target: Keras configs (``keras/config.py``), ``keras_metadata.pb`` (``keras/savedmodel.py``) and
Lambda bytecode through our own marshal reader (``keras/marshal_reader.py``, ``keras/lambda_code.py``)."""

from __future__ import annotations

import base64
import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from malhug.analyzers.dispatch import SEAMS
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
    return assess_lambda(code, SEAMS, origin="fuzz")


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


# --- inputs found while fuzzing (analyzers/keras/marshal_reader.py) ---------------------------------


def _i32(n: int) -> bytes:
    return struct.pack("<i", n)


def _code311(consts: bytes) -> bytes:
    """A Python 3.11 code object around ``consts`` (marshal bytes of a tuple), written field by field."""

    def s(b: bytes) -> bytes:
        return b"s" + _i32(len(b)) + b

    def u(b: bytes) -> bytes:
        return b"u" + _i32(len(b)) + b

    empty = b")\x00"
    return (
        b"c"
        + _i32(0) * 5
        + s(b"\x97\x00")
        + consts
        + empty
        + empty
        + s(b"")
        + u(b"f")
        + u(b"<lambda>") * 2
        + _i32(1)
        + s(b"") * 2
    )


def _doubling_tuples(levels: int) -> bytes:
    """consts = (t0, t1, ..., tN) with t0 = ('echo',) and t(k) = (t(k-1), t(k-1)) by reference (``r``):
    15 bytes per level, 2**N leaves when the nesting is walked as a tree."""
    defs = b"\xa9\x01" + b"z\x04echo"  # FLAG_REF | ')': a small tuple that takes reference slot 0
    for k in range(1, levels + 1):
        defs += b"\xa9\x02" + b"r" + _i32(k - 1) + b"r" + _i32(k - 1)
    return _code311(b"(" + _i32(levels + 1) + defs)


@pytest.mark.parametrize("levels", [16, 60])
def test_shared_constant_tuples_are_walked_once(levels: int) -> None:
    from malhug.analyzers.keras.marshal_reader import _flatten

    code = read_code(_doubling_tuples(levels))
    assert list(_flatten(code.consts)) == ["echo"]  # each shared tuple expanded once, not 2**levels leaves
    assert code.all_strings() == ["echo"]
    check_parser("keras", _doubling_tuples(levels), _decode)


@given(st.lists(st.integers(0, 0x7FFF), max_size=70), st.booleans())
def test_long_constants_decode_as_python_writes_them(digits: list[int], negative: bool) -> None:
    expected = sum(d << (15 * i) for i, d in enumerate(digits))
    n = -len(digits) if negative else len(digits)
    raw = b"l" + _i32(n) + b"".join(struct.pack("<H", d) for d in digits)
    code = read_code(_code311(b")\x01" + raw))
    assert code.consts == (-expected if negative else expected,)


def test_a_million_digit_constant_is_decoded_without_quadratic_shifts() -> None:
    digits = 1_000_000
    code = read_code(_code311(b")\x01" + b"l" + _i32(digits) + b"\xff\x7f" * digits))
    assert code.consts[0].bit_length() == 15 * digits


def test_a_long_key_over_a_long_list_costs_no_copy_per_item() -> None:
    """Each item's JSON path used to be built up front with the key in it: a 100 KB key over 3,000
    items held 300 MB (a 1 MB config, gigabytes). The peak-RSS bound of check_scan enforces it."""
    config = {"class_name": "Sequential", "config": {"layers": [{"k" * 100_000: [0] * 3_000}]}}
    check_scan("keras", json.dumps(config).encode(), name="config.json")


def test_paths_in_messages_shorten_long_keys() -> None:
    config = {
        "class_name": "Sequential",
        "config": {"layers": [{"y" * 100: {"class_name": "system", "module": "posix", "config": {}}}]},
    }
    report = check_scan("keras", json.dumps(config).encode(), name="config.json", must_flag=True)
    assert [f.rule for f in report.findings] == ["MH304"]
    assert f"$.config.layers[0].{'y' * 40}…" in report.findings[0].message
