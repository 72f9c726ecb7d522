"""``monitor report --format sarif``, written as the store is read.

One SARIF run over every flagged file of every repository, paths as ``hf:ORG/NAME@SHA/FILE``
(datasets: ``hf:datasets/``): the same document ``malhug.output.sarif.render`` makes of all those
files at once, made a repository at a time. A first pass over the store collects what comes before the
results (the rules used, the worst verdict, whether any file failed); the results and the failures'
notifications are then rendered per repository and streamed. Fingerprints count repeats per artifact
URI, and each URI belongs to one repository, so rendering per repository gives the same fingerprints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from malhug.core.model import FileReport, ScanReport, Verdict
from malhug.monitor.report import json_items
from malhug.output.sarif import render, rule_descriptor
from malhug.output.sarifloc import source_root

if TYPE_CHECKING:
    from malhug.monitor.report import Source

_RESULTS, _NOTES = "\x00results\x00", "\x00notifications\x00"


def _flagged_files(repo: dict[str, Any]) -> list[FileReport]:
    prefix = "hf:" + ("datasets/" if repo["type"] == "dataset" else "") + f"{repo['id']}@{repo['sha']}/"
    return [
        FileReport.from_dict({**raw, "path": prefix + raw["path"]})
        for raw in repo["files"]
        if raw.get("findings") or raw.get("error")
    ]


def _runs(src: Source) -> Iterator[dict[str, Any]]:
    root = source_root()
    for repo in src.repos():
        files = _flagged_files(repo)
        if files:
            yield render(ScanReport(files=files), root)["runs"][0]


def write_sarif(src: Source, out: TextIO) -> None:
    used: set[str] = set()
    verdicts: list[Verdict] = []
    failed = False
    for repo in src.repos():
        for file in _flagged_files(repo):
            used.update(f.rule for f in file.findings)
            verdicts.append(file.verdict)
            verdicts[:] = [Verdict.worst(verdicts)]
            failed = failed or bool(file.error)
    rules = sorted(used)
    index = {rule: i for i, rule in enumerate(rules)}
    head = render(ScanReport())
    run = head["runs"][0]
    run["tool"]["driver"]["rules"] = [rule_descriptor(rule) for rule in rules]
    run["results"] = _RESULTS
    run["invocations"] = [{"executionSuccessful": not failed, "toolExecutionNotifications": _NOTES}]
    run["properties"]["verdict"] = Verdict.worst(verdicts).value
    text = json.dumps(head, indent=2)
    before, _, rest = text.partition(json.dumps(_RESULTS))
    middle, _, after = rest.partition(json.dumps(_NOTES))
    out.write(before)
    json_items(out, (_renumber(r, index) for run_ in _runs(src) for r in run_["results"]), _indent(before))
    out.write(middle)
    notes = (n for run_ in _runs(src) for n in run_["invocations"][0]["toolExecutionNotifications"])
    json_items(out, notes, _indent(middle))
    out.write(after + "\n")


def _indent(text: str) -> str:
    line = text.rpartition("\n")[2]
    return line[: len(line) - len(line.lstrip())]


def _renumber(result: dict[str, Any], index: dict[str, int]) -> dict[str, Any]:
    result["ruleIndex"] = index[result["ruleId"]]
    return result
