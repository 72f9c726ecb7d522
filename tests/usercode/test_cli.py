"""``malhug scan`` reports the user-code rules on Python files and notebook code cells, as the editor does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from malhug.analyzers.api import SourceLines, analyze_user_code
from malhug.cli import main
from malhug.server.diagnostics import load_issue
from tests.usercode.fixtures import BENIGN, RISKY, RISKY_EXPECTED, notebook, span_of

USER_RULES = ("MH701", "MH702", "MH703", "MH704", "MH705", "MH706", "MH708")


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def user_findings(report: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    (file,) = [f for f in report["files"] if f["path"] == str(path)]
    return [f for f in file["findings"] if f["rule"] in USER_RULES]


def _where(f: dict[str, Any]) -> tuple[str, int, int, int, int, str]:
    loc = f["location"]
    return f["rule"], loc["line"], loc["column"], loc["end_line"], loc["end_column"], f["severity"]


def _expected() -> list[tuple[str, int, int, int, int, str]]:
    defaults = {"MH701": "medium", "MH702": "medium", "MH703": "medium", "MH704": "medium"}
    defaults.update({"MH705": "medium", "MH706": "medium", "MH708": "medium"})
    out = []
    for rule, literal, occurrence, severity in RISKY_EXPECTED:
        span = span_of(RISKY, literal, occurrence)
        out.append((rule, span.line + 1, span.col + 1, span.end_line + 1, span.end_col + 1, severity or defaults[rule]))
    return sorted(out, key=lambda w: (w[1], w[2], w[0]))


@pytest.mark.fires("MH701", "MH702", "MH703", "MH704", "MH705", "MH706", "MH708")
def test_every_risky_load_is_reported_at_its_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "train.py"
    path.write_text(RISKY)
    code, report = scan(capsys, str(path))
    assert code == 1  # medium findings: the default --fail-on
    found = user_findings(report, path)
    assert sorted(map(_where, found), key=lambda w: (w[1], w[2], w[0])) == _expected()
    assert {f["rule"] for f in found} == {"MH701", "MH702", "MH703", "MH704", "MH705", "MH706", "MH708"}
    (pickle_load,) = [f for f in found if f["rule"] == "MH702"]
    assert pickle_load["evidence"] == "pickle.loads(blob)" and pickle_load["category"] == "unsafe-format"


def test_rule_ids_severities_and_messages_are_the_editors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "train.py"
    path.write_text(RISKY)
    _, report = scan(capsys, str(path))
    src = SourceLines(RISKY)
    editor = [load_issue(ld, src) for ld in analyze_user_code(RISKY).analysis.loads]
    cli = user_findings(report, path)
    key = lambda t: (t[0], t[1], t[2])  # noqa: E731
    assert sorted(
        ((i.rule, i.span.line + 1, i.span.col + 1, i.severity.value, i.message) for i in editor), key=key
    ) == sorted(
        ((f["rule"], f["location"]["line"], f["location"]["column"], f["severity"], f["message"]) for f in cli), key=key
    )


@pytest.mark.quiet("MH701", "MH702", "MH703", "MH704", "MH705", "MH706", "MH708")
def test_benign_look_alikes_are_quiet_on_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sorted(BENIGN) == ["MH701", "MH702", "MH703", "MH704", "MH705", "MH706", "MH708"]
    for rule, text in BENIGN.items():
        path = tmp_path / f"{rule.lower()}.py"
        path.write_text(text)
        code, report = scan(capsys, str(path))
        assert user_findings(report, path) == [], rule
        assert code == 0, rule


@pytest.mark.fires("MH701", "MH706")
def test_notebook_cells_are_located_by_cell_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "explore.ipynb"
    path.write_text(notebook("%pip install torch\n!ls data\nimport torch\n", RISKY))
    code, report = scan(capsys, str(path))
    assert code == 1
    found = user_findings(report, path)
    assert {f["location"]["member"] for f in found} == {"cell 3"} and found[0][
        "rule"
    ] == "MH701"  # the markdown cell counts as cell 1
    assert sorted(map(_where, found), key=lambda w: (w[1], w[2], w[0])) == _expected()
    (file,) = report["files"]
    assert file["error"] is None and file["verdict"] == "suspicious"  # magics and shell escapes are not errors

    main(["scan", str(path)])
    text = capsys.readouterr().out
    assert (
        "MH706 code-exec: trust_remote_code=True runs Python code shipped in the repository (cell 3, line 14:40)"
        in text
    )


def test_ignore_comments_hide_a_rule_on_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "train.py"
    path.write_text("import pickle\nd = pickle.loads(blob)  # malhug: ignore[MH702]\ne = pickle.load(fh)\n")
    _, report = scan(capsys, str(path))
    assert [(f["rule"], f["location"]["line"]) for f in user_findings(report, path)] == [("MH702", 3)]


@pytest.mark.fires("MH901")
def test_a_broken_notebook_is_an_error_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [')
    code, report = scan(capsys, str(path))
    (file,) = report["files"]
    assert code == 1 and file["verdict"] == "error"
    assert file["error"].startswith("notebook not analyzed: not valid notebook JSON")
    assert [f["rule"] for f in file["findings"]] == ["MH901"]

    path.write_text('{"metadata": {}}')
    code, report = scan(capsys, str(path))
    assert code == 1 and "no 'cells' list" in report["files"][0]["error"]


def test_code_that_does_not_parse_is_an_error_but_still_scanned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "half.py"
    path.write_text('import torch\ndef f(:\n    pass\nx = torch.load("a.pt")\n')
    code, report = scan(capsys, str(path))
    (file,) = report["files"]
    assert code == 1 and file["verdict"] == "error"
    assert file["error"] == (
        "does not parse (syntax error in the block at line 2): the user-code rules scanned those lines one by one"
    )
    assert [(f["rule"], f["location"]["line"]) for f in user_findings(report, path)] == [("MH701", 4)]

    nb = tmp_path / "half.ipynb"
    nb.write_text(notebook("import pickle\nx = pickle.load(fh\n"))
    code, report = scan(capsys, str(nb))
    (file,) = report["files"]
    assert code == 1 and file["verdict"] == "error" and file["error"].startswith("does not parse (cell 2: ")
    assert ("MH901", "cell 2") in [(f["rule"], f["location"]["member"]) for f in file["findings"]]


def test_a_folder_scan_covers_python_files_and_notebooks_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("import joblib\nm = joblib.load('m.joblib')\n")
    (tmp_path / "src" / "b.ipynb").write_text(notebook("import joblib\nm = joblib.load('m.joblib')\n"))
    (tmp_path / "src" / "notes.txt").write_text("joblib.load('m.joblib')\n")
    code, report = scan(capsys, str(tmp_path / "src"))
    got = {(Path(f["path"]).name, x["rule"], x["location"]["line"]) for f in report["files"] for x in f["findings"]}
    assert {g for g in got if g[1] == "MH703"} == {("a.py", "MH703", 2), ("b.ipynb", "MH703", 2)}
    assert code == 1
