"""A wider benign set for false-positive rates: many torch modules (state dicts and whole-module saves
of torch's own classes), many scikit-learn estimators (joblib and pickle), ordinary objects in every
pickle protocol, NumPy arrays of many dtypes.

``BENIGN_MATRIX`` maps a file name to a builder taking a scratch folder and returning the bytes.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import io
import pickle
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from tests.builders.torchfiles import torch_save_bytes


def _torch_modules() -> dict[str, Callable[[], Any]]:
    import torch
    from torch import nn

    return {
        "lstm": lambda: nn.LSTM(8, 16, num_layers=2, batch_first=True),
        "gru": lambda: nn.GRU(8, 8, bidirectional=True),
        "conv1d": lambda: nn.Sequential(nn.Conv1d(4, 8, 3), nn.GroupNorm(2, 8), nn.GELU()),
        "conv3d": lambda: nn.Sequential(nn.Conv3d(1, 2, 3), nn.InstanceNorm3d(2, affine=True)),
        "attention": lambda: nn.MultiheadAttention(16, 4, batch_first=True),
        "transformer": lambda: nn.Transformer(16, 2, 1, 1, 32, batch_first=True),
        "embedding_bag": lambda: nn.EmbeddingBag(100, 8, mode="mean"),
        "layernorm_mlp": lambda: nn.Sequential(
            nn.LayerNorm(8), nn.Linear(8, 32), nn.SiLU(), nn.Dropout(0.1), nn.Linear(32, 8)
        ),
        "bilinear": lambda: nn.Bilinear(4, 4, 2),
        "prelu_bn": lambda: nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.PReLU()),
        "quant_stub": lambda: nn.Sequential(torch.ao.quantization.QuantStub(), nn.Linear(4, 4)),
        "param_list": lambda: nn.ParameterList([nn.Parameter(torch.ones(3)), nn.Parameter(torch.zeros(2, 2))]),
    }


def _torch_builders() -> dict[str, Callable[[Path], bytes]]:
    out: dict[str, Callable[[Path], bytes]] = {}
    for name, make in _torch_modules().items():
        out[f"torch/{name}_state.pt"] = partial(_save_state, make)
        out[f"torch/{name}_module.pt"] = partial(_save_module, make)
    return out


def _estimators() -> dict[str, Callable[[], Any]]:
    """name -> a function that fits that estimator on a small data set."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.ensemble import GradientBoostingClassifier, IsolationForest
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LinearRegression, SGDClassifier
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import LabelEncoder, OneHotEncoder
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 3))
    y = (x[:, 1] > 0).astype(int)
    docs = ["the cat sat", "os.system is a string here", "eval of nothing", "dogs bark"]
    return {
        "linear": lambda: LinearRegression().fit(x, x[:, 0]),
        "sgd": lambda: SGDClassifier(max_iter=20, tol=None, random_state=0).fit(x, y),
        "svc": lambda: SVC().fit(x, y),
        "knn": lambda: KNeighborsClassifier(3).fit(x, y),
        "tree": lambda: DecisionTreeClassifier(max_depth=3).fit(x, y),
        "gboost": lambda: GradientBoostingClassifier(n_estimators=5).fit(x, y),
        "iforest": lambda: IsolationForest(n_estimators=5, random_state=0).fit(x),
        "kmeans": lambda: KMeans(2, n_init=2, random_state=0).fit(x),
        "pca": lambda: PCA(2).fit(x),
        "nb": lambda: GaussianNB().fit(x, y),
        "tfidf": lambda: TfidfVectorizer().fit(docs),
        "labels": lambda: LabelEncoder().fit(["cat", "dog", "os.system"]),
        "onehot": lambda: OneHotEncoder().fit([["a"], ["b"]]),
    }


def _sklearn_builders() -> dict[str, Callable[[Path], bytes]]:
    out: dict[str, Callable[[Path], bytes]] = {}
    for name, fit in _estimators().items():
        out[f"sklearn/{name}.joblib"] = partial(_joblib_dump, fit, f"{name}.joblib")
        out[f"sklearn/{name}.pkl"] = partial(_pickle_fitted, fit)
    return out


def _save_state(make: Callable[[], Any], _tmp: Path) -> bytes:
    return torch_save_bytes(make().state_dict())


def _save_module(make: Callable[[], Any], _tmp: Path) -> bytes:
    return torch_save_bytes(make())


def _joblib_dump(fit: Callable[[], Any], name: str, tmp: Path) -> bytes:
    import joblib

    path = tmp / name
    joblib.dump(fit(), path)
    return path.read_bytes()


def _pickle_fitted(fit: Callable[[], Any], _tmp: Path) -> bytes:
    return pickle.dumps(fit(), protocol=4)


def _pickle_object(obj: Any, protocol: int, _tmp: Path) -> bytes:
    return pickle.dumps(obj, protocol=protocol)


def _plain_objects() -> dict[str, Any]:
    return {
        "nested": {"a": [1, 2.5, None, True], "b": ("x", b"bytes", bytearray(b"ba")), "c": {frozenset({1, 2})}},
        "dates": [datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 2, 3, 4, 5), datetime.timedelta(days=3)],
        "numbers": [decimal.Decimal("1.10"), fractions.Fraction(3, 4), complex(0, 1), 2**80],
        "collections": [collections.deque([1, 2]), collections.defaultdict(list, {"k": [1]}), uuid.UUID(int=7)],
        "text": {
            "prompt": "run os.system('rm -rf /') and eval(input())",
            "tokens": ["exec", "__import__", "subprocess"],
        },
    }


def _pickle_builders() -> dict[str, Callable[[Path], bytes]]:
    out: dict[str, Callable[[Path], bytes]] = {}
    for name, obj in _plain_objects().items():
        for protocol in range(6):
            out[f"pickle/{name}_p{protocol}.pkl"] = partial(_pickle_object, obj, protocol)
    return out


def _npy(array: np.ndarray, _tmp: Path) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _numpy_builders() -> dict[str, Callable[[Path], bytes]]:
    arrays: dict[str, np.ndarray] = {
        "uint8": np.arange(256, dtype=np.uint8).reshape(16, 16),
        "float16": np.linspace(-1, 1, 64, dtype=np.float16),
        "complex": np.ones(8, dtype=np.complex128),
        "bool": np.array([True, False] * 8),
        "structured": np.zeros(4, dtype=[("id", "<i4"), ("score", "<f8")]),
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "unicode": np.array(["os.system", "eval", "hello"]),
    }
    return {f"numpy/{name}.npy": partial(_npy, a) for name, a in arrays.items()}


def benign_matrix() -> dict[str, Callable[[Path], bytes]]:
    return {**_torch_builders(), **_sklearn_builders(), **_pickle_builders(), **_numpy_builders()}


BENIGN_MATRIX = benign_matrix()
