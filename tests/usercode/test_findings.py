"""``analyze_user_code``: the risky loads as plain findings, as the CLI reports them and the editor shows them."""

from __future__ import annotations

from malhug.analyzers.api import analyze_user_code
from malhug.core.model import Category, Location, Severity

TEXT = """import torch, pickle
a = torch.load("a.pt")
b = torch.load(
    "b.pt",
    weights_only=False,
)
c = pickle.loads(blob)  # malhug: ignore[MH702]
"""


def test_loads_become_findings_with_one_based_locations_and_the_call_as_evidence() -> None:
    report = analyze_user_code(TEXT, path="train.py")
    got = [(f.rule, f.severity, f.category, f.location, f.evidence) for f in report.findings]
    assert got == [
        (
            "MH701",
            Severity.LOW,  # an omitted weights_only: the default changed in torch 2.6
            Category.UNSAFE_FORMAT,
            Location(line=2, column=5, end_line=2, end_column=15),
            'torch.load("a.pt")',
        ),
        (
            "MH701",
            Severity.MEDIUM,
            Category.UNSAFE_FORMAT,
            Location(line=5, column=5, end_line=5, end_column=23),
            'torch.load( "b.pt", weights_only=False, )',
        ),
    ]
    assert (
        report.findings[0].message == "torch.load without weights_only=True: unpickles arbitrary objects on torch < 2.6"
    )
    # The ignore comment hides the finding, not the structured load the editor's quick fixes use.
    assert [ld.rule for ld in report.analysis.loads] == ["MH701", "MH701", "MH702"]


def test_references_are_structured_but_not_findings_without_a_hub_scan() -> None:
    report = analyze_user_code('from transformers import AutoModel\nAutoModel.from_pretrained("org/m")\n')
    assert report.findings == []
    assert [(r.repo_id, r.id_span.line) for r in report.analysis.refs] == [("org/m", 1)]
