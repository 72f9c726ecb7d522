"""Keras and SavedModel rules next to a benign look-alike of what makes them fire: the rule stays silent.

The positive side of each pair lives in test_hdf5.py, test_keras_v3.py and test_savedmodel.py
(marked ``fires``); each case here changes the one thing the rule is about.
"""

from __future__ import annotations

import io

import h5py
import pytest

from malhug.core.model import Verdict
from tests.keras.keraslib import dense, h5_bytes, lambda_b64, lambda_layer, rules, scan, sequential
from tests.keras.protowire import node_def, saved_model, string_attr, string_tensor_attr


def _graph(*extra: bytes) -> bytes:
    nodes = [node_def("x", "Placeholder"), node_def("w", "VarHandleOp"), node_def("y", "MatMul", ("x", "w")), *extra]
    return saved_model(nodes)


def _soft_link_h5() -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f["data"] = [1, 2, 3]
        f["alias"] = h5py.SoftLink("/data")  # a link inside the file, not to another file
    return buf.getvalue()


_RELU = {"module": "keras.activations", "class_name": "function", "config": "relu", "registered_name": "function"}


@pytest.mark.parametrize(
    ("rule", "data", "verdict"),
    [
        # MH301 fires on a Lambda calling os.system; arithmetic is only the MH302 note on every Lambda.
        pytest.param(
            "MH301",
            h5_bytes(sequential(lambda_layer([lambda_b64("x * 2.0 + 1"), None, None]))),
            Verdict.SUSPICIOUS,
            marks=pytest.mark.quiet("MH301"),
        ),
        # MH302 fires on any Lambda; the same model with a Dense layer in its place has none.
        pytest.param(
            "MH302", h5_bytes(sequential(dense("d"), dense("d_1", 2))), Verdict.CLEAN, marks=pytest.mark.quiet("MH302")
        ),
        # MH303 fires on Lambda bytes that do not decode; bytecode that decodes is assessed instead.
        pytest.param(
            "MH303",
            h5_bytes(sequential(lambda_layer([lambda_b64("x + 1"), None, None]))),
            Verdict.SUSPICIOUS,
            marks=pytest.mark.quiet("MH303"),
        ),
        # MH304 fires on a function reference to os.system or builtins.exec; one to a Keras activation is fine.
        pytest.param(
            "MH304",
            h5_bytes(sequential({"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": _RELU}})),
            Verdict.CLEAN,
            marks=pytest.mark.quiet("MH304"),
        ),
        # MH306 fires on safe_mode: false; safe_mode: true is the default spelled out.
        pytest.param(
            "MH306",
            h5_bytes({**sequential(dense("d")), "safe_mode": True}),
            Verdict.CLEAN,
            marks=pytest.mark.quiet("MH306"),
        ),
        # MH307 fires on a model_config cut in the middle; the same config whole is valid.
        pytest.param(
            "MH307",
            h5_bytes('{"class_name": "Sequential", "config": {}}'),
            Verdict.CLEAN,
            marks=pytest.mark.quiet("MH307"),
        ),
        # MH308 fires on an external link to /etc/passwd; a soft link inside the file is no escape.
        pytest.param("MH308", _soft_link_h5(), Verdict.CLEAN, marks=pytest.mark.quiet("MH308")),
    ],
)
def test_keras_lookalike_stays_quiet(rule: str, data: bytes, verdict: Verdict) -> None:
    report = scan(data)
    assert rule not in rules(report), [(f.rule, f.message) for f in report.findings]
    assert report.verdict is verdict, [(f.rule, f.message) for f in report.findings]


@pytest.mark.parametrize(
    ("rule", "data"),
    [
        # MH310 fires on ReadFile of /etc/passwd; the same path as a constant nothing reads stays data.
        pytest.param(
            "MH310",
            _graph(node_def("path", "Const", attrs={"value": string_tensor_attr("/etc/passwd")})),
            marks=pytest.mark.quiet("MH310"),
        ),
        # MH311 fires on PrintV2 into a file; PrintV2 to stderr writes no file.
        pytest.param(
            "MH311",
            _graph(node_def("ok", "PrintV2", ("msg",), attrs={"output_stream": string_attr("stderr")})),
            marks=pytest.mark.quiet("MH311"),
        ),
        # MH312 fires on a PyFunc op; its token string on an ordinary op calls no Python.
        pytest.param(
            "MH312",
            _graph(node_def("py", "Identity", ("y",), attrs={"token": string_attr("pyfunc_0")})),
            marks=pytest.mark.quiet("MH312"),
        ),
        # MH313 fires on ImmutableConst mapping /etc/hostname; a Const holding that text maps nothing.
        pytest.param(
            "MH313",
            _graph(node_def("c", "Const", attrs={"value": string_tensor_attr("/etc/hostname")})),
            marks=pytest.mark.quiet("MH313"),
        ),
    ],
)
def test_saved_model_lookalike_stays_quiet(rule: str, data: bytes) -> None:
    report = scan(data, "saved_model.pb")
    assert report.format == "savedmodel-pb"
    assert rule not in rules(report), [(f.rule, f.message) for f in report.findings]
    assert report.verdict is Verdict.CLEAN, [(f.rule, f.message) for f in report.findings]
