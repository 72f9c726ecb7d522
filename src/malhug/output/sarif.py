"""SARIF 2.1.0 that GitHub code scanning accepts; rule metadata comes from the one catalog.

Validated in the tests against the OASIS SARIF 2.1.0 schema and GitHub's rules for uploads (help on
every rule, repository-relative locations, a start line on every result, stable fingerprints); the
location and fingerprint choices are in ``sarifloc.py`` and ``docs/REPORT.md#sarif``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from malhug import __version__
from malhug.core.model import FileReport, Finding, Location, ScanReport, Severity, sort_findings
from malhug.core.rules import CATALOG
from malhug.output.sarifloc import SRCROOT, Fingerprints, artifact_uri, cell_number, notebook_lines, source_root

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
DESCRIPTION_LIMIT = 1024  # GitHub's limit for shortDescription.text and fullDescription.text


def _clip(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rule(rule_id: str) -> dict[str, Any]:
    r = CATALOG[rule_id]
    return {
        "id": r.id,
        "name": r.title.title().replace(" ", "").replace("-", ""),
        "shortDescription": {"text": _clip(r.title)},
        "fullDescription": {"text": _clip(r.rationale)},
        "help": {
            "text": f"{r.rationale}\n\nRemediation: {r.remediation}",
            "markdown": f"**{r.title}**\n\n{r.rationale}\n\n*Remediation:* {r.remediation}",
        },
        "helpUri": r.docs_url,
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
        "properties": {
            "tags": ["security", r.category.value],
            "security-severity": _SECURITY_SEVERITY[r.severity],
        },
    }


class _Locator:
    """Physical locations of one run: URIs relative to the root, notebook cells mapped to file lines."""

    def __init__(self, root: Path):
        self.root = root
        self._notebooks: dict[str, dict[tuple[int, int], int]] = {}

    def uri(self, file: FileReport) -> str:
        return artifact_uri(file.path, self.root)

    def physical(self, file: FileReport, loc: Location) -> dict[str, Any]:
        region: dict[str, Any] = {"startLine": 1}
        cell = cell_number(loc.member) if file.path.lower().endswith(".ipynb") else None
        if cell is not None:
            if file.path not in self._notebooks:
                self._notebooks[file.path] = notebook_lines(file.path)
            region["startLine"] = self._notebooks[file.path].get((cell, loc.line or 1), 1)
        elif loc.line:
            region["startLine"] = loc.line
            if loc.column:
                region["startColumn"] = loc.column
            if loc.end_line and loc.end_line >= loc.line:
                region["endLine"] = loc.end_line
                if loc.end_column and (loc.end_line > loc.line or loc.end_column > (loc.column or 1)):
                    region["endColumn"] = loc.end_column
        return {"artifactLocation": {"uri": self.uri(file), "uriBaseId": SRCROOT}, "region": region}


def _where(loc: Location) -> str:
    if cell_number(loc.member) is not None:
        return f" in {loc.member}, line {loc.line}" if loc.line else f" in {loc.member}"
    return f" in {loc.member}" if loc.member else ""


def _result(
    file: FileReport, f: Finding, index: dict[str, int], at: _Locator, fingerprint: Fingerprints
) -> dict[str, Any]:
    text = f"{f.message}{_where(f.location)}"
    if f.evidence:
        text += f" — evidence: {f.evidence[:300]}"
    uri = at.uri(file)
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": at.physical(file, f.location)}],
        "properties": {
            "category": f.category.value,
            "severity": f.severity.value,
            "member": f.location.member,
            "offset": f.location.offset,
            "line": f.location.line,
            "evidence": f.evidence,
            "verdict": file.verdict.value,
            "path": file.path if file.path.startswith("hf:") else uri,
        },
        "partialFingerprints": {
            "malhug/v2": fingerprint(f.rule, uri, f.location.member, f.evidence or f.message),
        },
    }
    if f.trace:
        steps = [
            {"location": {"physicalLocation": at.physical(file, s.location), "message": {"text": s.message}}}
            for s in f.trace
        ]
        result["codeFlows"] = [{"threadFlows": [{"locations": steps}]}]
    return result


def render(report: ScanReport, root: Path | None = None) -> dict[str, Any]:
    """The report as one SARIF run; paths relative to ``root`` (default: ``source_root()``)."""
    at = _Locator(root or source_root())
    fingerprint = Fingerprints()
    used = sorted({f.rule for file in report.files for f in file.findings})
    index = {rid: i for i, rid in enumerate(used)}
    results = [_result(file, f, index, at, fingerprint) for file in report.files for f in sort_findings(file.findings)]
    # The fix for each risky hub target (the newest revision that scans clean, or why none), as in JSON.
    hub = report.extra.get("hub") or {}
    safe = {t: i["safe_revision"] for t, i in hub.items() if isinstance(i, dict) and i.get("safe_revision")}
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{at.uri(file)}: {file.error}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": at.uri(file), "uriBaseId": SRCROOT}}}],
        }
        for file in report.files
        if file.error
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
                "columnKind": "unicodeCodePoints",
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


def rule_descriptor(rule_id: str) -> dict[str, Any]:
    """The driver's entry for ``rule_id``, as ``render`` lists it (for writers that stream results)."""
    return _rule(rule_id)
