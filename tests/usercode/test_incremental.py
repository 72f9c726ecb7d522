"""Incremental analysis: block splitting and caching, broken blocks, and findings carried across edits."""

from __future__ import annotations

from malhug.analyzers.usercode.blocks import BlockCache, split
from malhug.analyzers.usercode.references import analyze_code
from malhug.core.model import Category, Finding, Location, Severity, TraceStep
from malhug.server.shift import shift_findings

TEXT = '''import torch
from transformers import AutoModel

@decorator
def load_it():
    """A docstring
with a column-0 line inside."""
    return AutoModel.from_pretrained("acme/one", trust_remote_code=True)

if True:
    pass
else:
    x = torch.load("a.pt")

m = AutoModel.from_pretrained("acme/two")
'''


def test_split_keeps_decorators_continuations_and_strings_together() -> None:
    lines = TEXT.split("\n")
    starts = [s for s, _ in split(lines)]
    assert lines[3] == "@decorator" and 4 not in starts  # def stays with its decorator
    assert 11 not in starts  # "else:" continues the if
    blocks = BlockCache().blocks(lines)
    assert all(not b.info.broken for b in blocks)  # the docstring's column-0 line was merged back


def test_cache_reuses_unchanged_blocks_and_positions_follow_edits() -> None:
    cache = BlockCache()
    first = analyze_code(TEXT, cache)
    assert [r.repo_id for r in first.refs] == ["acme/one", "acme/two"]
    parsed = len(cache._cache)
    edited = TEXT.replace("import torch\n", "import torch\nimport os\n")
    second = analyze_code(edited, cache)
    assert len(cache._cache) <= parsed + 2  # only the edited block is new
    assert [r.id_span.line for r in second.refs] == [r.id_span.line + 1 for r in first.refs]
    assert [ld.rule for ld in second.loads] == ["MH706", "MH701"]


def test_a_broken_block_does_not_hide_the_others() -> None:
    broken = TEXT.replace('    x = torch.load("a.pt")', '    x = torch.load("a.pt"')
    result = analyze_code(broken)
    assert result.syntax_error is not None
    two = next(r for r in result.refs if r.repo_id == "acme/two")
    assert two.call is not None  # parsed precisely, quick fixes still possible
    assert "MH701" in [ld.rule for ld in result.loads]  # the broken block is scanned line by line


def _finding(line: int, trace_line: int | None = None) -> Finding:
    trace = (TraceStep("step", Location(line=trace_line, column=1)),) if trace_line else ()
    return Finding(
        "MH501",
        Severity.HIGH,
        Category.COMMAND_EXEC,
        "m",
        Location(line=line, column=1, end_line=line, end_column=5),
        trace=trace,
    )


def test_shift_findings_around_an_edit() -> None:
    old = ["a", "b", "c", "d", "e"]
    new = ["a", "b", "X", "Y", "d", "e"]  # line 3 replaced by two lines
    shifted = shift_findings(old, new, [_finding(1), _finding(3), _finding(5, trace_line=4), _finding(5, trace_line=3)])
    assert [(f.location.line, f.location.end_line) for f in shifted] == [(1, 1), (6, 6)]
    assert shifted[1].trace[0].location.line == 5
    assert shift_findings(old, old, [_finding(3)]) == [_finding(3)]


def test_cache_stays_bounded_while_one_block_is_edited() -> None:
    cache = BlockCache(spare=4)
    lines = TEXT.split("\n")
    for n in range(50):
        lines[-2] = f'm = AutoModel.from_pretrained("acme/two", revision="v{n}")'
        analyze_code("\n".join(lines), cache)
    assert len(cache._cache) <= len(split(lines)) + 4
