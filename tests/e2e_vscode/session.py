"""A code-server session for the real-editor tests that the demo does not give: workspace trust on with
the folder NOT trusted (Restricted Mode), workspace-level settings, a fresh profile whose interpreter has
no MalHug. Same content as the demo (``demo.hubcontent``), same fake Hub, same JSON line when ready.

    python tests/e2e_vscode/session.py --workdir DIR [--untrusted] [--interpreter PY]
        [--workspace-setting KEY=JSON ...] [--second-folder]

``--second-folder`` opens a multi-root workspace (a ``.code-workspace`` file): the demo workspace and a
second folder with one more poisoned pickle (``weights/extra.pkl``).

Runs until SIGTERM (code-server's process group is killed with it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from demo import editor  # noqa: E402
from demo.hubcontent import build  # noqa: E402
from tests.builders.pickles import call, pickle_of  # noqa: E402
from tests.fakehub import FakeHub  # noqa: E402
from tests.fakehub.signals import wait_for_signal  # noqa: E402

SECOND_COMMAND = "echo malhug-e2e: second folder"  # defanged, never run: the pickle is only scanned
# Trust on, and no start-up prompt: the folder opens in Restricted Mode, as for a user who has not trusted it.
UNTRUSTED = {"security.workspace.trust.enabled": True, "security.workspace.trust.startupPrompt": "never"}


class SessionServer(editor.CodeServer):
    """The demo's code-server, optionally without ``--disable-workspace-trust``, or on a workspace file."""

    def __init__(self, *args: object, untrusted: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.untrusted = untrusted

    @property
    def url(self) -> str:
        if self.workspace.suffix == ".code-workspace":
            return f"http://127.0.0.1:{self.port}/?workspace={self.workspace}"
        return super().url

    def trust_flags(self) -> list[str]:
        return [] if self.untrusted else super().trust_flags()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="session.py")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--untrusted", action="store_true", help="workspace trust on, the folder not trusted")
    parser.add_argument("--interpreter", default=sys.executable, help="user-level malhug.interpreter")
    parser.add_argument("--workspace-setting", action="append", default=[], metavar="KEY=JSON")
    parser.add_argument("--second-folder", action="store_true", help="a multi-root workspace of two folders")
    args = parser.parse_args(argv)

    manifest = build(args.workdir.resolve())
    workspace = Path(manifest.workspace)
    if args.workspace_setting:
        folder = workspace / ".vscode"
        folder.mkdir(exist_ok=True)
        values = {k: json.loads(v) for k, _, v in (s.partition("=") for s in args.workspace_setting)}
        (folder / "settings.json").write_text(json.dumps(values, indent=2))
    opened = workspace
    extra: dict[str, str] = {}
    if args.second_folder:
        second = args.workdir.resolve() / "second"
        (second / "weights").mkdir(parents=True, exist_ok=True)
        (second / "weights" / "extra.pkl").write_bytes(pickle_of([call("posix.system", SECOND_COMMAND)]))
        opened = args.workdir.resolve() / "demo.code-workspace"
        opened.write_text(json.dumps({"folders": [{"path": str(workspace)}, {"path": str(second)}]}))
        extra = {"second": str(second)}
    with FakeHub(manifest.hub_root) as hub:
        base = args.workdir / "editor"
        editor.reset(base)
        settings = {
            "malhug.interpreter": [args.interpreter],
            "malhug.hubEndpoint": hub.endpoint,
            "malhug.logLevel": "debug",
            **(UNTRUSTED if args.untrusted else {}),
        }
        server = SessionServer(base, opened, settings, untrusted=args.untrusted)
        server.install_extension(editor.VSIX)
        with server:
            info = {
                "url": server.url,
                "endpoint": hub.endpoint,
                "editor": str(base),
                "pgid": server.pgid,
                "manifest": json.loads(manifest.to_json()),
                **extra,
            }
            print(json.dumps(info), flush=True)
            wait_for_signal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
