"""``local_path``: the file a risky load deserializes, as the code names it (issue #16: the load site
must carry the verdict of the local file it loads)."""

from __future__ import annotations

import pytest

from malhug.analyzers.api import SourceLines, analyze_user_code, local_path


def _paths(text: str) -> list[str | None]:
    report = analyze_user_code(text)
    return [local_path(load, SourceLines(text)) for load in report.analysis.loads]


@pytest.mark.parametrize(
    ("code", "path"),
    [
        ('torch.load("models/checkpoint.pt")', "models/checkpoint.pt"),
        ('torch.load(f="models/c.pt", weights_only=False)', "models/c.pt"),
        ('joblib.load("model.joblib")', "model.joblib"),
        ('np.load("a.npy", allow_pickle=True)', "a.npy"),
        ('pickle.load(open("data/x.pkl", "rb"))', "data/x.pkl"),
        ('pickle.load(io.open("data/y.pkl", "rb"))', "data/y.pkl"),
        ('tf.keras.models.load_model("m.keras", safe_mode=False)', "m.keras"),
    ],
)
def test_the_path_a_load_reads(code: str, path: str) -> None:
    text = f"import io, pickle, joblib, torch\nimport numpy as np\nimport tensorflow as tf\nx = {code}\n"
    assert _paths(text) == [path]


@pytest.mark.parametrize(
    "code",
    ["torch.load(path)", "pickle.loads(blob)", 'torch.load("hf://org/m/x.pt")', "pickle.load(open(name))"],
)
def test_no_path_when_the_code_does_not_name_one(code: str) -> None:
    text = f"import pickle, torch\nx = {code}\n"
    assert _paths(text) == [None]


def test_file_loads_include_calls_no_rule_flags() -> None:
    """The verdict of the file matters whatever the call's flags: an HDF5 Lambda layer runs in safe mode
    too, and torch < 2.6 could be made to run code under weights_only=True (CVE-2025-32434)."""
    from malhug.analyzers.api import BlockCache, file_loads

    text = (
        "import numpy as np\nimport torch\nfrom tensorflow import keras\n"
        "a = torch.load('a.pt', weights_only=True)\n"
        "b = keras.models.load_model('b.h5')\n"
        "c = np.load('c.npy')\n"
        "d = torch.load(name)\n"
    )
    found = file_loads(SourceLines(text), BlockCache())
    assert [(call.written, path, call.span.line) for call, path in found] == [
        ("torch.load", "a.pt", 3),
        ("keras.models.load_model", "b.h5", 4),
    ]
