"""Chat-template sandbox-escape detection (parse only, never render)."""

from __future__ import annotations

import pytest

from malhug.analyzers.context import ScanContext
from malhug.analyzers.modelformats.chat_template import check_template
from malhug.core.model import Category, Severity
from tests.formats.templates import BENIGN, SSTI


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_real_templates_are_clean(name: str) -> None:
    ctx = ScanContext()
    assert check_template(ctx, BENIGN[name], "tokenizer.chat_template") is False
    assert ctx.findings == []


@pytest.mark.fires("MH401")
@pytest.mark.parametrize("name", sorted(SSTI))
def test_sandbox_escapes_are_template_injection(name: str) -> None:
    ctx = ScanContext()
    assert check_template(ctx, SSTI[name], "tokenizer.chat_template") is True
    [f] = ctx.findings
    assert f.rule == "MH401"
    assert f.category is Category.TEMPLATE_INJECTION
    assert f.severity >= Severity.HIGH
    assert f.location.member == "tokenizer.chat_template"
    assert f.location.line is not None


def test_message_names_the_escape_and_line() -> None:
    ctx = ScanContext()
    check_template(ctx, SSTI["joiner-os"], "chat_template")
    [f] = ctx.findings
    assert f.severity is Severity.CRITICAL
    assert "__globals__" in f.message and "popen" in f.message and "joiner" in f.message
    assert f.location.line == 2
    assert "joiner.__init__" in f.evidence


def test_folded_names_are_reported() -> None:
    ctx = ScanContext()
    check_template(ctx, SSTI["set-reverse"], "t")
    assert "__class__" in ctx.findings[0].message


@pytest.mark.fires("MH402")
def test_unparseable_template_is_suspicious() -> None:
    ctx = ScanContext()
    assert check_template(ctx, "{% for m in messages %}{{ m.content }", "tokenizer.chat_template") is True
    [f] = ctx.findings
    assert f.rule == "MH402"
    assert f.severity is Severity.MEDIUM


@pytest.mark.quiet("MH401")
def test_dunder_text_and_method_calls_are_no_escape() -> None:
    # MH401 fires on attribute chains like m.__class__.__init__.__globals__; here the dunder name is
    # text and the method called is an ordinary string method.
    template = '{{ "never call m.__class__ here" }}{% for m in messages %}{{ m.content.strip() | upper }}{% endfor %}'
    ctx = ScanContext()
    assert check_template(ctx, template, "tokenizer.chat_template") is False
    assert "MH401" not in {f.rule for f in ctx.findings}


@pytest.mark.quiet("MH402")
def test_the_same_template_closed_parses() -> None:
    # MH402 fires on "{% for m in messages %}{{ m.content }" (one brace missing).
    ctx = ScanContext()
    assert check_template(ctx, "{% for m in messages %}{{ m.content }}{% endfor %}", "tokenizer.chat_template") is False
    assert "MH402" not in {f.rule for f in ctx.findings}
