"""ONNX: external-data paths and custom operator domains, parsed from the wire format."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from malhug.analyzers.dispatch import scan_source
from malhug.analyzers.shared.paths import escapes_folder
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import Category, Severity, Verdict
from tests.keras.keraslib import scan


def _model(
    initializer: TensorProto | None = None,
    domain: str = "",
    op: str = "Add",
    functions: list[onnx.FunctionProto] | None = None,
    subgraph_tensor: TensorProto | None = None,
) -> bytes:
    w = initializer or numpy_helper.from_array(np.ones((2,), dtype=np.float32), name="w")
    nodes = [helper.make_node(op, ["x", "w"], ["y"], domain=domain, name="n0")]
    if subgraph_tensor is not None:
        then = helper.make_graph(
            [helper.make_node("Constant", [], ["c"], value=subgraph_tensor)],
            "then",
            [],
            [helper.make_tensor_value_info("c", TensorProto.FLOAT, [2])],
        )
        nodes.append(helper.make_node("If", ["cond"], ["z"], then_branch=then, else_branch=then, name="if0"))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
        initializer=[w],
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    model = helper.make_model(graph, opset_imports=opsets, functions=functions or [])
    return model.SerializeToString()


def _external(location: str) -> TensorProto:
    t = TensorProto()
    t.name = "w"
    t.data_type = TensorProto.FLOAT
    t.dims.extend([2])
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "8")):
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    return t


def test_benign_model_is_clean() -> None:
    report = scan(_model(), "model.onnx")
    assert report.format == "onnx"
    assert report.findings == []
    assert report.verdict is Verdict.CLEAN


def test_external_data_next_to_the_model_is_clean() -> None:
    assert scan(_model(_external("weights/model.onnx.data")), "model.onnx").findings == []


@pytest.mark.parametrize(
    "location", ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "a/../../b", "\\\\host\\share\\x"]
)
def test_external_data_escaping_the_folder_is_path_traversal(location: str) -> None:
    report = scan(_model(_external(location)), "model.onnx")
    [f] = report.findings
    assert f.rule == "MH410"
    assert f.category is Category.PATH_TRAVERSAL
    assert f.severity is Severity.HIGH
    assert f.evidence == location
    assert "graph/g/w" in f.message
    assert report.verdict is Verdict.MALICIOUS


def test_escape_inside_a_subgraph_attribute() -> None:
    [f] = scan(_model(subgraph_tensor=_external("../secret.bin")), "model.onnx").findings
    assert f.rule == "MH410"
    assert "if0" in f.message


def test_custom_domain_is_suspicious_but_known_ones_are_not() -> None:
    report = scan(_model(domain="evil.custom", op="Backdoor"), "model.onnx")
    [f] = report.findings
    assert f.rule == "MH411"
    assert "evil.custom: Backdoor" in f.message
    assert report.verdict is Verdict.SUSPICIOUS
    assert scan(_model(domain="com.microsoft", op="FusedMatMul"), "model.onnx").findings == []


def test_domain_of_a_function_defined_in_the_model_is_not_custom() -> None:
    fn = helper.make_function(
        "local.fns",
        "MyAdd",
        ["a", "b"],
        ["c"],
        [helper.make_node("Add", ["a", "b"], ["c"])],
        [helper.make_opsetid("", 17)],
    )
    assert scan(_model(domain="local.fns", op="MyAdd", functions=[fn]), "model.onnx").findings == []


def test_truncated_model_is_malformed() -> None:
    data = _model()
    report = scan_source(BytesSource(data[:-7]), name="model.onnx", format_hint="onnx")
    assert [f.rule for f in report.findings] == ["MH901"]


def test_escapes_folder() -> None:
    assert not escapes_folder("model.data")
    assert not escapes_folder("sub/../model.data")
    assert escapes_folder("..")
    assert escapes_folder("D:model.data")
