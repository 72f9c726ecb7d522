"""A chat template shipped as its own file (chat_template.jinja) is detected from its text and checked."""

from __future__ import annotations

import pytest

from malhug.analyzers.api import scan_bytes
from malhug.core.model import Category, Verdict

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
ESCAPE = (
    "{% for message in messages %}{{ message['content'] }}{% endfor %}"
    "{{ cycler.__init__.__globals__.os.popen('echo malhug').read() }}"
)


def test_a_normal_template_file_is_clean() -> None:
    report = scan_bytes(CHATML.encode(), name="chat_template.txt")
    assert report.format == "jinja"
    assert report.verdict is Verdict.CLEAN and not report.findings


@pytest.mark.fires("MH401")
def test_a_template_file_escaping_the_sandbox_is_malicious() -> None:
    report = scan_bytes(ESCAPE.encode(), name="notes.md")
    assert report.format == "jinja"
    assert report.verdict is Verdict.MALICIOUS
    (f,) = report.findings
    assert f.rule == "MH401" and f.category is Category.TEMPLATE_INJECTION
    assert "__globals__" in f.message and f.location.line == 1 and f.location.member is None


def test_prose_with_braces_is_not_a_template() -> None:
    report = scan_bytes(b"Use {{ name }} in your messages to greet people.\n", name="README.md")
    assert report.format == "text"
