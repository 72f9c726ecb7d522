"""Hub scans follow side files: a checkpoint index's shards and joblib's legacy array files are read
from the same revision and reported in the report of the file that names them."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from malhug.core.model import Verdict
from malhug.hub.client import HubClient
from tests.containers.helpers import npy_bytes
from tests.containers.test_sidefiles import legacy_joblib
from tests.fakehub import FakeHub
from tests.hub import payloads as P

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers


def _index(*shards: str) -> str:
    return json.dumps({"metadata": {}, "weight_map": {f"w{i}": s for i, s in enumerate(shards)}})


def test_index_names_a_poisoned_shard_and_a_missing_one(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/sharded").commit(
        {
            "config.json": '{"model_type": "bert"}',
            "pytorch_model.bin.index.json": _index("pytorch_model-1.bin", "pytorch_model-2.bin"),
            "pytorch_model-1.bin": P.torch_zip(P.evil_pickle()),
        },
        title="init",
    )
    hub.clear_log()
    scan = make_client().scan_repo("org/sharded")
    index = next(f for f in scan.files if f.path == "pytorch_model.bin.index.json")
    # The shard is planned by its name, so it is scanned once, on its own report; the index keeps the
    # reference (MH211 for the missing one) without a copy of the shard's findings.
    assert [(f.rule, f.evidence) for f in index.findings] == [("MH211", "pytorch_model-2.bin")]
    assert index.verdict is Verdict.SUSPICIOUS
    shard = next(f for f in scan.files if f.path == "pytorch_model-1.bin")
    assert any(f.rule.startswith("MH1") for f in shard.findings) and shard.verdict is Verdict.MALICIOUS
    assert scan.verdict is Verdict.MALICIOUS
    fetched = hub.requests(lambda r: r.path.endswith("/pytorch_model-1.bin") and r.status in (200, 206))
    assert len(fetched) == 1 and fetched[0].range is None  # one whole-file read, not a second one for the index


def test_a_shard_over_the_scan_cap_is_still_followed_from_its_index(
    hub: FakeHub, make_client: Callable[..., HubClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    from malhug.hub import scanner

    monkeypatch.setattr(scanner, "MAX_SCANNED_FILES", 1)  # a.index.json comes first by path: the shard is skipped
    hub.repo("org/capped").commit(
        {"a.index.json": _index("z-shard.bin"), "z-shard.bin": P.torch_zip(P.evil_pickle())}, title="init"
    )
    scan = make_client().scan_repo("org/capped")
    index = next(f for f in scan.files if f.path == "a.index.json")
    assert any((f.location.member or "").startswith("side:z-shard.bin") for f in index.findings)
    assert index.verdict is Verdict.MALICIOUS


def test_legacy_joblib_array_file_is_fetched_for_the_pickle(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    hub.repo("org/legacy").commit(
        {
            "sub/model.pkl": legacy_joblib("model.pkl_01.npy"),
            "sub/model.pkl_01.npy": npy_bytes("|O", (1,), P.evil_pickle()),
        },
        title="init",
    )
    scan = make_client().scan_repo("org/legacy")
    pkl = next(f for f in scan.files if f.path == "sub/model.pkl")
    assert any(
        (f.location.member or "").startswith("side:model.pkl_01.npy") and f.rule.startswith("MH1") for f in pkl.findings
    ), [f.to_dict() for f in pkl.findings]
    assert pkl.verdict is Verdict.MALICIOUS


def test_benign_sharded_repo_is_clean(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/fine").commit(
        {
            "pytorch_model.bin.index.json": _index("pytorch_model-1.bin"),
            "pytorch_model-1.bin": P.torch_zip(P.benign_pickle()),
        },
        title="init",
    )
    scan = make_client().scan_repo("org/fine")
    assert scan.verdict is Verdict.CLEAN, [f.to_dict() for r in scan.files for f in r.findings]
    assert "pytorch_model.bin.index.json" in {f.path for f in scan.files}
