"""``malhug scan --follow-references``: the Hub ids the code loads, scanned once each, against the fake Hub.

The repositories are poisoned with pickles built from opcodes (tests/hub/payloads.py), never loaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from malhug.cli import main
from tests.fakehub import FakeHub
from tests.hub import payloads as P
from tests.usercode.fixtures import notebook

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers

CONFIG = "{}"
REMOTE_CODE = {
    "config.json": json.dumps({"auto_map": {"AutoModel": "modeling_x.XModel"}}),
    "modeling_x.py": "class XModel:\n    pass\n",
}


def follow(capsys: pytest.CaptureFixture[str], hub: FakeHub, *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", *args, "--follow-references", "--endpoint", hub.endpoint, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def ref_findings(report: dict[str, Any], path: Path) -> list[tuple[str, int, int]]:
    (file,) = [f for f in report["files"] if f["path"] == str(path)]
    return [
        (f["rule"], f["location"]["line"], f["location"]["column"]) for f in file["findings"] if f["rule"] >= "MH707"
    ]


def poisoned(hub: FakeHub) -> tuple[str, str]:
    repo = hub.repo("org/evil")
    clean = repo.commit({"config.json": CONFIG, "pytorch_model.bin": P.torch_zip(P.benign_pickle())}, title="init")
    head = repo.commit({"pytorch_model.bin": P.torch_zip(P.evil_pickle())}, title="weights")
    return clean, head


@pytest.mark.quiet("MH710", "MH712")
def test_a_clean_repository_gives_nothing_and_exit_0(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = hub.repo("org/clean").commit(
        {"config.json": CONFIG, "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "}
    )
    path = tmp_path / "app.py"
    path.write_text('from transformers import AutoModel\nm = AutoModel.from_pretrained("org/clean")\n')
    code, report = follow(capsys, hub, str(path))
    assert code == 0, report
    assert ref_findings(report, path) == []
    assert not any(r in ("MH710", "MH712") for f in report["files"] for r in [x["rule"] for x in f["findings"]])
    assert report["hub"]["hf:org/clean"]["commit"] == head and report["hub"]["hf:org/clean"]["verdict"] == "clean"


@pytest.mark.fires("MH710")
@pytest.mark.quiet("MH710")
def test_poisoned_head_is_mh710_at_the_reference_and_a_clean_pin_is_not(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean, head = poisoned(hub)
    path = tmp_path / "app.py"
    path.write_text(
        "from transformers import AutoModel\n"
        'a = AutoModel.from_pretrained("org/evil")\n'
        f'b = AutoModel.from_pretrained("org/evil", revision="{clean}")\n'
        'c = AutoModel.from_pretrained("org/evil")  # the same repository and revision: scanned once\n'
    )
    code, report = follow(capsys, hub, str(path))
    assert code == 1
    assert ref_findings(report, path) == [("MH710", 2, 31), ("MH710", 4, 31)]
    (file,) = [f for f in report["files"] if f["path"] == str(path)]
    mh710 = file["findings"][0]
    assert mh710["severity"] == "critical" and mh710["category"] == "command-exec"  # the file's category
    assert mh710["message"].startswith(f"org/evil@{head[:12]} is malicious: ")
    assert "because pytorch_model.bin: MH1" in mh710["message"] and "[MH1" not in mh710["message"]
    assert set(report["hub"]) == {"hf:org/evil", f"hf:org/evil@{clean}"}
    assert report["hub"]["hf:org/evil"]["verdict"] == "malicious"
    assert report["hub"][f"hf:org/evil@{clean}"]["verdict"] == "clean"
    # The repository's own files are reported as `scan hf:` reports them.
    assert f"hf:org/evil@{head}/pytorch_model.bin" in {f["path"] for f in report["files"]}
    # Two revisions asked for, so two revision look-ups: the repeated reference is not scanned again.
    assert (
        len(
            hub.requests(
                lambda r: r.path.split("?")[0] in ("/api/models/org/evil", f"/api/models/org/evil/revision/{clean}")
            )
        )
        == 2
    )


@pytest.mark.fires("MH712")
def test_gated_and_missing_repositories_are_mh712_and_not_clean(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.repo("org/gated", gated="manual", tokens=["hf_ok"]).commit({"config.json": CONFIG})
    path = tmp_path / "app.py"
    path.write_text(
        "from transformers import AutoModel\n"
        'a = AutoModel.from_pretrained("org/gated")\n'
        'b = AutoModel.from_pretrained("org/missing")\n'
    )
    code, report = follow(capsys, hub, str(path))
    assert code == 1
    assert ref_findings(report, path) == [("MH712", 2, 31), ("MH712", 3, 31)]
    (file,) = [f for f in report["files"] if f["path"] == str(path)]
    gated, missing = file["findings"][0], file["findings"][1]
    assert gated["message"].startswith("org/gated: could not be checked (gated): ")
    assert missing["message"].startswith("org/missing: could not be checked (not-found): ")
    assert report["hub"]["hf:org/gated"]["error_kind"] == "gated"
    assert {f["path"]: f["verdict"] for f in report["files"] if f["path"].startswith("hf:")} == {
        "hf:org/gated": "error",
        "hf:org/missing": "error",
    }


def test_rate_limited_hub_is_mh712_with_the_reason(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.repo("org/m").commit({"config.json": CONFIG})
    hub.fail_next(50, status=429, retry_after=0, match="/api/")
    path = tmp_path / "app.py"
    path.write_text('from transformers import AutoModel\nAutoModel.from_pretrained("org/m")\n')
    code, report = follow(capsys, hub, str(path))
    assert code == 1
    (file,) = [f for f in report["files"] if f["path"] == str(path)]
    assert [(f["rule"], f["location"]["line"]) for f in file["findings"]] == [("MH712", 2)]
    assert "(rate-limited)" in file["findings"][0]["message"]


@pytest.mark.fires("MH707")
@pytest.mark.quiet("MH707")
def test_unpinned_repository_that_ships_code_is_mh707(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = hub.repo("org/remote").commit(REMOTE_CODE)
    path = tmp_path / "app.py"
    path.write_text(
        "from transformers import AutoModel\n"
        'a = AutoModel.from_pretrained("org/remote")\n'
        f'b = AutoModel.from_pretrained("org/remote", revision="{head}")\n'
    )
    _, report = follow(capsys, hub, str(path))
    assert [r for r in ref_findings(report, path) if r[0] == "MH707"] == [("MH707", 2, 31)]


def test_offline_uses_the_verdict_cache_only(hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    poisoned(hub)
    path = tmp_path / "app.py"
    path.write_text('from transformers import AutoModel\nAutoModel.from_pretrained("org/evil")\n')
    code, report = follow(capsys, hub, str(path), "--offline")
    assert code == 1 and ref_findings(report, path) == [("MH712", 2, 27)]  # nothing cached yet
    assert report["hub"]["hf:org/evil"]["error_kind"] == "offline"
    assert "org/evil: could not be checked (offline): " in report["files"][0]["findings"][0]["message"]
    follow(capsys, hub, str(path))  # online: fills the verdict cache
    hub.clear_log()
    code, report = follow(capsys, hub, str(path), "--offline")
    assert code == 1 and ref_findings(report, path) == [("MH710", 2, 27)]
    assert hub.requests(lambda r: True) == []


def test_notebook_references_and_local_folders(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    poisoned(hub)
    (tmp_path / "org" / "evil").mkdir(parents=True)  # a folder next to the code: loaders read it, not the Hub
    nb = tmp_path / "nb.ipynb"
    nb.write_text(notebook('from transformers import AutoModel\nm = AutoModel.from_pretrained("org/evil")\n'))
    code, report = follow(capsys, hub, str(nb))
    assert code == 0 and "hub" not in report
    (tmp_path / "org" / "evil").rmdir()
    code, report = follow(capsys, hub, str(nb))
    (file,) = [f for f in report["files"] if f["path"] == str(nb)]
    assert code == 1
    assert [(f["rule"], f["location"]["member"], f["location"]["line"]) for f in file["findings"]] == [
        ("MH710", "cell 2", 2)
    ]


def test_without_the_option_no_reference_is_followed(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    poisoned(hub)
    path = tmp_path / "app.py"
    path.write_text('from transformers import AutoModel\nAutoModel.from_pretrained("org/evil")\n')
    code = main(["scan", str(path), "--endpoint", hub.endpoint, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and "hub" not in report and hub.requests(lambda r: True) == []


def test_follow_references_in_sarif(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import jsonschema

    from tests.output.test_sarif import github_problems, schema

    _, head = poisoned(hub)
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text('from transformers import AutoModel\nm = AutoModel.from_pretrained("org/evil")\n')
    main(["scan", "app.py", "--follow-references", "--endpoint", hub.endpoint, "--format", "sarif"])
    log = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(schema()).validate(log)
    assert github_problems(log) == []
    results = log["runs"][0]["results"]
    (ref,) = [r for r in results if r["ruleId"] == "MH710"]
    assert ref["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app.py"
    assert ref["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    hub_uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} - {"app.py"}
    assert hub_uris == {f"hf/org/evil@{head}/pytorch_model.bin"}


@pytest.mark.fires("MH712")
def test_an_id_the_hub_cannot_have_is_mh712_without_a_request(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "app.py"
    path.write_text(
        'from transformers import AutoModel\nm = AutoModel.from_pretrained("org/a--b")\nn = AutoModel.from_pretrained("./local/ckpt")\n'
    )
    code, report = follow(capsys, hub, str(path))
    assert code == 1
    (file,) = [f for f in report["files"] if f["path"] == str(path)]
    assert [(f["rule"], f["location"]["line"]) for f in file["findings"]] == [("MH712", 2)]  # the path is no reference
    assert "not a valid model id: 'org/a--b'" in file["findings"][0]["message"]
    assert hub.requests(lambda r: True) == []
