"""What ``make demo`` decides before it starts anything: ports that stay the same between runs, the
set-up it announces (apt-get), and the command lines that use the demo Hub from a terminal."""

from __future__ import annotations

import errno
import re
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Fixed defaults, so a browser tab left open reconnects after a restart and a printed HF_ENDPOINT
# line keeps working; `make demo DEMO_PORT=…` (or --port / --hub-port) picks others.
EDITOR_PORT = 47110
HUB_PORT = 47111  # the Hub's file server takes any free port: clients reach it through redirects


@dataclass(frozen=True)
class Port:
    number: int
    note: str | None  # why this is not the port asked for; None when it is


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def choose_port(preferred: int, what: str, *, is_free: Callable[[int], bool] = _free) -> Port:
    """``preferred`` when it is free; else a free one, with a note that says so and how to choose."""
    if preferred == 0 or is_free(preferred):
        return Port(preferred, None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        other = int(s.getsockname()[1])
    note = (
        f"port {preferred} for the {what} is busy (is another demo still running?); using {other} for this "
        f"run, so a tab left open on {preferred} will not reconnect. Stop the other process, or choose a port."
    )
    return Port(other, note)


def apt_packages(setup_script: Path) -> list[str]:
    """The Debian packages ``tools/setup-editor.sh`` installs when they are missing (its APT_PACKAGES)."""
    m = re.search(r"^APT_PACKAGES=\(([^)]*)\)", setup_script.read_text(encoding="utf-8"), re.MULTILINE)
    return m.group(1).split() if m else []


def _installed(package: str) -> bool:
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:  # not Debian: the set-up script says what it needs itself
        return True
    return "install ok installed" in done.stdout


def apt_notice(packages: list[str], *, installed: Callable[[str], bool] = _installed) -> str | None:
    """What to tell before the set-up runs apt-get; None when every package is there already."""
    missing = [p for p in packages if not installed(p)]
    if not missing:
        return None
    return (
        f"the editor set-up (tools/setup-editor.sh) will now run apt-get to install the Debian packages "
        f"{' '.join(missing)}: Chromium for the browser tests, compilers and headers for code-server's "
        "native modules. It needs root; without it, install them yourself or use `make demo-text`."
    )


def hub_commands(references: list[str], endpoint: str) -> list[str]:
    """Copy-paste lines that scan the demo repositories with the CLI against the demo Hub."""
    return [f"HF_ENDPOINT={endpoint} .venv/bin/malhug scan {ref}" for ref in references]
