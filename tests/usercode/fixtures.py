"""The user-code rules' positive and benign fixtures, shared by the analyzer tests and the CLI tests.

``RISKY`` is one file with every risky load (MH701-MH706, MH708) and a safe spelling beside each;
``RISKY_EXPECTED`` lists what the analysis must report on it, in order: (rule, the literal the finding
covers, which occurrence of it, the severity when the evidence overrides the rule's). ``BENIGN`` maps
a rule to a look-alike that calls the same library in a way that deserializes nothing.
The risky calls are never run: these are texts for a static analysis.
"""

from __future__ import annotations

from malhug.analyzers.usercode.spans import Span

RISKY = """import torch, pickle, joblib
import numpy as np
from tensorflow import keras
from transformers import AutoModel
a = torch.load("a.pt")
b = torch.load("b.pt", weights_only=False)
c = torch.load("c.pt", weights_only=True)
d = pickle.loads(blob)
e = joblib.load("m.joblib")
f = np.load("x.npy", allow_pickle=True)
g = np.load("y.npy")
h = keras.models.load_model("m.keras", safe_mode=False)
i = torch.hub.load("pytorch/vision", "resnet18")
j = AutoModel.from_pretrained("org/m", trust_remote_code=True)
k = AutoModel.from_pretrained("org/m", trust_remote_code=False)
"""

RISKY_EXPECTED: list[tuple[str, str, int, str | None]] = [
    ("MH701", "torch.load", 0, "low"),
    ("MH701", "weights_only=False", 0, None),
    ("MH702", "pickle.loads", 0, None),
    ("MH703", "joblib.load", 0, None),
    ("MH704", "allow_pickle=True", 0, None),
    ("MH705", "safe_mode=False", 0, None),
    ("MH708", "torch.hub.load", 0, None),
    ("MH706", "trust_remote_code=True", 0, None),
]

BENIGN: dict[str, str] = {
    "MH701": 'import torch\nc = torch.load("c.pt", weights_only=True)\n',
    "MH702": "import json, pickle\nd = json.loads(blob)\ne = pickle.dumps(obj)\n",
    "MH703": 'import joblib\njoblib.dump(model, "m.joblib")\n',
    "MH704": 'import numpy as np\nf = np.load("x.npy", allow_pickle=False)\ng = np.load("y.npy")\n',
    "MH705": 'from tensorflow import keras\nh = keras.models.load_model("m.keras", safe_mode=True)\n',
    "MH706": 'from transformers import AutoModel\nk = AutoModel.from_pretrained("org/m", trust_remote_code=False)\n',
    "MH708": 'import torch\ntorch.hub.list("pytorch/vision")\n',
}


def notebook(*cells: str, markdown_first: bool = True) -> str:
    """An nbformat-4 notebook (JSON text) with these code cells, after one markdown cell by default."""
    import json

    out = [{"cell_type": "markdown", "metadata": {}, "source": ["# notes\n"]}] if markdown_first else []
    for text in cells:
        out.append(
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": text.splitlines(keepends=True),
            }
        )
    return json.dumps({"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def span_of(text: str, literal: str, occurrence: int = 0) -> Span:
    lines = text.split("\n")
    seen = 0
    for number, line in enumerate(lines):
        start = 0
        while (col := line.find(literal, start)) >= 0:
            if seen == occurrence:
                return Span(number, col, number, col + len(literal))
            seen += 1
            start = col + 1
    raise AssertionError(literal)
