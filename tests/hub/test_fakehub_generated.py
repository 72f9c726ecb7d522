"""The generated fake hub (tests/fakehub/generated.py): deterministic repos computed on demand, the
100 real-world cases of the MalHug paper (ASE 2024) placed among them, flags, forks, new commits."""

from __future__ import annotations

import hashlib
import re
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

from tests.fakehub import FakeHub, HubSpec
from tests.fakehub.generated import TOKEN, GeneratedBackend

SPEC = HubSpec(seed=7, models=400, datasets=60)


@pytest.fixture()
def gen(tmp_path) -> Iterator[FakeHub]:  # type: ignore[no-untyped-def]
    with FakeHub(tmp_path / "gen", generated=SPEC) as hub:
        yield hub


def _first(backend: GeneratedBackend, repo_type: str, **want: str) -> int:
    for i in range(backend.count(repo_type)):
        plan = backend.plan(repo_type, i)
        if all(getattr(plan, k) == v for k, v in want.items()):
            return i
    raise AssertionError(f"no {repo_type} with {want}")


def test_listing_walks_the_whole_generated_hub_newest_first(gen: FakeHub) -> None:
    assert gen.generated is not None
    gen.list_page_size = 100
    api = HfApi(endpoint=gen.endpoint, token=False)
    listed = list(api.list_models(sort="last_modified", expand=["sha", "lastModified", "private", "gated"]))
    private = {
        gen.generated.repo_id("model", i) for i in range(400) if gen.generated.plan("model", i).flag == "private"
    }
    assert private and not private & {m.id for m in listed}
    assert len(listed) == 400 - len(private)
    dates = [m.last_modified for m in listed]
    assert dates == sorted(dates, reverse=True)
    assert listed[-1].id == "gen-org000/model-000000"
    assert len(gen.requests(lambda r: r.path == "/api/models")) == 4
    assert len(list(HfApi(endpoint=gen.endpoint, token=TOKEN).list_models())) == 400
    datasets = list(api.list_datasets(expand=["sha"]))
    assert {d.id for d in datasets} >= {"guaixiaomei/teyd", "paclove/test"}


def test_same_seed_same_hub_other_seed_other_hub() -> None:
    a, b, c = (GeneratedBackend(HubSpec(seed=s, models=300, datasets=20)) for s in (1, 1, 2))
    take = lambda g: [(s.repo_id, s.sha) for s in g.summaries("model", "last_modified")]  # noqa: E731
    assert take(a) == take(b) and take(a) != take(c)
    i = _first(a, "model", kind="torch", flag="")
    ra, rb = (g.open("model", g.repo_id("model", i)) for g in (a, b))
    assert [(e.path, e.lfs_oid) for e in ra.entries(ra.commits[-1])] == [
        (e.path, e.lfs_oid) for e in rb.entries(rb.commits[-1])
    ]


def test_sparse_torch_checkpoint_serves_ranges(gen: FakeHub) -> None:
    assert gen.generated is not None
    i = _first(gen.generated, "model", kind="torch", flag="")
    repo_id = gen.generated.repo_id("model", i)
    files = {f.path: f for f in HfApi(endpoint=gen.endpoint, token=False).list_repo_tree(repo_id, expand=True)}
    weights = files["pytorch_model.bin"]
    assert weights.lfs is not None and weights.size >= 96 << 20
    url = f"{gen.endpoint}/{repo_id}/resolve/main/pytorch_model.bin"
    request = urllib.request.Request(url, headers={"Range": "bytes=-22"})
    with urllib.request.urlopen(request) as resp:
        tail = resp.read()
    assert resp.status == 206 and tail[:4] == b"PK\x05\x06"
    request = urllib.request.Request(url, headers={"Range": "bytes=0-63"})
    with urllib.request.urlopen(request) as resp:
        head = resp.read()
    assert head[:4] == b"PK\x03\x04" and re.search(rb"model_%d\d{3}/data\.pkl" % i, head)
    assert gen.bytes_served(file_only=True) == 22 + 64


def test_cases_are_served_under_their_real_ids(gen: FakeHub, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.corpus.expected import ROWS
    from tests.scripts.corpus_scripts import CORPUS_SCRIPTS

    assert gen.generated is not None
    cases = {(c.repo_type, c.repo_id): c for c in gen.generated.cases}
    assert len(cases) == 100
    assert {r.repo for r in ROWS} <= {repo_id for t, repo_id in cases if t == "model"}
    got = hf_hub_download("Shayo/pickle_test", "pickle_test.pt", endpoint=gen.endpoint, cache_dir=tmp_path, token=False)
    data = open(got, "rb").read()
    assert b"cat /etc/passwd" in data  # the defanged payload of the real row
    tree = {f.path: f for f in HfApi(endpoint=gen.endpoint, token=False).list_repo_tree("Shayo/pickle_test")}
    assert (
        tree["pickle_test.pt"].lfs is not None and tree["pickle_test.pt"].lfs.sha256 == hashlib.sha256(data).hexdigest()
    )
    assert cases[("model", "Shayo/pickle_test")].files == (("pickle_test.pt", "credential-theft"),)
    script = hf_hub_download(
        "paclove/test2", "test2.py", repo_type="dataset", endpoint=gen.endpoint, cache_dir=tmp_path, token=False
    )
    assert open(script).read() == CORPUS_SCRIPTS["paclove/test2"]
    assert cases[("dataset", "paclove/test2")].files == (("test2.py", "exfiltration"),)


def test_gated_disabled_vanished_and_forks(gen: FakeHub, tmp_path) -> None:  # type: ignore[no-untyped-def]
    g = gen.generated
    assert g is not None
    api = HfApi(endpoint=gen.endpoint, token=False)
    gated = g.repo_id("model", _first(g, "model", flag="gated"))
    with pytest.raises(GatedRepoError):
        hf_hub_download(gated, "config.json", endpoint=gen.endpoint, cache_dir=tmp_path, token=False)
    assert hf_hub_download(gated, "config.json", endpoint=gen.endpoint, cache_dir=tmp_path, token=TOKEN)
    vanished = g.repo_id("model", _first(g, "model", flag="vanished"))
    assert vanished in {m.id for m in api.list_models()}
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(vanished)
    disabled = g.repo_id("model", _first(g, "model", flag="disabled"))
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{gen.endpoint}/api/models/{disabled}")
    assert err.value.code == 403
    forks = [g.plan("model", i) for i in range(400) if g.plan("model", i).weights_of != i]
    fork = next(
        p for p in forks if p.kind in ("torch", "safetensors") and not p.flag + g.plan("model", p.weights_of).flag
    )
    parent = g.plan("model", fork.weights_of)
    first = api.list_repo_commits(parent.repo_id)[-1].commit_id
    oid = lambda p, rev=None: {e.path: e.lfs.sha256 for e in api.list_repo_tree(p.repo_id, revision=rev) if e.lfs}  # noqa: E731
    assert fork.repo_id != parent.repo_id
    shared = oid(fork)
    assert shared and shared.items() <= oid(parent, first).items()


def test_commit_share_moves_one_percent_to_the_front(gen: FakeHub) -> None:
    api = HfApi(endpoint=gen.endpoint, token=TOKEN)
    before = {m.id: m.sha for m in api.list_models(expand=["sha"])}
    done = gen.commit_share(0.01, seed=3)
    changed = [d for d in done if d[0] == "model"]
    assert len(changed) == 4 and len([d for d in done if d[0] == "dataset"]) == 1
    after = list(api.list_models(sort="last_modified", expand=["sha", "lastModified"]))
    front = after[: len(changed)]
    assert {m.id for m in front} == {d[1] for d in changed}
    assert all(m.sha == d[3] != before[m.id] for d in changed for m in front if m.id == d[1])
    assert {m.id: m.sha for m in after[len(changed) :]} == {
        k: v for k, v in before.items() if k not in {d[1] for d in changed}
    }
    info = api.model_info(changed[0][1], files_metadata=True)
    assert info.sha == changed[0][3] and len(api.list_repo_commits(changed[0][1])) >= 2


def test_backend_memory_is_flat_in_the_number_of_repos() -> None:
    def peak(models: int) -> int:
        tracemalloc.start()
        backend = GeneratedBackend(HubSpec(seed=1, models=models, datasets=10, cases=False))
        walked = sum(1 for _ in backend.summaries("model", "last_modified"))
        backend.commit_share(0.001)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert walked == models
        return top

    small, large = peak(300), peak(15_000)
    assert large < small + 256 * 1024, (small, large)  # 50x the repos, not 50x the memory
