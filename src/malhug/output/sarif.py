"""SARIF 2.1.0 that GitHub code scanning accepts; rule metadata comes from the one catalog."""

from __future__ import annotations

from typing import Any

from malhug import __version__
from malhug.core.model import FileReport, Finding, ScanReport, Severity, sort_findings
from malhug.core.rules import CATALOG

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub reads security-severity (0.0-10.0) to rank alerts.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def _rule(rule_id: str) -> dict[str, Any]:
    r = CATALOG[rule_id]
    return {
        "id": r.id,
        "name": r.title.title().replace(" ", "").replace("-", ""),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.rationale},
        "help": {
            "text": r.remediation,
            "markdown": f"**{r.title}**\n\n{r.rationale}\n\n*Remediation:* {r.remediation}",
        },
        "helpUri": r.docs_url,
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
        "properties": {
            "tags": ["security", r.category.value],
            "security-severity": _SECURITY_SEVERITY[r.severity],
        },
    }


def _physical(file: FileReport, f: Finding) -> dict[str, Any]:
    loc: dict[str, Any] = {"artifactLocation": {"uri": file.path.replace("\\", "/")}}
    if f.location.line:
        region: dict[str, Any] = {"startLine": f.location.line}
        if f.location.column:
            region["startColumn"] = f.location.column
        if f.location.end_line:
            region["endLine"] = f.location.end_line
            if f.location.end_column:
                region["endColumn"] = f.location.end_column
        loc["region"] = region
    elif f.location.offset is not None and f.location.member is None:
        loc["region"] = {"byteOffset": f.location.offset}
    return loc


def _result(file: FileReport, f: Finding, index: dict[str, int]) -> dict[str, Any]:
    where = f" in {f.location.member}" if f.location.member else ""
    text = f"{f.message}{where}"
    if f.evidence:
        text += f" — evidence: {f.evidence[:300]}"
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": _physical(file, f)}],
        "properties": {
            "category": f.category.value,
            "severity": f.severity.value,
            "member": f.location.member,
            "offset": f.location.offset,
            "evidence": f.evidence,
            "verdict": file.verdict.value,
        },
        "partialFingerprints": {
            "malhug/v1": f"{file.sha256 or file.path}:{f.rule}:{f.location.member}:{f.location.offset}:{f.location.line}"
        },
    }
    if f.trace:
        result["codeFlows"] = [
            {
                "threadFlows": [
                    {
                        "locations": [
                            {
                                "location": {
                                    "physicalLocation": _physical(
                                        file, Finding(f.rule, f.severity, f.category, s.message, s.location)
                                    ),
                                    "message": {"text": s.message},
                                }
                            }
                            for s in f.trace
                        ]
                    }
                ]
            }
        ]
    return result


def render(report: ScanReport) -> dict[str, Any]:
    used = sorted({f.rule for file in report.files for f in file.findings})
    index = {rid: i for i, rid in enumerate(used)}
    results = [_result(file, f, index) for file in report.files for f in sort_findings(file.findings)]
    # The fix for each risky hub target (the newest revision that scans clean, or why none), as in JSON.
    hub = report.extra.get("hub") or {}
    safe = {t: i["safe_revision"] for t, i in hub.items() if isinstance(i, dict) and i.get("safe_revision")}
    notifications = [
        {"level": "error", "message": {"text": f"{file.path}: {file.error}"}} for file in report.files if file.error
    ]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "malhug",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": "https://github.com/malhug/malhug",
                        "rules": [_rule(rid) for rid in used],
                    }
                },
                "results": results,
                "invocations": [
                    {"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}
                ],
                "properties": {
                    "verdict": report.verdict.value,
                    "stats": report.stats.to_dict(),
                    **({"safe_revisions": safe} if safe else {}),
                },
            }
        ],
    }
