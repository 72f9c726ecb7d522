"""Quick-fix edits: minimal, formatting-preserving, and correct Python afterwards."""

from __future__ import annotations

import ast

import pytest

from malhug.analyzers.usercode import edits
from malhug.analyzers.usercode.references import analyze_code
from malhug.analyzers.usercode.spans import SourceLines, Span


def apply(text: str, changes: list[tuple[Span, str]]) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    flat = [(offsets[s.line] + s.col, offsets[s.end_line] + s.end_col, new) for s, new in changes]
    for start, end, new in sorted(flat, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _call(text: str):  # type: ignore[no-untyped-def]
    result = analyze_code(text)
    call = (result.refs[0].call if result.refs else None) or result.loads[0].call
    assert call is not None
    return call, SourceLines(text)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('m = AutoModel.from_pretrained("o/m")\n', 'm = AutoModel.from_pretrained("o/m", revision="SHA")\n'),
        (
            'm = AutoModel.from_pretrained("o/m", revision="main")\n',
            'm = AutoModel.from_pretrained("o/m", revision="SHA")\n',
        ),
        (
            'm = AutoModel.from_pretrained(\n    "o/m",\n    torch_dtype="auto",\n)\n',
            'm = AutoModel.from_pretrained(\n    "o/m",\n    torch_dtype="auto",\n    revision="SHA",\n)\n',
        ),
        (
            'm = AutoModel.from_pretrained(\n    "o/m", device_map="auto"\n)\n',
            'm = AutoModel.from_pretrained(\n    "o/m", device_map="auto", revision="SHA"\n)\n',
        ),
        ('m = AutoModel.from_pretrained("o/m",)\n', 'm = AutoModel.from_pretrained("o/m", revision="SHA",)\n'),
    ],
)
def test_set_revision_keeps_layout(before: str, after: str) -> None:
    call, src = _call(before)
    result = apply(before, edits.set_keyword(call, src, "revision", '"SHA"'))
    assert result == after
    ast.parse(result)


def test_add_keyword_to_an_empty_call() -> None:
    text = "x = torch.load()\n"
    call, src = _call("import torch\n" + text)
    assert apply("import torch\n" + text, edits.add_keyword(call, src, "weights_only", "True")) == (
        "import torch\nx = torch.load(weights_only=True)\n"
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('f = A.from_pretrained("o/m", trust_remote_code=True)\n', 'f = A.from_pretrained("o/m")\n'),
        (
            'f = A.from_pretrained("o/m", trust_remote_code=True, revision="x")\n',
            'f = A.from_pretrained("o/m", revision="x")\n',
        ),
        (
            'f = A.from_pretrained(\n    "o/m",\n    trust_remote_code=True,\n)\n',
            'f = A.from_pretrained(\n    "o/m",\n)\n',
        ),
        ("f = A.from_pretrained(trust_remote_code=True)\n", "f = A.from_pretrained()\n"),
        (
            'f = A.from_pretrained(trust_remote_code=True, pretrained_model_name_or_path="o/m")\n',
            'f = A.from_pretrained(pretrained_model_name_or_path="o/m")\n',
        ),
    ],
)
def test_remove_trust_remote_code_with_its_comma(before: str, after: str) -> None:
    result = analyze_code(before)
    call = next(ld.call for ld in result.loads if ld.rule == "MH706")
    assert call is not None
    out = apply(before, edits.remove_keyword(call, SourceLines(before), "trust_remote_code"))
    assert out == after
    ast.parse(out)


def test_ignore_comment_added_or_extended() -> None:
    src = SourceLines("x = torch.load(p)\ny = pickle.load(f)  # malhug: ignore[MH701]\nz = 1  # malhug: ignore\n")
    assert apply(src.text, edits.ignore_comment(src, 0, "MH701")).split("\n")[0] == (
        "x = torch.load(p)  # malhug: ignore[MH701]"
    )
    assert apply(src.text, edits.ignore_comment(src, 1, "MH702")).split("\n")[1] == (
        "y = pickle.load(f)  # malhug: ignore[MH701, MH702]"
    )
    assert edits.ignore_comment(src, 1, "MH701") == []  # already ignored
    assert edits.ignore_comment(src, 2, "MH999") == []  # a bare ignore covers every rule


def test_quote_style_follows_the_id_literal() -> None:
    src = SourceLines("m = A.from_pretrained('o/m')\n")
    assert edits.quote_like(src, Span(0, 22, 0, 27), "abc") == "'abc'"
    assert edits.quote_like(src, None, "abc") == '"abc"'
