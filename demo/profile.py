"""The demo editor's profile, kept between starts: user data (settings, keybindings, extension state),
installed extensions and XDG folders under one folder that only ``make demo-reset`` removes.

Settings are written whole only when the profile is new. After that the user's ``settings.json`` is
theirs: a start changes only the keys the run needs (``forced``: the demo Hub's endpoint, the
interpreter), and leaves the file untouched when those already hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SETTINGS = Path("user-data") / "User" / "settings.json"
BEFORE = "settings.json.before-demo"  # the user's text, kept when a start had to drop its comments


@dataclass(frozen=True)
class Profile:
    user_data: Path
    extensions: Path
    created: bool  # True on the first start (or after a reset): the defaults were written
    note: str | None  # what a start changed or could not change in the user's settings, to tell them


def loads_jsonc(text: str) -> object:
    """``settings.json`` as VS Code reads it: JSON with ``//`` and ``/* */`` comments and trailing commas."""
    return json.loads(strip_jsonc(text))


def strip_jsonc(text: str) -> str:
    """``text`` without its comments and trailing commas (unchanged when it is plain JSON)."""
    out: list[str] = []
    i, n, in_string = 0, len(text), False
    while i < n:
        c = text[i]
        if in_string:
            step = 2 if c == "\\" else 1  # an escape and the character it escapes
            out.append(text[i : i + step])
            in_string = c != '"'
            i += step
        elif c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            if c in "}]":  # a trailing comma before the end of an object or array
                last = len(out) - 1
                while last >= 0 and out[last].isspace():
                    last -= 1
                if last >= 0 and out[last] == ",":
                    del out[last]
            out.append(c)
            i += 1
    return "".join(out)


def _unreadable(path: Path, reason: str, forced: Mapping[str, object]) -> str:
    wanted = ", ".join(f"{k} = {json.dumps(v)}" for k, v in forced.items())
    return f"could not read your editor settings {path} ({reason}); left them as they are. The demo needs {wanted}"


def _merge(path: Path, forced: Mapping[str, object]) -> str | None:
    """Sets the ``forced`` keys in the user's settings, keeping everything else; a note, or None."""
    try:
        text = path.read_text(encoding="utf-8")
        current = loads_jsonc(text)
    except ValueError as exc:  # not JSON, or not UTF-8
        return _unreadable(path, str(exc), forced)
    if not isinstance(current, dict):
        return _unreadable(path, "not a JSON object", forced)
    changed = sorted(k for k, v in forced.items() if current.get(k) != v)
    if not changed:
        return None
    note = f"set {', '.join(changed)} in your editor settings for this run"
    if strip_jsonc(text) != text:
        (path.parent / BEFORE).write_text(text, encoding="utf-8")
        note += f" (rewritten without its comments; your text is in {path.parent / BEFORE})"
    path.write_text(json.dumps({**current, **forced}, indent=2), encoding="utf-8")
    return note


def prepare(base: Path, defaults: Mapping[str, object], forced: Mapping[str, object]) -> Profile:
    """The profile under ``base``: created with ``defaults`` and ``forced`` settings when new, else kept
    as the user left it but for the ``forced`` keys."""
    user_data, extensions = base / "user-data", base / "extensions"
    for folder in (user_data / "User", extensions):
        folder.mkdir(parents=True, exist_ok=True)
    path = base / SETTINGS
    if not path.exists():
        path.write_text(json.dumps({**defaults, **forced}, indent=2), encoding="utf-8")
        return Profile(user_data, extensions, True, None)
    return Profile(user_data, extensions, False, _merge(path, forced))
