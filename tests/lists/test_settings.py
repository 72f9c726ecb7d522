"""The settings, stated in package.json (what VS Code reads), agree with the server's typed table.

``client-vscode/src/generated/settings.ts`` (the client's types, defaults, enums and ranges) is
generated from package.json (``test_generated.py`` checks it is current) and ``settings.ts`` must
return every key of it (``tsc`` in ``make client-test``). Here: package.json against
``malhug.server.settings.OPTIONS`` and the ``Settings`` defaults, key by key.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import pytest

from malhug.server.settings import OPTIONS, Option, Settings, merge
from tests.lists.conftest import ROOT

CONTRIBUTED = [key for key, option in OPTIONS.items() if option.contributed]


def default_of(attr: str) -> Any:
    """A ``Settings`` default as package.json writes it (no endpoint is "", a tuple is a list)."""
    (f,) = [f for f in dataclasses.fields(Settings) if f.name == attr]
    value = f.default
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return value.value
    return list(value) if isinstance(value, tuple) else value


def prop(manifest: dict[str, Any], key: str) -> dict[str, Any]:
    props: dict[str, dict[str, Any]] = manifest["contributes"]["configuration"]["properties"]
    assert f"malhug.{key}" in props, f"malhug.{key} is a server setting but not in client-vscode/package.json"
    return props[f"malhug.{key}"]


@pytest.mark.parametrize("key", CONTRIBUTED)
def test_package_json_states_the_servers_setting(manifest: dict[str, Any], key: str) -> None:
    option, stated = OPTIONS[key], prop(manifest, key)
    assert stated["type"] == option.type, f"malhug.{key}: type"
    assert stated["default"] == default_of(option.attr), f"malhug.{key}: default"
    assert tuple(stated.get("enum", ())) == option.choices, f"malhug.{key}: enum"
    assert stated.get("minimum") == option.minimum, f"malhug.{key}: minimum"
    assert stated.get("maximum") == option.maximum, f"malhug.{key}: maximum"
    if option.type == "array":
        assert stated["items"] == {"type": "string"}, f"malhug.{key}: items"


def test_server_only_settings_are_not_contributed(manifest: dict[str, Any]) -> None:
    props = manifest["contributes"]["configuration"]["properties"]
    server_only = [key for key, option in OPTIONS.items() if not option.contributed]
    assert server_only == ["debounceMs", "workspaceMaxFiles"]
    assert [key for key in server_only if f"malhug.{key}" in props] == []


def test_max_document_bytes_is_contributed(manifest: dict[str, Any]) -> None:
    stated = prop(manifest, "maxDocumentBytes")
    assert (stated["default"], stated["minimum"], stated["maximum"]) == (8 * 2**20, 1024, 32 * 2**20)
    assert "MH902" in stated["markdownDescription"]


@pytest.mark.parametrize("key", [k for k, o in OPTIONS.items() if o.choices or o.type == "integer"])
def test_the_parser_accepts_exactly_what_the_table_states(key: str) -> None:
    option: Option = OPTIONS[key]
    accepted: list[Any] = list(option.choices)
    refused: list[Any] = ["nope"]
    if option.type == "integer":
        assert option.minimum is not None and option.maximum is not None, f"{key}: an integer setting has a range"
        accepted, refused = [option.minimum, option.maximum], [option.minimum - 1, option.maximum + 1]
    for value in accepted:
        settings, problems = merge(Settings(), {key: value})
        assert problems == [], (key, value)
    for value in refused:
        settings, problems = merge(Settings(), {key: value})
        assert getattr(settings, option.attr) == getattr(Settings(), option.attr) and f"malhug.{key}" in problems[0]


def test_the_extensions_readme_lists_every_contributed_setting(manifest: dict[str, Any]) -> None:
    """client-vscode/README.md ships inside the .vsix and must stand alone, so it has its own table:
    it may not miss a setting the extension contributes."""
    readme = (ROOT / "client-vscode" / "README.md").read_text(encoding="utf-8")
    missing = [key for key in manifest["contributes"]["configuration"]["properties"] if f"| `{key}` |" not in readme]
    assert not missing, f"settings missing from client-vscode/README.md: {missing}"
