"""Every way a Hub scan can fail comes back as a clear error, never an exception."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download

from malhug.core.model import Verdict
from malhug.hub.client import HubClient
from tests.fakehub import FakeHub
from tests.hub import payloads as P

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers


def test_missing_repo(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    scan = make_client().scan_repo("org/nope")
    assert scan.verdict is Verdict.ERROR and scan.error_kind == "not-found"
    assert "org/nope" in scan.error and "HF_TOKEN" in scan.error  # might be private: say how to authenticate


def test_invalid_repo_id(make_client: Callable[..., HubClient]) -> None:
    scan = make_client().scan_repo("../../etc/passwd")
    assert scan.error_kind == "not-found" and "not a valid model id" in scan.error


def test_private_repo_needs_a_token(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/secret", private=True, tokens=["hf_ok"]).commit({"w.pkl": P.benign_pickle()})
    denied = make_client().scan_repo("org/secret")
    assert denied.error_kind == "not-found" and "HF_TOKEN" in denied.error
    wrong = make_client(token="hf_wrong").scan_repo("org/secret")
    assert wrong.error_kind == "not-found" and "token" in wrong.error
    ok = make_client(token="hf_ok").scan_repo("org/secret")
    assert ok.error is None and ok.verdict is Verdict.CLEAN


def test_gated_repo_401_without_token_and_403_without_access(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    hub.repo("org/gated", gated="manual", tokens=["hf_ok"]).commit({"pytorch_model.bin": P.torch_zip(P.evil_pickle())})
    anonymous = make_client().scan_repo("org/gated")
    assert anonymous.error_kind == "gated" and anonymous.verdict is Verdict.ERROR
    assert "gated" in anonymous.error and "HF_TOKEN" in anonymous.error
    assert any(r.status == 401 for r in hub.requests())
    hub.clear_log()
    no_access = make_client(token="hf_other").scan_repo("org/gated")
    assert no_access.error_kind == "gated" and "not been granted access" in no_access.error
    assert any(r.status == 403 for r in hub.requests())
    granted = make_client(token="hf_ok").scan_repo("org/gated")
    assert granted.error is None and granted.verdict is Verdict.MALICIOUS


def test_revision_not_found(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/model").commit({"w.pkl": P.benign_pickle()})
    scan = make_client().scan_repo("org/model", revision="v9")
    assert scan.error_kind == "revision-not-found" and "v9" in scan.error


def test_rate_limit_retried_then_success(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/model").commit({"w.pkl": P.benign_pickle()})
    hub.fail_next(2, status=429, retry_after=0, match="/api/models/org/model")
    scan = make_client().scan_repo("org/model")
    assert scan.error is None and scan.verdict is Verdict.CLEAN
    assert [r.status for r in hub.requests()][:3] == [429, 429, 200]


def test_rate_limit_waits_as_retry_after_says(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/model").commit({"w.pkl": P.benign_pickle()})
    hub.fail_next(1, status=429, retry_after=1, match="/tree/")
    started = time.monotonic()
    scan = make_client().scan_repo("org/model")
    assert scan.error is None and 1.0 <= time.monotonic() - started < 5
    tree = hub.requests(lambda r: "/tree/" in r.path)
    assert [r.status for r in tree] == [429, 200] and tree[1].started - tree[0].started >= 1.0


def test_rate_limit_exhausted(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/model").commit({"w.pkl": P.benign_pickle()})
    hub.fail_next(50, status=429, retry_after=0, match="/api/")
    scan = make_client().scan_repo("org/model")
    assert scan.error_kind == "rate-limited" and "429" in scan.error
    assert len(hub.requests()) == 4  # the first try and three retries: bounded


def test_rate_limit_with_a_long_retry_after_gives_up_at_once(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    hub.repo("org/model").commit({"w.pkl": P.benign_pickle()})
    hub.fail_next(1, status=429, retry_after=3600, match="/api/")
    started = time.monotonic()
    scan = make_client().scan_repo("org/model")
    assert time.monotonic() - started < 5
    assert scan.error_kind == "rate-limited" and "3600" in scan.error


def test_timeout(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/model").commit({"w.pkl": P.benign_pickle()})
    hub.slow_down(3.0, match="/tree/")
    started = time.monotonic()
    scan = make_client(timeout=0.5).scan_repo("org/model")
    assert time.monotonic() - started < 2.5
    assert scan.error_kind == "timeout" and "0.5s" in scan.error


def test_file_read_timeout_is_a_file_error(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/model").commit({"w.pkl": P.benign_pickle(), "ok.pkl": P.benign_pickle() + b" "})
    hub.slow_down(3.0, match="w.pkl")
    scan = make_client(timeout=0.5).scan_repo("org/model")
    [slow] = [f for f in scan.files if f.path == "w.pkl"]
    assert slow.error is not None and "0.5s" in slow.error and slow.verdict is Verdict.ERROR
    assert scan.verdict is Verdict.ERROR
    [ok] = [f for f in scan.files if f.path == "ok.pkl"]
    assert ok.error is None


@pytest.fixture()
def closing_server() -> Iterator[str]:
    """A live server that drops every connection without answering (the network is down)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join()
    sock.close()


def test_network_down(closing_server: str, make_client: Callable[..., HubClient]) -> None:
    started = time.monotonic()
    scan = make_client(endpoint=closing_server).scan_repo("org/model")
    assert time.monotonic() - started < 3
    assert scan.error_kind == "network" and closing_server in scan.error


def test_offline_with_nothing_cached(make_client: Callable[..., HubClient], hf_cache: Path) -> None:
    scan = make_client(offline=True).scan_repo("org/model")
    assert scan.error_kind == "offline" and str(hf_cache) in scan.error


def test_offline_env_var_read_at_call_time(
    monkeypatch: pytest.MonkeyPatch, hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    hub.repo("org/model").commit({"w.pkl": P.benign_pickle()})
    client = make_client()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert client.scan_repo("org/model").error_kind == "offline"
    assert hub.requests() == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert client.scan_repo("org/model").error is None


def _download_all(hub: FakeHub, repo_id: str, files: list[str], cache: Path, revision: str | None = None) -> None:
    for name in files:
        hf_hub_download(repo_id, name, revision=revision, endpoint=hub.endpoint, cache_dir=cache, token=False)


def test_offline_scan_of_a_cached_snapshot(hub: FakeHub, make_client: Callable[..., HubClient], hf_cache: Path) -> None:
    repo = hub.repo("org/model")
    old = repo.commit({"config.json": "{}", "pytorch_model.bin": P.torch_zip(P.benign_pickle())})
    head = repo.commit({"pytorch_model.bin": P.torch_zip(P.evil_pickle())})
    _download_all(hub, "org/model", ["config.json", "pytorch_model.bin"], hf_cache)
    _download_all(hub, "org/model", ["pytorch_model.bin"], hf_cache, revision=old)
    hub.clear_log()
    client = make_client(offline=True, verdict_cache=None)
    scan = client.scan_repo("org/model")
    assert hub.requests() == []
    assert scan.error is None and scan.offline is True and scan.commit_sha == head
    assert scan.verdict is Verdict.MALICIOUS
    assert {f.path for f in scan.files} == {"config.json", "pytorch_model.bin"}
    pinned = client.scan_repo("org/model", revision=old)
    assert pinned.commit_sha == old and pinned.verdict is Verdict.CLEAN
    assert client.scan_repo("org/model", revision="v2").error_kind == "offline"


def test_online_scan_reads_cached_blobs_from_disk(
    hub: FakeHub, make_client: Callable[..., HubClient], hf_cache: Path
) -> None:
    hub.repo("org/model").commit({"pytorch_model.bin": P.torch_zip(P.evil_pickle())})
    _download_all(hub, "org/model", ["pytorch_model.bin"], hf_cache)
    hub.clear_log()
    scan = make_client(verdict_cache=None).scan_repo("org/model")
    assert scan.verdict is Verdict.MALICIOUS and scan.offline is False
    assert hub.bytes_served(file_only=True) == 0 and scan.bytes_read == 0


def test_unreachable_hub_falls_back_to_the_local_cache(
    hub: FakeHub, closing_server: str, make_client: Callable[..., HubClient], hf_cache: Path
) -> None:
    hub.repo("org/model").commit({"w.pkl": P.evil_pickle()})
    _download_all(hub, "org/model", ["w.pkl"], hf_cache)
    scan = make_client(endpoint=closing_server).scan_repo("org/model")
    assert scan.error is None and scan.offline is True and scan.verdict is Verdict.MALICIOUS


def test_unreachable_hub_falls_back_to_a_remembered_verdict(
    hub: FakeHub, closing_server: str, make_client: Callable[..., HubClient]
) -> None:
    sha = hub.repo("org/model").commit({"w.pkl": P.evil_pickle()})
    make_client().scan_repo("org/model")
    scan = make_client(endpoint=closing_server).scan_repo("org/model")
    assert scan.error is None and scan.offline and scan.from_cache and scan.commit_sha == sha
    assert scan.verdict is Verdict.MALICIOUS


def test_cached_scan_uses_no_network(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    repo = hub.repo("org/model")
    sha = repo.commit({"w.pkl": P.evil_pickle()})
    client = make_client()
    assert client.cached_scan("org/model") is None
    client.scan_repo("org/model")
    hub.clear_log()
    cached = client.cached_scan("org/model")
    assert cached is not None and cached.from_cache and cached.commit_sha == sha and cached.verdict is Verdict.MALICIOUS
    assert client.cached_scan("org/model", revision=sha) is not None
    assert hub.requests() == []


def test_token_from_env_is_sent_to_the_hub_only_and_never_logged(
    hub: FakeHub,
    make_client: Callable[..., HubClient],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "hf_SeCrEt0123456789tokenvalue"
    hub.repo("org/gated", gated="auto", tokens=[secret]).commit({"pytorch_model.bin": P.torch_zip(P.benign_pickle())})
    monkeypatch.setenv("HF_TOKEN", secret)
    caplog.set_level(logging.DEBUG)
    client = make_client()
    scan = client.scan_repo("org/gated")
    assert scan.error is None
    hub_requests = hub.requests(lambda r: r.server == "hub")
    assert hub_requests and all(r.authorization == f"Bearer {secret}" for r in hub_requests)
    assert all(r.authorization is None for r in hub.requests(lambda r: r.server == "cdn"))
    denied = client.scan_repo("org/nope")
    assert denied.error is not None and secret not in denied.error
    assert secret not in caplog.text and secret not in repr(client.settings()) and secret not in repr(client)


def test_stored_token_file_is_used(hub: FakeHub, make_client: Callable[..., HubClient], hub_env: Path) -> None:
    token_file = hub_env / "hf-home" / "token"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text("hf_stored\n")
    hub.repo("org/secret", private=True, tokens=["hf_stored"]).commit({"w.pkl": P.benign_pickle()})
    assert make_client().scan_repo("org/secret").error is None


def test_offline_answers_from_a_verdict_remembered_online(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    sha = hub.repo("org/model").commit({"w.pkl": P.evil_pickle()})
    make_client().scan_repo("org/model")
    hub.clear_log()
    scan = make_client(offline=True).scan_repo("org/model")
    assert hub.requests() == []
    assert scan.error is None and scan.offline and scan.from_cache and scan.commit_sha == sha
    assert scan.verdict is Verdict.MALICIOUS
    assert make_client(offline=True).scan_repo("org/model", revision="dev").error_kind == "offline"
