"""``.keras`` archives: config.json walk, nested weights, invalid configs."""

from __future__ import annotations

import pytest

from malhug.core.model import Category, Severity, Verdict
from tests.keras.keraslib import dense, keras_zip, lambda_b64, only, rules, scan


def _config(*layers: dict) -> dict:
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "s", "layers": list(layers)},
        "registered_name": None,
    }


def _lambda3(source: str) -> dict:
    fn = {"class_name": "__lambda__", "config": {"value": [lambda_b64(source), None, None]}}
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": "lam", "function": fn, "arguments": {}},
        "registered_name": None,
    }


def test_benign_keras_archive_is_clean() -> None:
    report = scan(keras_zip(_config({"module": "keras.layers", **dense("d"), "registered_name": None})), "m.keras")
    assert report.format == "keras-v3"
    assert [f for f in report.findings if f.severity >= Severity.MEDIUM] == []
    assert report.verdict is Verdict.CLEAN


@pytest.mark.fires("MH301")
def test_lambda_in_config_json() -> None:
    report = scan(keras_zip(_config(_lambda3("exec(\"print('Malicious code!')\") or x"))), "m.keras")
    f = only(report, "MH301")
    assert f.location.member == "config.json"
    assert f.category is Category.CODE_EXEC
    assert "$.config.layers[0].config.function.config.value[0]" in f.message
    assert report.verdict is Verdict.MALICIOUS


@pytest.mark.fires("MH307")
def test_invalid_config_json_is_not_clean() -> None:
    report = scan(keras_zip('{"module": "keras", "class_name": "Sequential", "config": '), "m.keras")
    f = only(report, "MH307")
    assert f.location.member == "config.json"
    assert report.verdict is Verdict.SUSPICIOUS


def test_hdf5_weights_member_is_scanned() -> None:
    from tests.keras.keraslib import h5_bytes, lambda_layer, sequential

    bad_weights = h5_bytes(sequential(lambda_layer([lambda_b64("os.system('id') or x"), None, None])))
    report = scan(keras_zip(_config(), extra={"assets/extra.h5": bad_weights}), "m.keras")
    f = only(report, "MH301")
    assert f.location.member == "assets/extra.h5:model_config"
    assert "MH301" in rules(report)
