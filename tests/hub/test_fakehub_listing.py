"""The fake Hub's listing (``/api/models``, ``/api/datasets``) read by huggingface_hub's own ``HfApi``.

Shapes follow the Hub as huggingface_hub 2.4 parses them (``ModelInfo``/``DatasetInfo``, ``paginate``
following ``Link: rel="next"``); see tests/fakehub/listing.py.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime

from huggingface_hub import HfApi

from tests.fakehub import FakeHub

EXPAND = ["sha", "lastModified", "private", "gated", "disabled", "createdAt"]


def _dated(hub: FakeHub, repo_id: str, date: str, repo_type: str = "model", **settings: object) -> str:
    repo = hub.repo(repo_id, repo_type, **settings)
    sha = repo.commit({"config.json": "{}"}, title="init")
    side = repo.folder / "commits" / "0001" / ".fakehub.json"
    data = json.loads(side.read_text())
    data["date"] = date
    side.write_text(json.dumps(data))
    return sha


def test_list_models_pages_newest_first_with_expand_fields(hub: FakeHub) -> None:
    shas = {}
    for i in range(7):
        shas[f"org/m{i}"] = _dated(hub, f"org/m{i}", f"2025-01-0{i + 1}T00:00:00.000Z")
    hub.list_page_size = 3
    api = HfApi(endpoint=hub.endpoint, token=False)
    listed = list(api.list_models(sort="last_modified", expand=EXPAND))
    assert [m.id for m in listed] == [f"org/m{i}" for i in range(6, -1, -1)]
    assert {m.id: m.sha for m in listed} == shas
    first = listed[0]
    assert first.last_modified == datetime.fromisoformat("2025-01-07T00:00:00+00:00")
    assert first.private is False and first.gated is False and first.disabled is False
    pages = hub.requests(lambda r: r.path == "/api/models")
    assert len(pages) == 3  # 3 + 3 + 1, following Link headers
    assert pages[0].query["sort"] == ["lastModified"] and pages[0].query["expand"] == EXPAND
    assert "cursor" in pages[1].query and pages[1].query["expand"] == EXPAND


def test_list_models_author_search_limit_and_flags(hub: FakeHub) -> None:
    _dated(hub, "org/a-bert", "2025-02-01T00:00:00.000Z")
    _dated(hub, "org/gated", "2025-02-02T00:00:00.000Z", gated="manual", tokens=["hf_ok"])
    _dated(hub, "org/off", "2025-02-03T00:00:00.000Z", disabled=True)
    _dated(hub, "other/a-bert", "2025-02-04T00:00:00.000Z")
    _dated(hub, "org/secret", "2025-02-05T00:00:00.000Z", private=True, tokens=["hf_ok"])
    api = HfApi(endpoint=hub.endpoint, token=False)
    by_org = {m.id: m for m in api.list_models(author="org", sort="last_modified", expand=EXPAND)}
    assert list(by_org) == ["org/off", "org/gated", "org/a-bert"]  # private one hidden without a token
    assert by_org["org/gated"].gated == "manual" and by_org["org/off"].disabled is True
    with_token = [m.id for m in HfApi(endpoint=hub.endpoint, token="hf_ok").list_models(author="org")]
    assert with_token[0] == "org/secret" and len(with_token) == 4
    assert [m.id for m in api.list_models(search="bert")] == ["other/a-bert", "org/a-bert"]
    assert [m.id for m in api.list_models(limit=2)] == ["other/a-bert", "org/off"]
    assert len(hub.requests(lambda r: r.path == "/api/models" and r.query.get("limit") == ["2"])) == 1


def test_list_datasets_and_created_at_order(hub: FakeHub) -> None:
    old = hub.repo("org/old", "dataset")
    old.commit({"data.csv": "a\n"})
    _dated(hub, "org/new", "2025-03-01T00:00:00.000Z", "dataset")
    old.commit({"data.csv": "b\n"})  # default dates: 2024-01-02, older than org/new
    api = HfApi(endpoint=hub.endpoint, token=False)
    ds = list(api.list_datasets(sort="last_modified", expand=["sha", "lastModified"]))
    assert [d.id for d in ds] == ["org/new", "org/old"]
    assert ds[1].sha == old.head
    created = [d.id for d in api.list_datasets(sort="created_at", expand=["createdAt"])]
    assert created == ["org/new", "org/old"]
    assert list(api.list_models()) == []


def test_cursor_does_not_repeat_a_repo_that_moves_to_the_front(hub: FakeHub) -> None:
    for i in range(4):
        _dated(hub, f"org/m{i}", f"2025-01-0{i + 1}T00:00:00.000Z")
    hub.list_page_size = 2
    url = f"{hub.endpoint}/api/models?sort=lastModified&expand=sha"
    with urllib.request.urlopen(url) as resp:
        first = [m["id"] for m in json.loads(resp.read())]
        link = resp.headers["Link"]
    assert first == ["org/m3", "org/m2"] and link.endswith('>; rel="next"')
    _dated(hub, "org/m9", "2025-06-01T00:00:00.000Z")  # appears at the front meanwhile
    with urllib.request.urlopen(link[1 : link.index(">")]) as resp:
        second = [m["id"] for m in json.loads(resp.read())]
        assert resp.headers.get("Link") is None
    assert second == ["org/m1", "org/m0"]
