"""The client's generated files and package.json's activation event are what ``make lists`` writes."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from malhug.core import filetypes
from malhug.server import commands, workspace


def test_generated_files_are_current(gen: ModuleType) -> None:
    stale = [str(p.relative_to(gen.ROOT)) for p in gen.stale()]
    assert stale == [], f"{', '.join(stale)} differ from what tools/gen_lists.py writes: run `make lists`"


def test_check_mode_fails_on_a_stale_target(gen: ModuleType, monkeypatch: Any, capsys: Any) -> None:
    target = gen.GENERATED / "filetypes.ts"
    real = gen.outputs

    def edited() -> dict[Any, str]:
        out = real()
        out[target] = out[target].replace("'pickle', ", "")
        return out

    monkeypatch.setattr(gen, "outputs", edited)
    assert gen.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "client-vscode/src/generated/filetypes.ts" in out and "run `make lists`" in out


def test_the_editor_activates_and_watches_on_the_servers_glob(manifest: dict[str, Any]) -> None:
    # The server registers WATCH_GLOB with the client; the extension activates on the same files.
    assert manifest["activationEvents"] == ["onLanguage:python", f"workspaceContains:{workspace.WATCH_GLOB}"]
    assert workspace.WATCH_GLOB == filetypes.watch_glob(filetypes.WATCHED_SUFFIXES)


def test_the_client_watches_what_the_server_scans_by_name(gen: ModuleType) -> None:
    text = gen.filetypes_ts()
    listed = text.split("MODEL_EXTENSIONS = [", 1)[1].split("]", 1)[0]
    assert [s.strip(" '") for s in listed.split(",")] == [s[1:] for s in workspace.MODEL_SUFFIXES]
    for missed in ("pickle", "hdf5", "pb", "dill"):  # the client's old list lacked these
        assert f"'{missed}'" in listed


def test_activation_event_is_replaced_in_place(gen: ModuleType, manifest: dict[str, Any]) -> None:
    old = ["onLanguage:python", "workspaceContains:**/*.{bin,pt}", "onStartupFinished", "workspaceContains:**/*.h5"]
    events = gen.json.loads(gen.manifest_text({**manifest, "activationEvents": old}))["activationEvents"]
    assert events == ["onLanguage:python", f"workspaceContains:{filetypes.watch_glob()}", "onStartupFinished"]
    events = gen.json.loads(gen.manifest_text({**manifest, "activationEvents": ["onLanguage:python"]}))
    assert events["activationEvents"] == ["onLanguage:python", f"workspaceContains:{filetypes.watch_glob()}"]


def test_server_commands_are_the_servers(gen: ModuleType) -> None:
    assert gen.server_commands() == [commands.SCAN_WORKSPACE, commands.CLEAR_CACHE, commands.SHOW_REPORT]
    assert "export const SERVER_COMMANDS = ['malhug.scanWorkspace', 'malhug.clearCache', 'malhug.showReport'];" in (
        gen.server_ts()
    )
