"""SARIF output: valid against the official SARIF 2.1.0 schema and GitHub code scanning's upload rules.

The schema is the OASIS SARIF 2.1.0 (errata 01) JSON schema, kept in this folder (see README.md);
GitHub's rules are the documented "SARIF support for code scanning" requirements: help and limits on
rule metadata, repository-relative locations with a start line, and ``partialFingerprints``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from malhug.cli import main
from malhug.core.model import FileReport, Finding, Location, ScanReport, Severity
from malhug.core.rules import finding
from malhug.output.sarif import render
from tests.builders.pickles import call, pickle_of
from tests.usercode.fixtures import RISKY, notebook

SCHEMA_PATH = Path(__file__).with_name("sarif-schema-2.1.0.json")
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


def schema() -> dict[str, Any]:
    data = SCHEMA_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256  # the official file, unchanged
    return json.loads(data)


def github_problems(log: dict[str, Any]) -> list[str]:
    """What GitHub code scanning would reject or mishandle in an upload (its documented requirements)."""
    problems = []
    for run in log["runs"]:
        driver = run["tool"]["driver"]
        rules = driver.get("rules", [])
        ids = [r["id"] for r in rules]
        if not driver.get("name"):
            problems.append("tool.driver.name missing")
        for r in rules:
            for key in ("shortDescription", "fullDescription"):
                if not 0 < len(r.get(key, {}).get("text", "")) <= 1024:
                    problems.append(f"{r['id']}: {key}.text empty or over 1024 characters")
            if not r.get("help", {}).get("text") or not r["help"].get("markdown"):
                problems.append(f"{r['id']}: help.text and help.markdown are needed")
            if not re.fullmatch(r"https://\S+/docs/RULES\.md#" + r["id"].lower(), r.get("helpUri", "")):
                problems.append(f"{r['id']}: helpUri is not the rule's RULES.md anchor")
            if not 0.0 <= float(r["properties"]["security-severity"]) <= 10.0:
                problems.append(f"{r['id']}: security-severity out of 0.0-10.0")
            if len(r["properties"]["tags"]) > 20:
                problems.append(f"{r['id']}: more than 20 tags")
        if len(run["results"]) > 25_000:
            problems.append("more than 25,000 results in a run")
        for res in run["results"]:
            where = f"{res['ruleId']}"
            if res["ruleId"] not in ids or ids.index(res["ruleId"]) != res["ruleIndex"]:
                problems.append(f"{where}: ruleId/ruleIndex do not name a rule of the driver")
            if not res["message"].get("text"):
                problems.append(f"{where}: empty message")
            if not 1 <= len(res["locations"]) <= 10:
                problems.append(f"{where}: needs 1 to 10 locations")
            for loc in res["locations"]:
                phys = loc["physicalLocation"]
                uri = phys["artifactLocation"]["uri"]
                if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) or uri.startswith(("/", "\\")) or "\\" in uri:
                    problems.append(f"{where}: location {uri!r} is not relative to the repository")
                if phys["artifactLocation"].get("uriBaseId") != "%SRCROOT%":
                    problems.append(f"{where}: uriBaseId is not %SRCROOT%")
                if phys.get("region", {}).get("startLine", 0) < 1:
                    problems.append(f"{where}: region.startLine missing")
            prints = res.get("partialFingerprints") or {}
            if not prints or not all(isinstance(v, str) and v for v in prints.values()):
                problems.append(f"{where}: partialFingerprints missing")
    return problems


def sarif_of(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    main(["scan", *args, "--format", "sarif"])
    return json.loads(capsys.readouterr().out)


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout: a .git folder at its root, the working directory a subfolder of it."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text(RISKY)
    (root / "src" / "explore.ipynb").write_text(notebook("import os\n", "import torch\nm = torch.load('a.pt')\n"))
    (root / "src" / "broken.ipynb").write_text('{"cells": [')
    (root / "models").mkdir()
    (root / "models" / "evil.pkl").write_bytes(pickle_of([call("os.system", "echo malhug-sentinel")]))
    monkeypatch.chdir(root / "src")
    return root


def test_the_schema_file_is_the_official_one() -> None:
    data = schema()
    assert data["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert data["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")


def test_a_scan_with_every_kind_of_location_is_valid_sarif_that_github_accepts(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = sarif_of(capsys, str(project / "src"), str(project / "models"))
    jsonschema.Draft4Validator(schema()).validate(log)
    assert github_problems(log) == []
    run = log["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert {"src/train.py", "src/explore.ipynb", "src/broken.ipynb", "models/evil.pkl"} <= uris
    assert all(not u.startswith(str(project)) for u in uris)
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert {"MH701", "MH706", "MH901"} <= set(rules)
    assert "Remediation:" in rules["MH701"]["help"]["text"] and "*Remediation:*" in rules["MH701"]["help"]["markdown"]
    assert rules["MH701"]["helpUri"].endswith("/docs/RULES.md#mh701")
    assert run["columnKind"] == "unicodeCodePoints"
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("src/broken.ipynb: notebook not analyzed")


def test_source_findings_keep_line_and_columns(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = sarif_of(capsys, str(project / "src" / "train.py"))
    regions = [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"])
        for r in log["runs"][0]["results"]
        if r["ruleId"] == "MH704"
    ]
    assert regions == [("MH704", {"startLine": 10, "startColumn": 22, "endLine": 10, "endColumn": 39})]


def test_a_notebook_cell_line_is_mapped_to_the_line_of_the_ipynb_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = sarif_of(capsys, str(project / "src" / "explore.ipynb"))
    (res,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "MH701"]
    raw = (project / "src" / "explore.ipynb").read_text().split("\n")
    expected = next(n for n, line in enumerate(raw, start=1) if "torch.load('a.pt')" in line)
    assert res["locations"][0]["physicalLocation"]["region"] == {"startLine": expected}
    assert "in cell 3, line 2" in res["message"]["text"]
    assert res["properties"]["member"] == "cell 3" and res["properties"]["line"] == 2


def _prints(log: dict[str, Any], rule: str) -> list[str]:
    return [r["partialFingerprints"]["malhug/v2"] for r in log["runs"][0]["results"] if r["ruleId"] == rule]


def test_fingerprints_survive_moved_lines_and_tell_repeats_apart(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "src" / "app.py"
    body = "import pickle\na = pickle.loads(x)\nb = pickle.loads(x)\n"
    path.write_text(body)
    before = sarif_of(capsys, str(path))
    path.write_text(
        "# a header that moves every line down\n\n\n" + body.replace("import pickle\n", "import pickle\nimport os\n")
    )
    after = sarif_of(capsys, str(path))
    lines = [
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in after["runs"][0]["results"]
        if r["ruleId"] == "MH702"
    ]
    assert lines == [6, 7]  # the lines moved ...
    assert _prints(before, "MH702") == _prints(after, "MH702")  # ... the alerts did not
    assert len(set(_prints(after, "MH702"))) == 2  # two identical calls are two alerts
    path.write_text(body.replace("pickle.loads(x)\nb", "pickle.loads(other)\nb"))
    changed = sarif_of(capsys, str(path))
    assert _prints(changed, "MH702") != _prints(before, "MH702")  # different code, a different alert


def test_hub_files_get_a_relative_location_and_a_fingerprint_without_the_commit() -> None:
    def report(sha: str) -> ScanReport:
        f = finding(
            "MH101",
            "pickle calls os.system",
            location=Location(member="archive/data.pkl", offset=153),
            evidence="os.system('echo hi')",
        )
        return ScanReport(files=[FileReport(path=f"hf:org/m@{sha}/pytorch_model.bin", format="pytorch", findings=[f])])

    first, second = (
        render(report("a" * 40), root=Path("/nonexistent")),
        render(report("b" * 40), root=Path("/nonexistent")),
    )
    jsonschema.Draft4Validator(schema()).validate(first)
    assert github_problems(first) == []
    (res,) = first["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": f"hf/org/m@{'a' * 40}/pytorch_model.bin", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1},  # a byte offset, not a line: the offset is in the properties
    }
    assert res["properties"]["offset"] == 153 and res["properties"]["path"] == f"hf:org/m@{'a' * 40}/pytorch_model.bin"
    assert _prints(first, "MH101") == _prints(second, "MH101")


def test_paths_outside_the_root_are_relative_never_absolute(tmp_path: Path) -> None:
    outside = FileReport(
        path=str(tmp_path / "elsewhere" / "w.pkl"),
        format="pickle",
        findings=[Finding("MH101", Severity.CRITICAL, finding("MH101").category, "x", Location(offset=2))],
    )
    log = render(ScanReport(files=[outside]), root=tmp_path / "repo")
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "../elsewhere/w.pkl" and github_problems(log) == []
