"""``assess_python`` / ``assess_shell``: what a constant code string would do if it ran.

The pickle, Keras and GGUF analyzers call these (through ``ScanContext.seams``) with the
payloads they find; the script analysis calls them for constant arguments of ``exec`` and
``os.system``. Locations in the findings are relative to the code string.
"""

from __future__ import annotations

from malhug.analyzers.scripts import relevance
from malhug.analyzers.scripts.budget import Budget
from malhug.analyzers.scripts.indicators import Indicator, worst_severity
from malhug.analyzers.scripts.shell import analyze_shell
from malhug.analyzers.shared.embedded import CodeAssessment, most_specific
from malhug.core.model import Finding, Location, Severity
from malhug.core.rules import finding

MAX_CODE = 1 << 20
MAX_NESTED_CODE = 256 << 10  # a payload decoded inside another is analyzed up to this size


def python_indicators(code: str, depth: int, budget: Budget | None = None) -> list[Indicator]:
    """Indicators of a Python payload (the taint engine in embedded mode)."""
    if budget is None:
        code = code[:MAX_CODE]
        survey = relevance.survey(code)
        if survey is not None and survey.nothing_to_find:
            return []
        from malhug.analyzers.scripts.engine import analyze_code

        return [f.indicator for f in analyze_code(code, embedded=True, depth=depth, survey=survey).findings]
    key = (code, depth)
    if key in budget.memo:
        return budget.memo[key]
    budget.check_time()
    code = code[:MAX_NESTED_CODE]
    survey = relevance.survey(code)
    if survey is not None and survey.nothing_to_find:
        budget.memo[key] = []
        return []
    if not budget.take_nested():
        return []
    from malhug.analyzers.scripts.engine import analyze_code

    found = [f.indicator for f in analyze_code(code, embedded=True, depth=depth, budget=budget, survey=survey).findings]
    budget.memo[key] = found
    return found


def _assessment(indicators: list[Indicator], findings: tuple[Finding, ...]) -> CodeAssessment:
    risky = [i for i in indicators if i.severity > Severity.INFO]
    if not risky:
        return CodeAssessment(findings=findings)
    category = most_specific([i.category for i in risky])
    reasons: list[str] = []
    for ind in sorted(risky, key=lambda i: -i.severity.rank):
        if ind.message not in reasons:
            reasons.append(ind.message)
    return CodeAssessment(
        category=category, severity=worst_severity(risky), indicators=tuple(reasons[:12]), findings=findings
    )


def assess_python(code: str, *, origin: str = "<embedded>", depth: int = 0, detail: bool = True) -> CodeAssessment:
    code = code[:MAX_CODE]
    survey = relevance.survey(code)
    if survey is not None and survey.nothing_to_find:
        return CodeAssessment()  # what the engine gives such code, without importing libcst
    from malhug.analyzers.scripts.engine import analyze_code

    result = analyze_code(code, embedded=True, depth=depth, path=origin, survey=survey)
    return _assessment([f.indicator for f in result.findings], tuple(result.to_findings()) if detail else ())


def assess_shell(command: str, *, origin: str = "<embedded>", depth: int = 0) -> CodeAssessment:
    budget = Budget()
    indicators = analyze_shell(command, depth=depth, assess_python=lambda code, d: python_indicators(code, d, budget))
    findings = tuple(
        finding(
            i.rule,
            i.message,
            location=Location(member=None, line=1, column=1),
            evidence=i.evidence,
            severity=i.severity,
            category=i.category,
        )
        for i in indicators
    )
    return _assessment(indicators, findings)
