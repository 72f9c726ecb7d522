"""The server object: the injected hub-client factory, rebuilt when hub settings change; progress parsing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from malhug.server.main import create_server
from malhug.server.progress import describe
from malhug.server.settings import Settings


class FakeClient:
    def __init__(self, settings: Settings):
        self.settings = settings


def test_client_factory_is_injected_and_rebuilt_on_hub_settings() -> None:
    built: list[Settings] = []

    def factory(settings: Settings) -> Any:
        built.append(settings)
        return FakeClient(settings)

    server = create_server(client_factory=factory)
    server.settings = Settings(hub_endpoint="http://127.0.0.1:1", token="hf_x")
    first = server.client
    assert server.client is first and len(built) == 1  # memoised
    server.settings = replace(server.settings, log_level="debug")
    assert server.client is first  # not a hub setting
    server.settings = replace(server.settings, offline=True)
    second = server.client
    assert second is not first and built[-1].offline and built[-1].token == "hf_x"
    server.shutdown_pools()


def test_progress_callbacks_of_any_shape() -> None:
    assert describe("pytorch_model.bin", 2, 4) == ("pytorch_model.bin (2/4)", 50)
    assert describe("listing files") == ("listing files", None)
    assert describe(done=1, total=3, message="scan") == ("scan (1/3)", 33)
    assert describe("half", 0.5) == ("half", 50)
