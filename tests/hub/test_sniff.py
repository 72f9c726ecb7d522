"""Files no name selects are sniffed by their first bytes (hub/sniff.py), against the fake Hub.

The real case behind it: the MalHug paper's (Zhao et al., "Models Are Codes", ASE 2024) result list
names ``badmoh/testfirst``, whose pickle payload sits in ``backup.data`` beside ``backup.pkl``; a plan
that reads only files with a loader's name called that file clean. Payloads are raw opcodes
(tests/hub/payloads.py), defanged (``echo``), never loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from malhug.cli import main
from malhug.core.model import Category, Verdict
from malhug.hub import sniff
from malhug.hub.client import HubClient
from tests.fakehub import FakeHub
from tests.hub import payloads as P

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers

README = "# a model\n"
SAFETENSORS = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "  # an empty header
NOTES = "training notes\nlearning rate 3e-4, 10 epochs\nnothing to see here\n"


def _file_requests(hub: FakeHub, name: str) -> list[str | None]:
    """The ``Range`` of every request for the file ``name`` (resolve on the Hub, or the CDN)."""
    return [r.range for r in hub.requests(lambda r: r.path.endswith("/" + name) and "/api/" not in r.path)]


def _report(scan, path: str):
    [report] = [f for f in scan.files if f.path == path]
    return report


def test_a_pickle_named_backup_data_is_sniffed_and_found(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    head = hub.repo("badmoh/testfirst").commit({"backup.data": P.evil_pickle(), "README.md": README})
    hub.clear_log()
    scan = make_client().scan_repo("badmoh/testfirst")
    assert scan.error is None and scan.commit_sha == head
    assert scan.verdict is Verdict.MALICIOUS
    assert [f.path for f in scan.files] == ["backup.data"]  # README.md is a data file: never read
    report = _report(scan, "backup.data")
    assert report.format == "pickle" and report.verdict is Verdict.MALICIOUS
    worst = max(report.findings, key=lambda f: f.severity.rank)
    assert worst.rule.startswith("MH1") and worst.category is Category.COMMAND_EXEC
    assert "malhug-sentinel-hub" in worst.evidence + worst.message
    size = len(P.evil_pickle())
    # One ranged read of the whole small file: the sniff's bytes are scanned, not fetched again.
    assert _file_requests(hub, "backup.data") == [f"bytes=0-{size - 1}"]
    assert _file_requests(hub, "README.md") == []
    assert report.bytes_read == size and scan.bytes_read == hub.bytes_served(file_only=True) == size


def test_a_text_file_named_notes_data_is_sniffed_and_left_clean(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    hub.repo("org/notes").commit({"notes.data": NOTES, "model.safetensors": SAFETENSORS})
    hub.clear_log()
    scan = make_client().scan_repo("org/notes")
    assert scan.error is None and scan.verdict is Verdict.CLEAN, [f.to_dict() for f in scan.files]
    assert [f.path for f in scan.files] == ["model.safetensors"]  # no report, no finding for the notes
    assert scan.skipped == {}
    assert _file_requests(hub, "notes.data") == [f"bytes=0-{len(NOTES) - 1}"]


def test_data_formats_are_not_sniffed(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    """Readers of parquet, csv, images… run no code: not one request, whatever the bytes (documented)."""
    hub.repo("org/data", "dataset").commit(
        {"data/train.parquet": P.evil_pickle(), "data/test.csv": "a,b\n1,2\n", "cover.PNG": b"\x89PNG\r\n\x1a\n"}
    )
    hub.clear_log()
    scan = make_client().scan_repo("org/data", "dataset")
    assert scan.error is None and scan.verdict is Verdict.CLEAN and scan.files == []
    assert [r.path for r in hub.requests(lambda r: "/api/" not in r.path)] == []
    assert scan.bytes_read == 0


def test_an_lfs_file_is_sniffed_by_one_small_range_then_read_by_ranges(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    size = 64 * 2**20  # served as LFS (large): a torch zip under a name no loader is known for
    hub.repo("org/big").commit({"weights.data": P.sparse_torch_zip(P.evil_pickle(), size)})
    hub.clear_log()
    scan = make_client().scan_repo("org/big")
    report = _report(scan, "weights.data")
    assert report.verdict is Verdict.MALICIOUS and report.format == "pytorch-zip"
    assert any(f.location.member == "archive/data.pkl" for f in report.findings)
    cdn = hub.requests(lambda r: r.server == "cdn")
    assert cdn[0].range == f"bytes=0-{sniff.SNIFF_BYTES - 1}" and all(r.status == 206 for r in cdn)
    assert scan.bytes_read == hub.bytes_served(file_only=True) < 2**20


def test_a_small_file_past_the_sniff_window_is_fetched_from_where_the_sniff_stopped(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    """A file fetched whole (under the whole-file size) but longer than the sniff: the rest is one
    range from the sniff's end, so no byte crosses the network twice."""
    data = P.big_legacy_pickle(100 * 1024)
    hub.repo("org/mid").commit({"weights.data": data})
    hub.clear_log()
    scan = make_client().scan_repo("org/mid")
    report = _report(scan, "weights.data")
    assert report.format == "pickle" and report.verdict is Verdict.CLEAN and report.bytes_read == len(data)
    assert _file_requests(hub, "weights.data") == [
        f"bytes=0-{sniff.SNIFF_BYTES - 1}",
        f"bytes={sniff.SNIFF_BYTES}-{len(data) - 1}",
    ]
    assert scan.bytes_read == hub.bytes_served(file_only=True) == len(data)
    assert not any(f.rule == "MH604" for f in report.findings)  # content matches the Hub's id


def test_a_sniff_is_remembered_by_content_id(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    """A fork with the same bytes costs no request: the sniff's outcome is in the verdict cache."""
    for name in ("org/one", "org/fork"):
        hub.repo(name).commit({"notes.data": NOTES, "backup.data": P.evil_pickle()})
    client = make_client()
    assert client.scan_repo("org/one").verdict is Verdict.MALICIOUS
    hub.clear_log()
    fork = client.scan_repo("org/fork")
    assert fork.verdict is Verdict.MALICIOUS and [f.path for f in fork.files] == ["backup.data"]
    assert _file_requests(hub, "notes.data") == [] and _file_requests(hub, "backup.data") == []


@pytest.mark.fires("MH607")
def test_files_over_the_sniff_cap_make_the_revision_not_clean(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    names = [f"part-{i}.data" for i in range(5)]
    hub.repo("org/many").commit({name: NOTES + str(i) for i, name in enumerate(names)})
    hub.clear_log()
    scan = make_client(max_sniffs=3).scan_repo("org/many")
    assert scan.verdict is Verdict.SUSPICIOUS
    [listing] = [f for f in scan.files if f.path == "(file listing)"]
    [note] = listing.findings
    assert note.rule == "MH607" and note.category is Category.RESOURCE_ABUSE
    assert note.message.startswith("2 files with names no loader is known for were never examined")
    assert "part-3.data, part-4.data" in note.message and "unexamined=2 cap=3" in note.evidence
    assert sum(len(_file_requests(hub, n)) for n in names) == 3  # the cap counts requests


@pytest.mark.quiet("MH607")
def test_as_many_files_as_the_cap_are_all_sniffed(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/few").commit({f"part-{i}.data": NOTES + str(i) for i in range(3)} | {"big.CSV": "a\n" * 10})
    scan = make_client(max_sniffs=3).scan_repo("org/few")
    assert scan.verdict is Verdict.CLEAN and scan.files == []  # no MH607 on the listing
    assert "MH607" not in [f.rule for r in scan.files for f in r.findings]


def test_a_file_whose_first_bytes_cannot_be_read_is_an_error(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    hub.repo("org/flaky").commit({"backup.data": P.evil_pickle(), "README.md": README})
    hub.fail_next(5, status=500, match="/resolve/")
    scan = make_client().scan_repo("org/flaky")
    report = _report(scan, "backup.data")
    assert report.error is not None and report.error.startswith("could not read the first bytes of backup.data")
    assert report.verdict is Verdict.ERROR and scan.verdict is Verdict.ERROR


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["scan", *args])
    return code, capsys.readouterr().out


def test_json_and_sarif_name_the_sniffed_file(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    head = hub.repo("badmoh/testfirst").commit({"backup.data": P.evil_pickle(), "notes.data": NOTES})
    code, out = _cli(capsys, "hf:badmoh/testfirst", "--endpoint", hub.endpoint, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["verdict"] == "malicious"
    assert [f["path"] for f in report["files"]] == [f"hf:badmoh/testfirst@{head}/backup.data"]
    assert report["files"][0]["verdict"] == "malicious" and report["files"][0]["format"] == "pickle"
    code, out = _cli(capsys, "hf:badmoh/testfirst", "--endpoint", hub.endpoint, "--format", "sarif", "--no-cache")
    results = json.loads(out)["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert code == 1 and uris == {f"hf/badmoh/testfirst@{head}/backup.data"}
    assert any(r["ruleId"].startswith("MH1") and r["level"] == "error" for r in results)


def test_json_shows_the_cap_on_the_repository(
    hub: FakeHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sniff, "MAX_SNIFFS", 1)
    head = hub.repo("org/many").commit({"a.data": NOTES, "b.data": NOTES + "b"})
    code, out = _cli(capsys, "hf:org/many", "--endpoint", hub.endpoint, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["verdict"] == "suspicious"
    [repo] = report["files"]
    assert repo["path"] == f"hf:org/many@{head}" and [f["rule"] for f in repo["findings"]] == ["MH607"]
    assert "b.data" in repo["findings"][0]["message"]


def test_follow_references_shares_the_plan(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    head = hub.repo("badmoh/testfirst").commit({"backup.data": P.evil_pickle(), "config.json": "{}"})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(
        'from transformers import AutoModel\nm = AutoModel.from_pretrained("badmoh/testfirst")\n'
    )
    code, out = _cli(capsys, "app.py", "--follow-references", "--endpoint", hub.endpoint, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["hub"]["hf:badmoh/testfirst"]["verdict"] == "malicious"
    paths = {f["path"]: f for f in report["files"]}
    assert paths[f"hf:badmoh/testfirst@{head}/backup.data"]["verdict"] == "malicious"
    assert "MH710" in [f["rule"] for f in paths["app.py"]["findings"]]
    assert report["hub"]["hf:badmoh/testfirst"]["commit"] == head


def test_the_local_hf_cache_is_sniffed_from_disk(
    hub: FakeHub, capsys: pytest.CaptureFixture[str], hf_cache: Path
) -> None:
    from huggingface_hub import hf_hub_download

    head = hub.repo("badmoh/testfirst").commit({"backup.data": P.evil_pickle(), "notes.data": NOTES})
    for name in ("backup.data", "notes.data"):
        hf_hub_download("badmoh/testfirst", name, endpoint=hub.endpoint, cache_dir=hf_cache, token=False)
    hub.clear_log()
    code, out = _cli(capsys, "--hf-cache", "--format", "json")
    report = json.loads(out)
    assert hub.requests() == []
    assert code == 1 and report["hf_cache"][f"hf:badmoh/testfirst@{head}"]["verdict"] == "malicious"
    assert [f["path"] for f in report["files"]] == [f"hf:badmoh/testfirst@{head}/backup.data"]


def test_the_generated_hubs_badmoh_testfirst_is_found_in_both_files(tmp_path: Path) -> None:
    """The monitor's benchmark hub rebuilds the real case; both its pickles are now found."""
    from malhug.hub.cache import VerdictCache
    from tests.fakehub import HubSpec

    with FakeHub(generated=HubSpec(seed=0, models=300, datasets=50)) as generated:
        [case] = [c for c in generated.generated.cases if c.repo_id == "badmoh/testfirst"]
        assert {path for path, _ in case.files} == {"backup.data", "backup.pkl"}
        client = HubClient(endpoint=generated.endpoint, verdict_cache=VerdictCache(tmp_path / "v.sqlite3"))
        scan = client.scan_repo(case.repo_id, case.repo_type)
    flagged = {f.path: f.verdict for f in scan.files}
    assert flagged == {"backup.data": Verdict.MALICIOUS, "backup.pkl": Verdict.MALICIOUS}


def test_a_file_in_the_local_hf_cache_is_sniffed_from_disk_online(
    hub: FakeHub, make_client: Callable[..., HubClient], hf_cache: Path
) -> None:
    from huggingface_hub import hf_hub_download

    hub.repo("badmoh/testfirst").commit({"backup.data": P.evil_pickle(), "README.md": README})
    hf_hub_download("badmoh/testfirst", "backup.data", endpoint=hub.endpoint, cache_dir=hf_cache, token=False)
    hub.clear_log()
    scan = make_client().scan_repo("badmoh/testfirst")
    assert scan.verdict is Verdict.MALICIOUS and [f.path for f in scan.files] == ["backup.data"]
    assert _file_requests(hub, "backup.data") == [] and scan.bytes_read == 0
