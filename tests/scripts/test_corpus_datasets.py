"""The 9 malicious dataset loading scripts of the MalHug corpus: detected, categorised, located."""

from __future__ import annotations

import pytest

from malhug.analyzers import formats
from malhug.analyzers.dispatch import scan_source
from malhug.analyzers.scripts.analyzer import analyze_text
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import Category, Severity, Verdict
from tests.scripts.corpus_scripts import CORPUS_SCRIPTS
from tests.scripts.helpers import by_rule, column_of, line_of, top_category

EXPECTED = {
    "guaixiaomei/teyd": Category.REVERSE_SHELL,
    "MustafaSuleyman/real-toxicity-prompts": Category.REVERSE_SHELL,
    "paclove/test": Category.COMMAND_EXEC,
    "paclove/test2": Category.EXFILTRATION,
    "Yash2998db/stan_small": Category.CREDENTIAL_THEFT,
    "sweis/script_executing": Category.CREDENTIAL_THEFT,
    "georgetowngeronimo/ops2": Category.RECON,
    "Aur0ra/test": Category.COMMAND_EXEC,
    "Besthpz/best": Category.CREDENTIAL_THEFT,
}


def test_every_dataset_row_is_reproduced() -> None:
    assert set(CORPUS_SCRIPTS) == set(EXPECTED)


@pytest.mark.parametrize("repo", sorted(EXPECTED))
def test_detected_with_category_and_malicious_verdict(repo: str) -> None:
    code = CORPUS_SCRIPTS[repo]
    findings = analyze_text(code, f"{repo}/script.py")
    assert top_category(findings) is EXPECTED[repo], [(f.rule, f.category.value, f.message) for f in findings]
    report = scan_source(BytesSource(code.encode()), name=f"{repo}.py", format_hint=formats.PYTHON)
    assert report.verdict is Verdict.MALICIOUS
    assert report.format == formats.PYTHON
    for f in findings:
        assert f.location.line is not None and f.location.column is not None and f.location.end_line is not None


def test_teyd_recv_exec_loop_is_a_reverse_shell_with_trace() -> None:
    code = CORPUS_SCRIPTS["guaixiaomei/teyd"]
    (shell,) = by_rule(analyze_text(code), "MH501")
    assert shell.severity is Severity.CRITICAL
    assert shell.location.line == line_of(code, "subprocess.getoutput(command)")
    assert shell.location.column == column_of(code, "subprocess.getoutput(command)")
    assert shell.evidence == "subprocess.getoutput(command)"
    lines = [s.location.line for s in shell.trace]
    assert lines[0] == line_of(code, "client_socket.connect(")
    assert line_of(code, "client_socket.recv(1024)") in lines
    assert lines[-1] == shell.location.line
    assert "runs on import" in shell.message
    (sent,) = by_rule(analyze_text(code), "MH503")
    assert sent.location.line == line_of(code, "client_socket.send(output.encode())")
    assert sent.trace[0].location.line == line_of(code, "subprocess.getoutput(command)")


def test_real_toxicity_prompts_dup2_shell() -> None:
    code = CORPUS_SCRIPTS["MustafaSuleyman/real-toxicity-prompts"]
    (shell,) = by_rule(analyze_text(code), "MH501")
    assert shell.location.line == line_of(code, 'subprocess.call(["/bin/sh","-i"])')
    assert [s.location.line for s in shell.trace] == [
        line_of(code, "s.connect("),
        line_of(code, "os.dup2(s.fileno(),0)"),
        shell.location.line,
    ]


def test_paclove_test_runs_a_program() -> None:
    code = CORPUS_SCRIPTS["paclove/test"]
    (run,) = by_rule(analyze_text(code), "MH505")
    assert run.category is Category.COMMAND_EXEC and run.severity is Severity.HIGH
    assert "Calculator" in run.message


def test_paclove_test2_curl_beacon_is_exfiltration() -> None:
    code = CORPUS_SCRIPTS["paclove/test2"]
    (run,) = by_rule(analyze_text(code), "MH505")
    assert run.category is Category.EXFILTRATION
    assert "bare IP address 127.0.0.1" in run.message


def test_stan_small_builder_init_pipes_process_list_to_curl() -> None:
    code = CORPUS_SCRIPTS["Yash2998db/stan_small"]
    findings = analyze_text(code)
    (run,) = by_rule(findings, "MH505")
    assert run.location.line == line_of(code, "subprocess.check_output(")
    assert run.category is Category.CREDENTIAL_THEFT and run.severity is Severity.CRITICAL
    assert "runs when the dataset is loaded: StanSmall.__init__" in run.message
    assert "ps auxww" in run.message and "sends local data" in run.message


def test_script_executing_posts_etc_passwd_with_trace() -> None:
    code = CORPUS_SCRIPTS["sweis/script_executing"]
    findings = analyze_text(code)
    (cat,) = by_rule(findings, "MH505")
    assert cat.category is Category.CREDENTIAL_THEFT and "/etc/passwd" in cat.message
    (post,) = by_rule(findings, "MH503")
    assert post.category is Category.CREDENTIAL_THEFT and post.severity is Severity.CRITICAL
    assert post.location.line == line_of(code, "requests.post(")
    assert [s.location.line for s in post.trace] == [line_of(code, 'subprocess.run(["cat"')] * 2 + [post.location.line]
    assert "ScriptExecuting._info" in post.message


def test_ops2_id_is_recon_at_exact_position() -> None:
    code = CORPUS_SCRIPTS["georgetowngeronimo/ops2"]
    findings = analyze_text(code)
    (run,) = by_rule(findings, "MH505")
    assert run.category is Category.RECON
    assert (run.location.line, run.location.column, run.location.end_line, run.location.end_column) == (4, 7, 4, 22)
    assert run.evidence == "os.system('id')"
    assert not by_rule(findings, "MH502"), "the XXE string is data, not a file access"


def test_aur0ra_open_calculator() -> None:
    (run,) = by_rule(analyze_text(CORPUS_SCRIPTS["Aur0ra/test"]), "MH505")
    assert run.category is Category.COMMAND_EXEC and "open -a Calculator" in run.evidence


def test_besthpz_browser_stealer_trace_to_webhook() -> None:
    code = CORPUS_SCRIPTS["Besthpz/best"]
    findings = analyze_text(code)
    reads = by_rule(findings, "MH502")
    assert {f.location.line for f in reads} >= {
        line_of(code, "shutil.copy(Paths.local_state_path"),
        line_of(code, "shutil.copy(Paths.logindata_path"),
        line_of(code, "sqlite3.connect(Paths.loginData)"),
    }
    (sent,) = by_rule(findings, "MH503")
    assert sent.category is Category.CREDENTIAL_THEFT
    assert sent.location.line == line_of(code, "requests.post(webhookURL")
    messages = [s.message for s in sent.trace]
    assert any("stealPass" in m for m in messages) and any("sendToWebhook" in m for m in messages)
    assert sent.trace[0].location.line == line_of(code, "sqlite3.connect(Paths.loginData)")
