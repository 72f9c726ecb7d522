"""Fail-closed check on the real loading scripts: each one scanned as ``malhug scan FILE`` scans it
(format from its name and bytes, then the analyzers), as it is and with a defanged payload appended
at module level, where loading would run it. Every appended copy must come out malicious."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

# A command that runs on import; defanged (echo) and never executed here: the file is only scanned.
PAYLOAD = b"\n\nimport os\nos.system('echo malhug-failclosed-check')\n"


class Script(Protocol):
    key: str
    group: str
    raw: bytes


@dataclass
class FailClosed:
    formats: Counter[str] = field(default_factory=Counter)  # detected format of each file as it is
    verdicts: Counter[str] = field(default_factory=Counter)  # verdicts as it is
    appended: Counter[str] = field(default_factory=Counter)  # verdicts with the payload appended
    missed: list[tuple[str, str, str]] = field(default_factory=list)  # key, format, verdict of a missed copy

    def to_dict(self) -> dict[str, object]:
        """Plain JSON (``dataclasses.asdict`` would rebuild each Counter from its items)."""
        return {
            "formats": dict(self.formats),
            "verdicts": dict(self.verdicts),
            "appended": dict(self.appended),
            "missed": [list(m) for m in self.missed],
        }


def check(files: list[Script], work: Path) -> FailClosed:
    from malhug.analyzers.dispatch import scan_file

    folder = work / "failclosed"
    folder.mkdir(parents=True, exist_ok=True)
    result = FailClosed()
    for f in files:
        if f.group != "script":
            continue
        path = folder / Path(f.key).name
        path.write_bytes(f.raw)
        plain = scan_file(path, display=f.key)
        result.formats[plain.format] += 1
        result.verdicts[plain.verdict.value] += 1
        path.write_bytes(f.raw + PAYLOAD)
        poisoned = scan_file(path, display=f.key)
        result.appended[poisoned.verdict.value] += 1
        if poisoned.verdict.value != "malicious":
            result.missed.append((f.key, poisoned.format, poisoned.verdict.value))
        path.unlink()
    return result


def render(result: FailClosed) -> list[str]:
    def counts(c: Counter[str]) -> str:
        return ", ".join(f"{k} {n}" for k, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    lines = [
        "",
        "## Fail-closed check",
        "",
        "Each loading script scanned as `malhug scan FILE` scans it (`scan_file`: format from name and bytes), "
        "as it is and with `import os; os.system('echo …')` appended at module level. "
        "Every appended copy must be malicious.",
        "",
        f"- detected format: {counts(result.formats)}",
        f"- verdict as it is: {counts(result.verdicts)}",
        f"- verdict with the payload appended: {counts(result.appended)}",
    ]
    if result.missed:
        lines.append(
            f"- missed ({len(result.missed)}): " + ", ".join(f"`{k}` ({fmt}, {v})" for k, fmt, v in result.missed)
        )
    else:
        lines.append("- missed: none")
    return lines
