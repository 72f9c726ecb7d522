"""Fuzz target: chat templates (``analyzers/modelformats/chat_template.py``), on their own, inside
``tokenizer_config.json`` and as ``chat_template.jinja``."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from malhug.analyzers.context import ScanContext
from malhug.analyzers.modelformats.chat_template import check_template
from tests.fuzz.harness import FUZZ_LIMITS, check_parser, check_scan, count_deadline_checks
from tests.fuzz.mutate import mutated
from tests.fuzz.seeds import BENIGN_TEMPLATES, malicious_templates

_NAMES = st.sampled_from(("messages", "message", "m", "cycler", "joiner", "namespace", "lipsum", "self", "range", "x"))
_ATTRS = st.sampled_from(
    ("content", "role", "__class__", "__globals__", "__init__", "os", "popen", "_private", "items")
)
_FRAGMENTS = st.sampled_from(
    (
        "{% for m in messages %}",
        "{% endfor %}",
        "{% if x %}",
        "{% else %}",
        "{% endif %}",
        "{% set y = ",
        " %}",
        "{{ ",
        " }}",
        "{# c #}",
        "{%- raw -%}",
        "{%- endraw -%}",
        "{% macro f(a) %}",
        "{% endmacro %}",
        "{% generation %}",
        "{% endgeneration %}",
        "|attr(",
        ")",
        "(",
        "[",
        "]",
        "'__cla' ~ 'ss__'",
        "|join",
        "|reverse",
        " + ",
        " * 3",
        ".",
        "'",
        '"',
        "\n",
        "{% set a = 'ab' %}",
        "{% set a = a + a %}",
        "{% set a = a * 64 %}",
        "|replace('', a)",
        "[a, a]|join(a)",
    )
)


@st.composite
def templates(draw: st.DrawFn) -> str:
    """Templates assembled from Jinja fragments, names and attributes (mostly broken, some escapes)."""
    parts = draw(st.lists(_FRAGMENTS | _NAMES | _ATTRS | st.text(max_size=6), max_size=40))
    return "".join(parts)


def _check(source: bytes | str) -> object:
    assert isinstance(source, str)
    return check_template(ScanContext(limits=FUZZ_LIMITS), source, None)


_SEEDS = tuple(t.encode() for t in (*BENIGN_TEMPLATES, *malicious_templates()))


@given(templates())
def test_generated_templates_are_handled(source: str) -> None:
    check_parser("jinja", source, _check)


@given(mutated(_SEEDS).map(lambda b: b.decode("utf-8", "replace")))
def test_mutated_templates_are_handled(source: str) -> None:
    check_parser("jinja", source, _check)


@given(st.integers(1, 3000))
def test_deep_nesting_is_bounded(depth: int) -> None:
    check_parser("jinja", "{{ " + "(" * depth + "x" + ")" * depth + " }}", _check)
    check_parser("jinja", "{% if x %}" * depth + "{% endif %}" * depth, _check)


@given(st.sampled_from(malicious_templates()), st.sampled_from(BENIGN_TEMPLATES), st.text(max_size=40), st.booleans())
def test_an_escape_is_found_inside_any_benign_template(evil: str, benign: str, text: str, as_list: bool) -> None:
    source = benign + text.replace("{", "").replace("}", "") + evil
    value: object = [{"name": "default", "template": source}] if as_list else source
    config = json.dumps({"bos_token": "<s>", "chat_template": value}).encode()
    check_scan("jinja", config, name="tokenizer_config.json", must_flag=True)


# --- inputs found while fuzzing (analyzers/modelformats/chat_template.py) ---------------------------

FOLDING_BOMBS = {
    "doubling": "{% set a = 'xxxxxxxx' %}" + "{% set a = a + a %}" * 16,
    "repetition": "{% set a = 'xxxxxxxx' * 64 %}{% set b = a * 64 %}{% set c = b * 64 %}",
    "replace": "{% set a = 'x' * 60 %}{% set b = a|replace('', a) %}{% set b = b|replace('', b) %}",
    "join": "{% set a = 'x' * 64 %}{% set a = [a, a, a, a]|join(a) %}" + "{% set a = [a, a, a, a]|join(a) %}" * 5,
}


@pytest.mark.parametrize("source", FOLDING_BOMBS.values(), ids=FOLDING_BOMBS.keys())
def test_constant_folding_is_bounded(source: str) -> None:
    """A few hundred bytes of ``{% set %}`` used to make the escape check build strings of gigabytes
    (each doubling or ``* 64`` multiplied the memory); now the template is refused with MH902."""
    config = json.dumps({"chat_template": source}).encode()
    report = check_scan("jinja", config, name="tokenizer_config.json", must_flag=True)
    limits = [f for f in report.findings if f.rule == "MH902"]
    assert limits and "chat template constant" in limits[0].message


def test_folding_still_finds_names_built_from_parts() -> None:
    source = "{% set k = '__cla' + 'ss__' %}{% set m = ['__m', 'ro__']|join('') %}{{ ''[k][m] }}"
    report = check_scan("jinja", json.dumps({"chat_template": source}).encode(), name="tokenizer_config.json")
    assert [f.rule for f in report.findings] == ["MH401"]
    assert "__class__" in report.findings[0].message and "__mro__" in report.findings[0].message


def test_the_deadline_is_checked_before_every_template_of_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = count_deadline_checks(monkeypatch)
    templates = [{"name": f"t{i}", "template": BENIGN_TEMPLATES[0]} for i in range(30)]
    check_scan("jinja", json.dumps({"chat_template": templates}).encode(), name="tokenizer_config.json")
    assert len(checks) >= 30
