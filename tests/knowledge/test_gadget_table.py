"""The mined gadget table (analyzers/knowledge/gadgets.jsonl) is current for the pinned packages
and the miner's own source, and reads back as the policy expects."""

from __future__ import annotations

import json
import platform
from pathlib import Path

from malhug.analyzers.knowledge.gadgets import gadget_of, parse, table
from tools.gadgets.__main__ import read_pins
from tools.gadgets.mine import tool_digest

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "analyzers" / "knowledge" / "gadgets.jsonl"
STALE = "analyzers/knowledge/gadgets.jsonl is stale: run `make gadgets` and commit the table"


def _lines() -> list[dict]:
    return [json.loads(line) for line in TABLE.read_text(encoding="utf-8").splitlines()]


def test_table_matches_the_pins_python_and_miner() -> None:
    provenance = _lines()[0]["provenance"]
    assert provenance["pins"] == read_pins(ROOT / "requirements" / "gadgets.txt"), STALE
    assert provenance["tool_sha256"] == tool_digest(), STALE
    assert provenance["python"].rsplit(".", 1)[0] == platform.python_version().rsplit(".", 1)[0], STALE


def test_rows_are_sorted_capped_and_carry_provenance() -> None:
    rows = _lines()[1:]
    names = [r["name"] for r in rows]
    assert names == sorted(names) and len(set(names)) == len(names)
    provenance = _lines()[0]["provenance"]
    cap = provenance["cap_per_package_and_sink"]
    per_group: dict[tuple[str, str], int] = {}
    for row in rows:
        per_group[(row["package"], row["sink"])] = per_group.get((row["package"], row["sink"]), 0) + 1
        assert row["path"][0] == row["name"] and row["depth"] == len(row["path"]) - 2 <= provenance["depth"]
        assert row["version"] and row["package"] in {*provenance["pins"], "python"}
    assert max(per_group.values()) <= cap


def test_loader_finds_gadgets_by_name_and_alias() -> None:
    hints = gadget_of("typing.get_type_hints")
    assert hints is not None and hints.sink == "code-exec" and hints.path[-1] == "builtins.eval"
    config = gadget_of("logging.config.dictConfig")
    assert config is not None and config.sink == "name-resolve" and config.path[-1] == "builtins.__import__"
    assert gadget_of("os.path.join") is None
    aliased = next(r for r in _lines()[1:] if r["aliases"])
    assert table().get(aliased["aliases"][0]) == table().get(aliased["name"])


def test_parse_reads_provenance_and_aliases() -> None:
    text = "\n".join(
        [
            json.dumps({"provenance": {"python": "3.11.7"}}),
            json.dumps(
                {
                    "name": "pkg._impl.run",
                    "kind": "function",
                    "sink": "command-exec",
                    "depth": 0,
                    "path": ["pkg._impl.run", "os.system"],
                    "package": "pkg",
                    "version": "1.0",
                    "aliases": ["pkg.run"],
                }
            ),
        ]
    )
    parsed = parse(text)
    assert parsed.provenance == {"python": "3.11.7"}
    assert parsed.get("pkg.run") is parsed.get("pkg._impl.run")
    assert parsed.get("pkg.run").path == ("pkg._impl.run", "os.system")
