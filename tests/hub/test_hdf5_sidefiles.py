"""Hub scans follow the files a Keras HDF5 model's external links name (h5py "External links"):
fetched from the same revision and reported in the model's report, as the CLI does."""

from __future__ import annotations

import io
from collections.abc import Callable

import h5py
import pytest

from malhug.core.model import Verdict
from malhug.hub.client import HubClient
from tests.fakehub import FakeHub
from tests.keras.keraslib import dense, h5_bytes, lambda_b64, lambda_layer, sequential

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers

EVIL = sequential(dense("dense"), lambda_layer([lambda_b64("os.system('echo linked') or x"), None, None]))


def linking_model(*names: str) -> bytes:
    buf = io.BytesIO(h5_bytes(sequential(dense("dense"))))
    with h5py.File(buf, "a") as f:
        for i, name in enumerate(names):
            f[f"/link{i}"] = h5py.ExternalLink(name, "/")
    return buf.getvalue()


def test_external_link_is_fetched_from_the_revision(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/keras-linked").commit(
        {"sub/model.h5": linking_model("weights.h5", "gone.h5"), "sub/weights.h5": h5_bytes(EVIL)},
        title="init",
    )
    scan = make_client().scan_repo("org/keras-linked")
    model = next(f for f in scan.files if f.path == "sub/model.h5")
    lam = [f for f in model.findings if f.rule == "MH301"]
    assert [f.location.member for f in lam] == ["side:weights.h5:model_config"], [f.to_dict() for f in model.findings]
    assert [f.evidence for f in model.findings if f.rule == "MH211"] == ["gone.h5"]
    assert model.verdict is Verdict.MALICIOUS
