"""Writes the manifest of the wheels the VS Code extension ships (client-vscode/bundled/wheels).

``make vsix`` first fills the folder with ``pip wheel`` (MalHug and its dependencies, at the versions pinned
in requirements/dev.txt) and ``pip download`` (pip itself); this script records what they were built for:
the Python minor version and the platform in Node's naming (``linux-x64``), which the extension compares
with the Python it finds before it installs offline.

    python tools/bundle_wheels.py client-vscode/bundled/wheels
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

_ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64", "i686": "ia32", "armv7l": "arm"}
_SYSTEM = {"linux": "linux", "darwin": "darwin", "windows": "win32"}


def node_platform() -> str:
    system = _SYSTEM.get(platform.system().lower(), platform.system().lower())
    machine = platform.machine().lower()
    return f"{system}-{_ARCH.get(machine, machine)}"


def manifest(folder: Path) -> dict[str, str]:
    wheels = sorted(p.name for p in folder.glob("*.whl"))
    malhug = [w for w in wheels if w.startswith("malhug-")]
    pip = [w for w in wheels if w.startswith("pip-")]
    if len(malhug) != 1 or len(pip) != 1:
        raise SystemExit(f"expected one malhug and one pip wheel in {folder}, found {wheels}")
    return {
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "platform": node_platform(),
        "malhug": malhug[0].split("-")[1],
        "pip": pip[0],
    }


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    data = manifest(folder)
    (folder / "manifest.json").write_text(json.dumps(data, indent=2) + "\n")
    size = sum(p.stat().st_size for p in folder.glob("*.whl"))
    print(f"bundled wheels: {len(list(folder.glob('*.whl')))} files, {size / 2**20:.1f} MiB, {data}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
