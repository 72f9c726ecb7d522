"""``make demo``: the whole product, offline, from a fresh clone.

Builds the demo Hub content and workspace (``demo/hubcontent.py``), serves them with the fake Hub on
127.0.0.1, sets up the editor tooling (``tools/setup-editor.sh``), installs the MalHug ``.vsix``
into a code-server of its own opened on the demo workspace, prints the URL and runs until Ctrl-C.

    demo/run.py              the editor demo (falls back to --text when code-server cannot start)
    demo/run.py --text       the same findings through ``malhug scan`` on the terminal
    demo/run.py --hub-only   only the demo Hub, with the ``HF_ENDPOINT=… .venv/bin/malhug scan`` lines
    demo/run.py --reset      forget the demo workspace (and its edits) and the editor profile
    demo/run.py --json       for tests: no set-up step, one JSON line when ready, runs until SIGTERM

The editor and the Hub listen on fixed ports (``demo.start``), so an open tab survives a restart; the
workspace is copied once and then kept with the user's edits, and so is the editor profile (its
extensions, settings and state: ``demo.profile``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python demo/run.py` puts demo/, not the checkout, on the path

from demo import editor, start  # noqa: E402
from demo.hubcontent import Manifest, build  # noqa: E402
from tests.fakehub import FakeHub  # noqa: E402
from tests.fakehub.signals import wait_for_signal  # noqa: E402

PYTHON = Path(sys.executable)


def _say(msg: str) -> None:
    print(f"demo: {msg}", file=sys.stderr, flush=True)


def hub_references(m: Manifest) -> list[str]:
    return [
        f"hf:{m.clean}",
        f"hf:{m.pinnable}",
        f"hf:{m.pinnable}@{m.pinnable_clean_sha}",
        f"hf:{m.reverse_shell}",
        f"hf:{m.remote_code}",
        f"hf:datasets/{m.dataset}",
    ]


def text_demo(manifest: Manifest, endpoint: str) -> int:
    """Prints the findings of every demo reference and the workspace through the CLI."""
    env = {**os.environ, "HF_ENDPOINT": endpoint, "MALHUG_CACHE_DIR": str(Path(manifest.hub_root).parent / "cache")}
    targets = [*hub_references(manifest), manifest.workspace]
    _say(f"malhug scan --show-clean {' '.join(targets)}")
    done = subprocess.run(
        [str(PYTHON), "-m", "malhug", "scan", "--show-clean", "--endpoint", endpoint, *targets],
        env=env,
        check=False,
    )
    # 1 means "found something", which is the point of the demo; 2 means it could not scan.
    return 0 if done.returncode in (0, 1) else done.returncode


def set_up_editor() -> None:
    """The same set-up as the tests: editor tooling and the .vsix (idempotent, quick when done).
    Says first when it will run apt-get, and why."""
    notice = start.apt_notice(start.apt_packages(ROOT / "tools" / "setup-editor.sh"))
    if notice:
        _say(notice)
    for cmd in (["bash", str(ROOT / "tools" / "setup-editor.sh"), "all"], ["make", "-s", "-C", str(ROOT), "vsix"]):
        if subprocess.run(cmd, check=False).returncode != 0:
            raise editor.EditorError(f"set-up step failed: {' '.join(cmd)}")


def editor_settings(endpoint: str, interpreter: str) -> dict[str, object]:
    """What every start sets in the editor profile: this run's Hub and the Python that runs ``malhug lsp``."""
    return {"malhug.interpreter": [interpreter], "malhug.hubEndpoint": endpoint}


# Written once, when the profile is new; the user may change them afterwards.
EDITOR_DEFAULTS: dict[str, object] = {"malhug.logLevel": "debug"}


def demo_editor(workdir: Path, workspace: Path, endpoint: str, *, port: int, interpreter: str) -> editor.CodeServer:
    """The demo's code-server on the profile under ``workdir/editor``: made on the first start, then kept
    (extensions, settings, the user's edits) until ``make demo-reset``."""
    server = editor.CodeServer(
        workdir / "editor", workspace, editor_settings(endpoint, interpreter), port=port, defaults=EDITOR_DEFAULTS
    )
    made = server.prepare_profile()
    if not made.created:
        _say(f"keeping your editor profile {server.base} (`make demo-reset` starts over)")
    if made.note:
        _say(made.note)
    return server


def wait_for_stop() -> None:
    """Until Ctrl-C or SIGTERM."""
    wait_for_signal()
    _say("stopping")


def hub_only(manifest: Manifest, endpoint: str) -> int:
    """Serves the demo Hub alone and prints how to scan its repositories from a terminal."""
    lines = "\n".join(f"  {line}" for line in start.hub_commands(hub_references(manifest), endpoint))
    print(
        f"\nThe demo Hub is running on {endpoint}. Scan its repositories with the CLI:\n\n{lines}\n\n"
        "  (`.venv/bin/malhug` is the command `make demo` installed; `. .venv/bin/activate` puts it on PATH.)\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )
    wait_for_stop()
    return 0


def reset(workdir: Path) -> int:
    """``make demo-reset``: the next demo copies the workspace afresh and makes a new editor profile (the
    user's edits, settings and extensions are gone)."""
    for name in ("workspace", "editor"):
        shutil.rmtree(workdir / name, ignore_errors=True)
    _say(f"removed the demo workspace and editor profile under {workdir}; the next `make demo` starts afresh")
    return 0


def _port(asked: int, what: str) -> int:
    chosen = start.choose_port(asked, what)
    if chosen.note:
        _say(chosen.note)
    return chosen.number


def editor_demo(manifest: Manifest, endpoint: str, workdir: Path, *, port: int, as_json: bool, interpreter: str) -> int:
    port = _port(port, "editor")
    server = demo_editor(workdir, Path(manifest.workspace), endpoint, port=port, interpreter=interpreter)
    server.install_extension(editor.VSIX)
    with server:
        if as_json:
            info = {
                "url": server.url,
                "endpoint": endpoint,
                "editor": str(server.base),
                "pgid": server.pgid,
                "manifest": json.loads(manifest.to_json()),
            }
            print(json.dumps(info), flush=True)
        else:
            print(
                f"\nMalHug demo is running.\n\n  Open {server.url}\n\n"
                f"  Fake Hub: {endpoint}\n  Workspace: {manifest.workspace}\n"
                "  Open load_models.py, load_data.py or train.py; hover the underlined ids; try the quick fixes.\n"
                "  Press Ctrl-C to stop.\n",
                flush=True,
            )
        wait_for_stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo/run.py", description="The MalHug demo, offline.")
    parser.add_argument("--text", action="store_true", help="print the findings with `malhug scan` instead")
    parser.add_argument("--json", action="store_true", help="no set-up; print one JSON line when ready (tests)")
    parser.add_argument(
        "--workdir", type=Path, help="where to build (default: .cache/demo, or a temp folder with --text)"
    )
    parser.add_argument("--hub-only", action="store_true", help="serve only the demo Hub, for the CLI")
    parser.add_argument("--reset", action="store_true", help="forget the demo workspace and editor profile, then exit")
    parser.add_argument(
        "--port", type=int, help=f"code-server port (default: {start.EDITOR_PORT}; with --json a free one)"
    )
    parser.add_argument(
        "--hub-port", type=int, help=f"demo Hub port (default: {start.HUB_PORT}; with --json or --text a free one)"
    )
    parser.add_argument(
        "--interpreter", default=str(PYTHON), help="Python that runs `malhug lsp` in the editor (default: this one)"
    )
    args = parser.parse_args(argv)

    tmp = None
    if args.workdir is None and args.text:
        tmp = tempfile.TemporaryDirectory(prefix="malhug-demo-")
        workdir = Path(tmp.name)
    else:
        workdir = (args.workdir or ROOT / ".cache" / "demo").resolve()
    if args.reset:
        return reset(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    kept = (workdir / "workspace").is_dir()
    _say(f"building the demo hub in {workdir}")
    manifest = build(workdir)
    if kept:
        _say(f"keeping your demo workspace {manifest.workspace} (`make demo-reset` starts over)")
    stable = not (args.json or args.text)
    hub_port = _port(args.hub_port if args.hub_port is not None else (start.HUB_PORT if stable else 0), "demo Hub")
    editor_port = args.port if args.port is not None else (start.EDITOR_PORT if stable else 0)
    try:
        with FakeHub(manifest.hub_root, port=hub_port) as hub:
            _say(f"fake Hub on {hub.endpoint}")
            if args.text:
                return text_demo(manifest, hub.endpoint)
            if args.hub_only:
                return hub_only(manifest, hub.endpoint)
            try:
                if not args.json:
                    set_up_editor()
                return editor_demo(
                    manifest, hub.endpoint, workdir, port=editor_port, as_json=args.json, interpreter=args.interpreter
                )
            except editor.EditorError as exc:
                if args.json:
                    raise
                _say(f"the editor could not start ({exc}); showing the findings in text mode instead")
                return text_demo(manifest, hub.endpoint)
    finally:
        if tmp is not None:
            tmp.cleanup()
        elif args.workdir is None:
            shutil.rmtree(workdir / "editor" / "xdg-cache", ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
