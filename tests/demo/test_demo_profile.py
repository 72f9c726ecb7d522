"""``make demo`` keeps the editor profile (extensions, settings, the user's edits) between starts and
``make demo-reset`` starts over. Unit level: the profile step of ``demo/run.py`` run twice in a temp
folder, with HOME pointed there too; no code-server is started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo import editor, profile, run
from demo.run import ROOT

HUB = "http://127.0.0.1:47111"
PYTHON = "/opt/venv/bin/python"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "workspace").mkdir()
    return tmp_path


def _start(workdir: Path, endpoint: str = HUB) -> editor.CodeServer:
    return run.demo_editor(workdir, workdir / "workspace", endpoint, port=47110, interpreter=PYTHON)


def _settings(workdir: Path) -> dict[str, object]:
    loaded = json.loads((workdir / "editor" / profile.SETTINGS).read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_a_new_profile_gets_the_defaults_and_this_runs_settings(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = _start(workdir)
    settings = _settings(workdir)
    assert settings["malhug.hubEndpoint"] == HUB and settings["malhug.interpreter"] == [PYTHON]
    assert settings["malhug.logLevel"] == "debug" and settings["workbench.startupEditor"] == "none"
    assert server.base == workdir / "editor" and (server.base / "extensions").is_dir()
    assert "keeping your editor profile" not in capsys.readouterr().err
    assert not (workdir / "home").exists()  # nothing of the demo's profile goes to the user's home


def test_the_profile_survives_a_restart(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _start(workdir).base
    path = base / profile.SETTINGS
    mine = {**_settings(workdir), "malhug.logLevel": "info", "editor.fontSize": 17}
    del mine["editor.minimap.enabled"]  # a default the user removed stays removed
    path.write_text(json.dumps(mine))
    extension = base / "extensions" / "someone.other-1.0.0" / "package.json"
    extension.parent.mkdir(parents=True)
    extension.write_text("{}")
    keybindings = base / "user-data" / "User" / "keybindings.json"
    keybindings.write_text('[{"key": "ctrl+k m", "command": "malhug.scanWorkspace"}]')
    state = base / "user-data" / "User" / "globalStorage" / "malhug.malhug" / "marker"
    state.parent.mkdir(parents=True)
    state.write_text("kept")
    before = path.stat().st_mtime_ns
    capsys.readouterr()

    again = _start(workdir)

    assert again.base == base and path.stat().st_mtime_ns == before  # nothing to change: not rewritten
    assert _settings(workdir) == mine and "editor.minimap.enabled" not in mine
    assert extension.read_text() == "{}" and state.read_text() == "kept"
    assert keybindings.read_text() == '[{"key": "ctrl+k m", "command": "malhug.scanWorkspace"}]'
    err = capsys.readouterr().err
    assert f"demo: keeping your editor profile {base} (`make demo-reset` starts over)" in err


def test_a_restart_on_another_hub_port_sets_only_the_endpoint(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _start(workdir)
    path = workdir / "editor" / profile.SETTINGS
    path.write_text(json.dumps({**_settings(workdir), "editor.fontSize": 17}))
    capsys.readouterr()
    _start(workdir, "http://127.0.0.1:50000")
    settings = _settings(workdir)
    assert settings["malhug.hubEndpoint"] == "http://127.0.0.1:50000" and settings["editor.fontSize"] == 17
    assert "demo: set malhug.hubEndpoint in your editor settings for this run\n" in capsys.readouterr().err
    assert not (path.parent / profile.BEFORE).exists()


def test_settings_with_comments_are_read_and_kept_when_nothing_changes(workdir: Path) -> None:
    _start(workdir)
    path = workdir / "editor" / profile.SETTINGS
    text = (
        '{\n  // my font\n  "editor.fontSize": 17, /* big */\n'
        f'  "malhug.hubEndpoint": "{HUB}",\n  "malhug.interpreter": ["{PYTHON}"],\n'
        '  "a//b": "not /* a comment */ \\" // either",\n}\n'
    )
    path.write_text(text)
    _start(workdir)
    assert path.read_text() == text  # the endpoint and interpreter hold: the user's text is untouched
    _start(workdir, "http://127.0.0.1:50000")
    assert (path.parent / profile.BEFORE).read_text() == text
    assert _settings(workdir) == {
        "editor.fontSize": 17,
        "malhug.hubEndpoint": "http://127.0.0.1:50000",
        "malhug.interpreter": [PYTHON],
        "a//b": 'not /* a comment */ " // either',
    }


def test_unreadable_settings_are_left_alone_with_a_note(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _start(workdir)
    path = workdir / "editor" / profile.SETTINGS
    path.write_text('{"editor.fontSize": 17')  # a half-typed edit
    capsys.readouterr()
    _start(workdir)
    assert path.read_text() == '{"editor.fontSize": 17'
    err = capsys.readouterr().err
    assert f"demo: could not read your editor settings {path} (" in err
    assert (
        f'left them as they are. The demo needs malhug.interpreter = ["{PYTHON}"], malhug.hubEndpoint = "{HUB}"' in err
    )
    path.write_bytes(b'{"editor.fontSize": "\xff"}')  # not UTF-8
    _start(workdir)
    assert path.read_bytes() == b'{"editor.fontSize": "\xff"}'
    assert "codec can't decode byte 0xff" in capsys.readouterr().err


def test_reset_forgets_the_profile_and_the_next_start_makes_a_new_one(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _start(workdir).base
    (base / profile.SETTINGS).write_text(json.dumps({"editor.fontSize": 17}))
    assert run.main(["--reset", "--workdir", str(workdir)]) == 0  # `make demo-reset` (the script: test_demo_start)
    assert f"removed the demo workspace and editor profile under {workdir}" in capsys.readouterr().err
    assert not base.exists()
    _start(workdir)
    assert "editor.fontSize" not in _settings(workdir) and _settings(workdir)["malhug.logLevel"] == "debug"


def test_the_demo_no_longer_wipes_the_profile_on_start() -> None:
    source = (ROOT / "demo" / "run.py").read_text()
    assert "editor.reset(" not in source  # only tests' own sessions start from a fresh profile
    makefile = (ROOT / "Makefile").read_text()
    assert "\ndemo-reset: $(STAMP)\n\t$(VPY) demo/run.py --reset\n" in makefile


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1,}', {"a": 1}),
        ('{"a": [1, 2, ], }', {"a": [1, 2]}),
        ('// head\n{"a": "x,}"}', {"a": "x,}"}),
        ('{"a": "\\\\"} // tail', {"a": "\\"}),
        ('{"a": /* inline */ 1}', {"a": 1}),
    ],
)
def test_loads_jsonc(text: str, expected: object) -> None:
    assert profile.loads_jsonc(text) == expected


def test_loads_jsonc_refuses_what_is_not_json() -> None:
    with pytest.raises(ValueError):
        profile.loads_jsonc('{"a": 1')
