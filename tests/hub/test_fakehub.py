"""The fake Hub speaks what huggingface_hub 2.4 expects (others build on it: keep these green)."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError
from huggingface_hub.hf_api import RepoFile, RepoFolder

from tests.fakehub import FakeHub, SparseFile

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers


@pytest.fixture()
def hub(tmp_path: Path):
    with FakeHub(tmp_path / "hub") as h:
        yield h


def test_tree_info_refs_commits_and_download(hub: FakeHub, tmp_path: Path) -> None:
    repo = hub.repo("org/model")
    c1 = repo.commit({"config.json": '{"a": 1}', "sub/w.bin": b"\x80\x02N."}, title="init")
    c2 = repo.commit({"README.md": "hi"}, title="readme", security={"sub/w.bin": {"status": "unsafe"}})
    repo.tag("v1", c1)
    api = HfApi(endpoint=hub.endpoint, token=False)
    tree = list(api.list_repo_tree("org/model", recursive=True, expand=True))
    files = {t.path: t for t in tree if isinstance(t, RepoFile)}
    assert set(files) == {"README.md", "config.json", "sub/w.bin"}
    assert [t.path for t in tree if isinstance(t, RepoFolder)] == ["sub"]
    assert files["sub/w.bin"].lfs is not None and files["sub/w.bin"].lfs.size == 4
    assert files["sub/w.bin"].security is not None and files["sub/w.bin"].security.status == "unsafe"
    assert files["config.json"].lfs is None and files["config.json"].last_commit.oid == c2
    info = api.model_info("org/model", securityStatus=True)
    assert info.sha == c2
    assert info.security_repo_status["filesWithIssues"] == [{"path": "sub/w.bin", "level": "unsafe"}]
    assert api.model_info("org/model", revision="v1").sha == c1
    refs = api.list_repo_refs("org/model")
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1", c1)]
    assert [c.commit_id for c in api.list_repo_commits("org/model")] == [c2, c1]
    paths = api.get_paths_info("org/model", ["config.json", "nope", "sub"], expand=True, revision=c1)
    assert [p.path for p in paths] == ["config.json", "sub"]
    hub.clear_log()
    local = hf_hub_download(
        "org/model", "sub/w.bin", revision=c1, endpoint=hub.endpoint, cache_dir=tmp_path / "c", token=False
    )
    assert Path(local).read_bytes() == b"\x80\x02N."
    assert any(r.server == "cdn" and r.body_bytes == 4 for r in hub.requests())
    assert hub.bytes_served(file_only=True) == 4


def test_errors_map_to_huggingface_hub_exceptions(hub: FakeHub, tmp_path: Path) -> None:
    hub.repo("org/gated", gated="manual", tokens=["hf_good"]).commit({"w.bin": b"x"})
    hub.repo("org/private", private=True, tokens=["hf_good"]).commit({"a.txt": b"x"})
    api = HfApi(endpoint=hub.endpoint, token=False)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("org/missing")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("org/private")
    assert HfApi(endpoint=hub.endpoint, token="hf_good").model_info("org/private").id == "org/private"
    with pytest.raises(RevisionNotFoundError):
        api.model_info("org/gated", revision="nope")
    with pytest.raises(GatedRepoError):
        hf_hub_download("org/gated", "w.bin", endpoint=hub.endpoint, cache_dir=tmp_path / "c", token=False)
    got = hf_hub_download("org/gated", "w.bin", endpoint=hub.endpoint, cache_dir=tmp_path / "c", token="hf_good")
    assert Path(got).read_bytes() == b"x"
    assert any(r.authorization == "Bearer hf_good" for r in hub.requests(lambda r: r.server == "hub"))
    assert all(r.authorization is None for r in hub.requests(lambda r: r.server == "cdn"))


def test_sparse_file_range_reads_and_faults(hub: FakeHub) -> None:
    import httpx2

    size = 4 * 2**30
    repo = hub.repo("org/big")
    repo.commit({"model.bin": SparseFile(size, ((0, b"HEAD"), (-4, b"TAIL")))})
    url = f"{hub.endpoint}/org/big/resolve/main/model.bin"
    with httpx2.Client(follow_redirects=True) as client:
        head = client.head(url, follow_redirects=False)
        assert head.status_code == 302 and head.headers["X-Linked-Size"] == str(size)
        r = client.get(url, headers={"Range": "bytes=-4"})
        assert r.status_code == 206 and r.content == b"TAIL"
        assert r.headers["Content-Range"] == f"bytes {size - 4}-{size - 1}/{size}"
        hub.fail_next(2, retry_after=3, match="/api/")
        assert client.get(f"{hub.endpoint}/api/models/org/big").status_code == 429
        r = client.get(f"{hub.endpoint}/api/models/org/big")
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
        assert client.get(f"{hub.endpoint}/api/models/org/big").status_code == 200
    assert hub.bytes_served(file_only=True) == 4
