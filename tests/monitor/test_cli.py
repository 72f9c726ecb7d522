"""``malhug monitor`` end to end against the fake Hub: run (``--repos``), report, status, rescan, webhook.

The poisoned model follows the MalHug paper (Zhao et al., "Models Are Codes", ASE 2024): a pickle in
PyTorch weights that runs a command on load (defanged: ``echo``).
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from malhug.cli import main
from malhug.monitor.store import Database, Store
from malhug.monitor.webhook import make_server
from tests.fakehub import FakeHub
from tests.hub.payloads import benign_pickle, evil_pickle, torch_zip


def _run(hub: FakeHub, tmp_path: Path, *extra: str) -> int:
    repos = tmp_path / "repos.txt"
    repos.write_text("# watched\norg/good\norg/bad\ndatasets/org/data\n")
    return main(
        ["monitor", "run", "--once", "--repos", str(repos), "--store", str(tmp_path / "m.sqlite3"),
         "--endpoint", hub.endpoint, "--workers", "1", *extra]
    )  # fmt: skip


@pytest.fixture()
def watched(hub: FakeHub) -> dict[str, str]:
    return {
        "good": hub.repo("org/good").commit({"config.json": "{}", "pytorch_model.bin": torch_zip(benign_pickle())}),
        "bad": hub.repo("org/bad").commit({"pytorch_model.bin": torch_zip(evil_pickle())}),
        "data": hub.repo("org/data", "dataset").commit({"README.md": "# data", "train.csv": "a,b\n1,2\n"}),
    }


@pytest.mark.e2e
def test_run_then_report_json_is_the_contract(
    hub: FakeHub, watched: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    assert _run(hub, tmp_path, "--events", str(events)) == 1  # a repository turned malicious
    capsys.readouterr()
    assert main(["monitor", "report", "--format", "json", "--store", str(tmp_path / "m.sqlite3")]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"repos", "stats", "events"}
    first = report["repos"][0]  # malicious first
    assert {k: first[k] for k in ("type", "id", "sha", "verdict")} == {
        "type": "model",
        "id": "org/bad",
        "sha": watched["bad"],
        "verdict": "malicious",
    }
    assert {"type", "id", "sha", "verdict", "files", "first_seen", "scanned_at"} <= set(first)
    assert first["first_seen"].endswith("Z") and first["scanned_at"].endswith("Z")
    (weights,) = first["files"]
    assert weights["path"] == "pytorch_model.bin" and weights["verdict"] == "malicious"
    assert any(f["category"] == "code-execution" or f["severity"] == "critical" for f in weights["findings"])
    assert {(r["type"], r["id"], r["verdict"]) for r in report["repos"]} == {
        ("model", "org/bad", "malicious"),
        ("model", "org/good", "clean"),
        ("dataset", "org/data", "clean"),
    }
    assert report["stats"]["by_verdict"] == {"malicious": 1, "clean": 2}
    assert [(e["id"], e["new_verdict"]) for e in report["events"]] == [("org/bad", "malicious")]
    assert json.loads(events.read_text())["id"] == "org/bad"


@pytest.mark.e2e
def test_status_text_and_sarif(hub: FakeHub, watched: dict[str, str], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _run(hub, tmp_path)
    capsys.readouterr()
    assert main(["monitor", "status", "--store", str(tmp_path / "m.sqlite3")]) == 0
    out = capsys.readouterr().out
    assert "backlog    0" in out and "malicious 1" in out and "budget     api: no limit announced by the Hub yet" in out
    assert main(["monitor", "status", "--json", "--store", str(tmp_path / "m.sqlite3")]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["backlog"] == 0 and status["repos_by_verdict"] == {"malicious": 1, "clean": 2}
    # The fake Hub announces no limits (a mirror): nothing to take a share of, calls are still counted.
    assert status["api_budget"]["api"]["quota"] == -1 and status["api_budget"]["api"]["used"] >= 3
    assert main(["monitor", "report", "--store", str(tmp_path / "m.sqlite3")]) == 1
    text = capsys.readouterr().out
    assert f"MALICIOUS  model org/bad@{watched['bad'][:12]}" in text and "org/good" not in text
    assert (
        main(["monitor", "report", "--since", "2999-01-01", "--format", "json", "--store", str(tmp_path / "m.sqlite3")])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["repos"] == []
    sarif = tmp_path / "out.sarif"
    main(["monitor", "report", "--format", "sarif", "--output", str(sarif), "--store", str(tmp_path / "m.sqlite3")])
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in json.loads(sarif.read_text())["runs"][0]["results"]
    }
    assert uris == {
        f"hf/org/bad@{watched['bad']}/pytorch_model.bin"
    }  # SARIF writes hub files under hf/ (docs/REPORT.md)


@pytest.mark.e2e
def test_rescan_reads_nothing_from_the_hub(hub: FakeHub, watched: dict[str, str], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _run(hub, tmp_path)
    store = Store(Database(tmp_path / "m.sqlite3"))
    with store.db.tx() as cur:  # a rule change: no stored verdict matches the analyzers any more
        cur.execute("DELETE FROM file_verdicts")
        cur.execute("DELETE FROM hub_cache")
        # ... and the old rules had missed the payload of org/bad.
        missed = json.dumps(
            [{"path": "pytorch_model.bin", "format": "pytorch-zip", "verdict": "clean", "findings": []}]
        )
        cur.execute("UPDATE scans SET verdict = 'clean', files = ? WHERE repo_id = 'org/bad'", (missed,))
        cur.execute("UPDATE repos SET verdict = 'clean' WHERE repo_id = 'org/bad'")
    hub.clear_log()
    capsys.readouterr()
    assert main(["monitor", "rescan", "--store", str(tmp_path / "m.sqlite3")]) == 1
    out = capsys.readouterr().out
    assert hub.requests() == []
    assert "rescanned 3 repositories, 3 files from kept bytes (0 files without kept bytes" in out
    assert "1 verdict changes" in out
    (event,) = [e for e in store.events() if e.detail and '"rescan"' in e.detail]
    assert (event.repo_id, event.old_verdict, event.new_verdict) == ("org/bad", "clean", "malicious")
    assert {r["id"]: r["verdict"] for r in store.repos()} == {
        "org/bad": "malicious",
        "org/good": "clean",
        "org/data": "clean",
    }
    assert len(store.analyses()) == 3  # written again under the current salt


@pytest.mark.e2e
def test_rescan_on_a_process_pool_gives_the_same_verdicts(
    hub: FakeHub, watched: dict[str, str], tmp_path: Path
) -> None:
    _run(hub, tmp_path)
    hub.clear_log()
    assert main(["monitor", "rescan", "--workers", "2", "--store", str(tmp_path / "m.sqlite3")]) == 0
    assert hub.requests() == []
    store = Store(Database(tmp_path / "m.sqlite3"))
    assert {r["id"]: r["verdict"] for r in store.repos()} == {
        "org/bad": "malicious",
        "org/good": "clean",
        "org/data": "clean",
    }


def _post(url: str, body: bytes, secret: str | None) -> int:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    if secret is not None:
        req.add_header("X-Webhook-Secret", secret)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.e2e
def test_webhook_wrong_secret_is_401_and_right_secret_enqueues(store: Store) -> None:
    server = make_server(store, "s3cret", "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    sha = "c" * 40
    payload = json.dumps(
        {
            "event": {"action": "update", "scope": "repo.content"},
            "repo": {"type": "model", "name": "org/m", "headSha": sha},
        }
    ).encode()
    try:
        assert _post(url, payload, "wrong") == 401
        assert _post(url, payload, None) == 401
        assert store.pending() == 0
        assert _post(url, b"{not json", "s3cret") == 400
        assert _post(url, payload, "s3cret") == 202
        discussion = json.dumps(
            {"event": {"action": "create", "scope": "discussion"}, "repo": {"type": "model"}}
        ).encode()
        assert _post(url, discussion, "s3cret") == 200
    finally:
        server.shutdown()
        server.server_close()
    (item,) = store.claim("r", 10, 60)
    assert (item.repo_type, item.repo_id, item.sha) == ("model", "org/m", sha)


def test_webhook_refuses_a_non_loopback_address_and_an_empty_secret(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    os.environ.pop("MH_TEST_SECRET", None)
    assert (
        main(
            [
                "monitor",
                "webhook",
                "--listen",
                "127.0.0.1:0",
                "--secret-env",
                "MH_TEST_SECRET",
                "--store",
                str(tmp_path / "s"),
            ]
        )
        == 2
    )
    assert "MH_TEST_SECRET is empty or unset" in capsys.readouterr().err
    os.environ["MH_TEST_SECRET"] = "x"
    try:
        assert (
            main(
                [
                    "monitor",
                    "webhook",
                    "--listen",
                    "0.0.0.0:8765",
                    "--secret-env",
                    "MH_TEST_SECRET",
                    "--store",
                    str(tmp_path / "s"),
                ]
            )
            == 2
        )
    finally:
        del os.environ["MH_TEST_SECRET"]
    assert "loopback only" in capsys.readouterr().err


def test_report_html_loads_the_page_renderer_lazily(
    store_target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    seen: list[tuple[list, dict, int]] = []

    def write_html(repos, stats, events, out) -> None:  # type: ignore[no-untyped-def]
        seen.append((list(repos()), stats(), events))
        out.write("<!doctype html><title>monitor</title>")

    fake = types.ModuleType("malhug.monitor.html")
    fake.write_html = write_html  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "malhug.monitor.html", fake)
    out = tmp_path / "page.html"
    assert main(["monitor", "report", "--format", "html", "--output", str(out), "--store", store_target]) == 0
    assert out.read_text() == "<!doctype html><title>monitor</title>"
    assert seen == [([], seen[0][1], 0)] and set(seen[0][1]) >= {"repos", "by_verdict", "backlog"}


def test_progress_line_says_what_a_person_needs() -> None:
    from malhug.monitor.progress import Counters

    c = Counters(listed=1200, planned=40, scanned=10, from_cache=4, bytes_read=3 * 2**20, budget_left={"api": 480})
    line = c.line()
    assert line.startswith(
        "listed 1200  planned 40  scanned 10  from cache 4  errors 0  read 3.0 MB  budget left api 480"
    )
    assert "ETA " in line and "ETA -" not in line


def test_bad_options_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "m.sqlite3")
    assert main(["monitor", "run", "--executor", "ray://x", "--store", store]) == 2
    assert "unknown executor 'ray://x'" in capsys.readouterr().err
    assert main(["monitor", "run", "--api-budget", "1.5", "--store", store]) == 2
    assert main(["monitor", "run", "--interval", "soon", "--store", store]) == 2
    assert main(["monitor", "run", "--once", "--interval", "10m", "--store", store]) == 2


@pytest.mark.e2e
def test_webhook_command_as_a_process(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    store_path = tmp_path / "m.sqlite3"
    env = {**os.environ, "MONITOR_SECRET": "s3cret"}
    cmd = [sys.executable, "-m", "malhug", "monitor", "webhook", "--listen", "127.0.0.1:0",
           "--secret-env", "MONITOR_SECRET", "--store", str(store_path)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line + proc.stderr.read() if proc.stderr else line
        url = line.split(" on ", 1)[1].strip()
        sha = "d" * 40
        body = json.dumps(
            {
                "event": {"action": "update", "scope": "repo.content"},
                "repo": {"type": "dataset", "name": "org/d", "headSha": sha},
            }
        ).encode()
        assert _post(url, body, "nope") == 401
        assert _post(url, body, "s3cret") == 202
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    store = Store(Database(store_path))
    (item,) = store.claim("r", 10, 60)
    assert (item.repo_type, item.repo_id, item.sha) == ("dataset", "org/d", sha)


@pytest.mark.e2e
def test_run_and_report_on_a_postgresql_store_with_worker_processes(
    hub: FakeHub, watched: dict[str, str], tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.monitor.postgres import fresh_schema

    url = fresh_schema(postgres_url)
    repos = tmp_path / "repos.txt"
    repos.write_text("org/good\norg/bad\ndatasets/org/data\n")
    args = ["--store", url]
    assert (
        main(["monitor", "run", "--once", "--repos", str(repos), "--endpoint", hub.endpoint, "--workers", "2", *args])
        == 1
    )
    capsys.readouterr()
    assert main(["monitor", "report", "--format", "json", *args]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {(r["id"], r["sha"], r["verdict"]) for r in report["repos"]} == {
        ("org/bad", watched["bad"], "malicious"),
        ("org/good", watched["good"], "clean"),
        ("org/data", watched["data"], "clean"),
    }


@pytest.mark.e2e
def test_interval_runs_pass_after_pass_until_interrupted(hub: FakeHub, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    repo = hub.repo("org/m")
    repo.commit({"pytorch_model.bin": torch_zip(benign_pickle())})
    (tmp_path / "repos.txt").write_text("org/m\n")
    store_path = tmp_path / "m.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))} | {
        "HF_HOME": str(tmp_path / "hf")
    }
    cmd = [sys.executable, "-m", "malhug", "monitor", "run", "--interval", "1s", "--repos", str(tmp_path / "repos.txt"),
           "--store", str(store_path), "--endpoint", hub.endpoint, "--workers", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def verdict() -> str | None:
        if not store_path.exists():
            return None
        s = Store(Database(store_path))
        try:
            repos = s.repos()
            return repos[0]["verdict"] if repos else None
        finally:
            s.close()

    try:
        deadline = time.monotonic() + 120
        while verdict() != "clean":
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        repo.commit({"pytorch_model.bin": torch_zip(evil_pickle())})  # seen by a later pass
        while verdict() != "malicious":
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 1  # a repository turned malicious during the run
