"""Hub layer parts on their own: settings, file selection, ranged reads, the verdict cache."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from malhug.analyzers.limits import LimitExceeded
from malhug.core.model import Category, FileReport, Location, Severity
from malhug.core.rules import finding
from malhug.hub import select
from malhug.hub.cache import VerdictCache, analyzer_version
from malhug.hub.http import HubError
from malhug.hub.rangesource import HttpRangeSource, RemoteReadError
from malhug.hub.settings import HubSettings, find_token, hub_cache_dir
from malhug.hub.types import RepoScan


def test_token_precedence(monkeypatch: pytest.MonkeyPatch, hub_env: Path) -> None:
    assert find_token() is None
    stored = hub_env / "hf-home" / "token"
    stored.parent.mkdir(parents=True)
    stored.write_text("hf_file\n")
    assert find_token() == "hf_file"
    other = hub_env / "elsewhere"
    other.write_text("hf_path")
    monkeypatch.setenv("HF_TOKEN_PATH", str(other))
    assert find_token() == "hf_path"
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    assert find_token() == "hf_env"
    s = HubSettings.resolve()
    assert s.token == "hf_env" and "hf_env" not in repr(s)
    assert HubSettings.resolve(token="hf_explicit").token == "hf_explicit"


def test_endpoint_offline_and_cache_dir_from_env(monkeypatch: pytest.MonkeyPatch, hub_env: Path) -> None:
    assert HubSettings.resolve().endpoint == "https://huggingface.co"
    assert hub_cache_dir() == hub_env / "hf-home" / "hub"
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9/")
    monkeypatch.setenv("HF_HUB_OFFLINE", "true")
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_env / "c"))
    s = HubSettings.resolve()
    assert (s.endpoint, s.offline, s.cache_dir) == ("http://127.0.0.1:9", True, hub_env / "c")
    assert HubSettings.resolve(endpoint="http://x", offline=False).offline is False
    assert HubSettings.resolve(cache_dir=str(hub_env / "d")).cache_dir == hub_env / "d"


@pytest.mark.parametrize(
    ("path", "kind", "hint"),
    [
        ("pytorch_model.bin", "weights", None),
        ("sub/model.safetensors", "weights", None),
        ("checkpoint.pth.tar", "weights", None),
        ("ViT-L-14_stats.th", "weights", None),  # torch.save'd under .th: 191fdp/test of the paper's corpus
        ("tf_model.h5", "weights", None),
        ("modeling_x.py", "code", "python"),
        ("config.json", "config", "json"),
        ("nested/tokenizer_config.json", "config", "json"),
        ("chat_template.jinja", "template", "jinja"),
    ],
)
def test_classify_risky_files(path: str, kind: str, hint: str | None) -> None:
    planned = select.classify(path)
    assert planned is not None and (planned.kind, planned.format_hint) == (kind, hint)


@pytest.mark.parametrize(
    "path", ["README.md", ".gitattributes", "data/train.parquet", "vocab.txt", "img.png", "merges.txt"]
)
def test_data_files_are_not_scanned(path: str) -> None:
    assert select.classify(path) is None


def test_loaded_code() -> None:
    config = {
        "auto_map": {"AutoConfig": "configuration_x.XConfig", "AutoModel": ["org/other--modeling_y.YModel", None]}
    }
    tok = {"auto_map": {"AutoTokenizer": ["tok.T", None]}}
    paths = ["configuration_x.py", "tok.py", "train.py", "config.json"]
    runs = select.loaded_code(paths, "model", {"config.json": config, "tokenizer_config.json": tok})
    assert sorted(runs) == ["configuration_x.py", "org/other:modeling_y.py", "tok.py"]
    assert "tokenizer_config.json" in runs["tok.py"] and "org/other" in runs["org/other:modeling_y.py"]
    assert select.loaded_code(["data.py", "lib/helpers.py"], "dataset", {}) == {
        "data.py": select.loaded_code(["data.py"], "dataset", {})["data.py"]
    }
    assert select.loaded_code(paths, "model", {}) == {}
    assert select.parse_config(b"[1]") is None and select.parse_config(b"\xff") is None


class StubHttp:
    """Serves a bytes object as if over HTTP, recording each ranged request."""

    def __init__(self, data: bytes, fail: HubError | None = None):
        self.data = data
        self.calls: list[tuple[int, int]] = []
        self.fail = fail

    def get_bytes(self, url: str, *, what: str, start: int | None = None, end: int | None = None) -> tuple[bytes, str]:
        if self.fail is not None:
            raise self.fail
        assert start is not None and end is not None
        self.calls.append((start, end))
        return self.data[start : end + 1], url + "#cdn"


def test_range_source_reads_ahead_and_counts_bytes() -> None:
    data = bytes(range(256)) * 1024  # 256 KiB
    http = StubHttp(data)
    src = HttpRangeSource(http, "u", len(data), budget=10**6, block=4096)  # type: ignore[arg-type]
    assert src.read_at(100, 10) == data[100:110]
    assert src.read_at(200, 50) == data[200:250]  # inside the first block: no request
    assert http.calls == [(100, 4195)] and src.bytes_read == 4096 and src.url == "u#cdn"
    assert src.read_at(len(data) - 5, 100) == data[-5:]
    assert http.calls[-1] == (len(data) - 5, len(data) - 1)
    assert src.read_at(len(data), 10) == b""


def test_range_source_budget_and_errors() -> None:
    data = b"x" * 10_000
    src = HttpRangeSource(StubHttp(data), "u", len(data), budget=5000, block=1000)  # type: ignore[arg-type]
    assert src.read_at(0, 4000) == data[:4000]
    with pytest.raises(LimitExceeded):
        src.read_at(5000, 2000)
    assert src.budget_hit and src.bytes_read == 4000
    failing = HttpRangeSource(StubHttp(data, HubError("gated", "gated repo")), "u", len(data), budget=5000)  # type: ignore[arg-type]
    with pytest.raises(RemoteReadError):
        failing.read_at(0, 10)
    assert (failing.error, failing.error_kind) == ("gated repo", "gated")
    short = HttpRangeSource(StubHttp(b"abc"), "u", 10, budget=100)  # type: ignore[arg-type]
    with pytest.raises(RemoteReadError):
        short.read_at(0, 10)


def _report(path: str = "w.pkl") -> FileReport:
    f = finding("MH601", "capped", location=Location(member="m", offset=3), evidence="e")
    return FileReport(path=path, format="pickle", sha256="ab", findings=[f], size=42)


def test_verdict_cache_round_trip_and_clear(tmp_path: Path) -> None:
    cache = VerdictCache(tmp_path / "v.sqlite3")
    assert cache.get_file("sha256:aa", "x") is None
    cache.put_file("sha256:aa", _report())
    hit = cache.get_file("sha256:aa", "other/path.pkl")
    assert hit is not None and hit.path == "other/path.pkl" and hit.size == 42
    assert hit.findings[0].rule == "MH601" and hit.findings[0].location.offset == 3
    assert hit.findings[0].severity is Severity.MEDIUM and hit.findings[0].category is Category.RESOURCE_ABUSE
    scan = RepoScan(
        "org/m", "model", None, "a" * 40, files=[_report()], skipped={"b": "why"}, ships_code=True, files_listed=3
    )
    cache.put_repo(scan, 100)
    got = cache.get_repo("model", "org/m", "a" * 40, 100)
    assert got is not None and got.to_dict() == scan.to_dict()
    assert cache.get_repo("model", "org/m", "a" * 40, 200) is None  # another download cap: another answer
    cache.put_ref("model", "org/m", None, "a" * 40)
    assert cache.get_ref("model", "org/m", None) == "a" * 40
    cache.clear()
    assert cache.get_file("sha256:aa", "x") is None and cache.get_repo("model", "org/m", "a" * 40, 100) is None
    assert cache.get_ref("model", "org/m", None) is None
    assert "+" in analyzer_version()


def test_verdict_cache_shared_by_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite3"

    def writer(n: int) -> None:
        cache = VerdictCache(path)  # one connection per operation, as separate processes would have
        for i in range(25):
            cache.put_file(f"git:{n}-{i}", _report(f"{n}-{i}"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader = VerdictCache(path)
    assert all(reader.get_file(f"git:{n}-{i}", "p") is not None for n in range(4) for i in range(25))


def test_broken_cache_never_fails_a_scan(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "v.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    cache = VerdictCache(path)
    assert cache.get_file("sha256:aa", "x") is None
    cache.put_file("sha256:aa", _report())
    cache.clear()
    assert "verdict cache" in caplog.text


def test_malformed_ids_from_a_hub_are_refused(tmp_path: Path) -> None:
    from malhug.hub.localcache import find_blob
    from malhug.hub.remote import _parse_file

    good = {
        "type": "file",
        "path": "w.bin",
        "size": 3,
        "oid": "a" * 40,
        "lfs": {"oid": "b" * 64, "size": 3, "pointerSize": 1},
    }
    assert _parse_file(good) is not None and _parse_file(good).content_id == "sha256:" + "b" * 64  # type: ignore[union-attr]
    for bad in (
        {**good, "oid": "../../etc/passwd"},
        {**good, "lfs": {"oid": "../../../../etc/passwd", "size": 3, "pointerSize": 1}},
        {**good, "size": -1},
    ):
        with pytest.raises(HubError):
            _parse_file(bad)
    (tmp_path / "secret").write_text("x")
    assert find_blob(tmp_path / "hub", "model", "org/m", "sha256:../../../secret") is None


@pytest.mark.parametrize("repo_id", ["org/name", "name", "Org-1/model.v2_x", "a/b"])
def test_valid_repo_ids(repo_id: str) -> None:
    from malhug.hub.client import valid_repo_id

    assert valid_repo_id(repo_id)


@pytest.mark.parametrize(
    "repo_id", ["org/..", "../x", "org/a--b", "org/.hidden", "org/a/b", "", "org/", "/name", "org name"]
)
def test_invalid_repo_ids(repo_id: str) -> None:
    from malhug.hub.client import valid_repo_id

    assert not valid_repo_id(repo_id)
