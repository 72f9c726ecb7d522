"""The fake Hub's rate limits (the Hub's ``RateLimit``/``RateLimit-Policy`` headers, 429 with
``Retry-After``, fixed windows, API and resolver calls apart) and webhooks (the Hub's payload with
``X-Webhook-Secret``), as documented by Hugging Face and parsed by huggingface_hub 2.4."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from huggingface_hub.utils import parse_ratelimit_headers

from tests.fakehub import FakeHub, HubSpec


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _get(url: str, token: str | None = None) -> tuple[int, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as resp:
            resp.read()
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        err.read()
        return err.code, dict(err.headers)


def test_api_window_headers_429_and_reset(hub: FakeHub) -> None:
    hub.repo("org/m").commit({"config.json": "{}"})
    clock = Clock()
    hub.rate_limit(api=3, resolvers=100, window=300, clock=clock)
    url = f"{hub.endpoint}/api/models/org/m"
    seen = [_get(url) for _ in range(3)]
    assert [s for s, _ in seen] == [200, 200, 200]
    info = parse_ratelimit_headers(seen[0][1])
    assert info is not None and (info.resource_type, info.remaining, info.limit, info.window_seconds) == (
        "api",
        2,
        3,
        300,
    )
    assert seen[0][1]["RateLimit"] == '"api";r=2;t=200'
    assert seen[0][1]["RateLimit-Policy"] == '"fixed window";"api";q=3;w=300'
    status, headers = _get(url)
    assert status == 429 and headers["Retry-After"] == "200" and headers["RateLimit"] == '"api";r=0;t=200'
    # file calls are a separate budget; another client (token) has its own window
    assert _get(f"{hub.endpoint}/org/m/resolve/main/config.json")[1]["RateLimit"].startswith('"resolvers";r=99;')
    assert _get(url, token="hf_other")[0] == 200
    clock.now += 200
    status, headers = _get(url)
    assert status == 200 and headers["RateLimit"] == '"api";r=2;t=300'
    assert hub.totals()["rate_limited"] == 1


def test_cdn_is_not_counted_and_limits_can_be_turned_off(hub: FakeHub) -> None:
    repo = hub.repo("org/m")
    repo.commit({"w.bin": b"x" * 100})
    hub.rate_limit(resolvers=1, clock=Clock())
    assert _get(f"{hub.endpoint}/org/m/resolve/main/w.bin")[0] == 200  # 302 to the CDN, followed
    assert _get(f"{hub.endpoint}/org/m/resolve/main/w.bin")[0] == 429
    assert "RateLimit" not in _get(f"{hub.endpoint}/api/models/org/m")[1]  # API not limited here
    hub.rate_limit()
    assert _get(f"{hub.endpoint}/org/m/resolve/main/w.bin")[0] == 200
    totals = hub.totals()
    assert totals["cdn_calls"] == 2 and totals["file_calls"] == 3 and totals["file_bytes"] == 200


class Receiver:
    """A webhook receiver on 127.0.0.1 that accepts one secret."""

    def __init__(self, secret: str):
        self.got: list[tuple[str | None, dict[str, Any]]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """quiet"""

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                given = self.headers.get("X-Webhook-Secret")
                outer.got.append((given, body))
                self.send_response(204 if given == secret else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver("s3cret")
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_webhook_payload_on_commit_with_right_and_wrong_secret(hub: FakeHub, receiver: Receiver) -> None:
    repo = hub.repo("org/m")
    first = repo.commit({"config.json": "{}"})
    hub.webhook(receiver.url, "s3cret")
    hub.webhook(receiver.url, "wrong")
    second = repo.commit({"config.json": '{"a": 1}'}, title="poison")
    (secret_a, body), (secret_b, _) = receiver.got
    assert (secret_a, secret_b) == ("s3cret", "wrong")
    assert body["event"] == {"action": "update", "scope": "repo.content"}
    assert body["repo"]["type"] == "model" and body["repo"]["name"] == "org/m" and body["repo"]["headSha"] == second
    assert body["repo"]["url"]["api"] == f"{hub.endpoint}/api/models/org/m"
    assert body["updatedRefs"] == [{"ref": "refs/heads/main", "oldSha": first, "newSha": second}]
    assert body["webhook"]["version"] == 3
    assert [d.status for d in hub.webhook_deliveries()] == [204, 401]


def test_webhooks_fire_for_generated_commits_and_survive_a_dead_receiver(tmp_path, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    with FakeHub(tmp_path / "gen", generated=HubSpec(seed=3, models=200, datasets=100, cases=False)) as hub:
        hub.webhook(receiver.url, "s3cret")
        hub.webhook("http://127.0.0.1:9/nothing-listens", "s3cret")
        done = hub.commit_share(0.01)
        assert len(done) == 3
        names = [(b["repo"]["type"], b["repo"]["name"], b["repo"]["headSha"]) for _, b in receiver.got]
        assert names == [(t, i, new) for t, i, _, new in done]
        assert [d.status for d in hub.webhook_deliveries()].count(0) == 3
