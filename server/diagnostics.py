"""Turn references, risky loads, script findings and hub scans into LSP diagnostics.

Pure functions of their inputs (no server state), so unit tests can call them directly. Ranges
are built in server positions and converted to the client's units with the document's codec.
A diagnostic's ``data`` carries what its quick fixes need (ruff's approach): repo id and type, the
safe sha when known, and ready-made edits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from malhug.analyzers.api import (
    SYNTAX_ERROR,
    TRUST_REMOTE_CODE,
    CodeAnalysis,
    Edit,
    HubRef,
    RiskyLoad,
    SourceLines,
    Span,
    is_suppressed,
    load_severity,
    loader_args,
    quote_like,
    remove_keyword,
    safetensors_removes_risk,
    set_keyword,
)
from malhug.core import failures
from malhug.core.model import FileReport, Finding, Location, Severity, Verdict, sort_findings
from malhug.core.rules import CATALOG
from malhug.hub.refcheck import MALICIOUS_REPO, SUSPICIOUS_REPO, UNPINNED_CODE, check_reference
from malhug.hub.types import RepoScan, SafeRevision
from malhug.server.settings import Settings
from malhug.server.spans import to_lsp_range

SOURCE = "malhug"
_ZERO = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
# "Not fully analyzed" is never hidden by ``severityThreshold``: hiding it would look like a clean file.
# (The script worker publishes MH514 only when nothing of the file parsed.)
FAILURE_RULES = failures.FAILURE_RULES | {SYNTAX_ERROR}
LSP_SEVERITY = {
    Severity.CRITICAL: types.DiagnosticSeverity.Error,
    Severity.HIGH: types.DiagnosticSeverity.Error,
    Severity.MEDIUM: types.DiagnosticSeverity.Warning,
    Severity.LOW: types.DiagnosticSeverity.Information,
    Severity.INFO: types.DiagnosticSeverity.Hint,
}


@dataclass(frozen=True)
class Issue:
    """One diagnostic before conversion: rule, severity, text, place, fixes."""

    rule: str
    severity: Severity
    message: str
    span: Span
    data: dict[str, Any]
    related: tuple[tuple[str, Span], ...] = ()
    related_files: tuple[tuple[str, str], ...] = ()  # (message, uri of another file): its line 0


@dataclass(frozen=True)
class LocalFile:
    """A local model file a load call reads, with the workspace scan's report of it."""

    display: str  # the path as the code writes it
    uri: str
    report: FileReport
    written: str = ""  # the call as written (``torch.load``)
    span: Span | None = None  # the call's name, where a diagnostic of its own goes


def ref_key(ref: HubRef) -> tuple[str, str, str]:
    return (ref.repo_type, ref.repo_id, ref.revision or "")


def _fix(title: str, edit_list: list[Edit]) -> dict[str, Any]:
    return {"title": title, "edits": [[*span.to_json(), text] for span, text in edit_list]}


def _file_states(scan: RepoScan) -> list[tuple[str, bool]]:
    """(path, scans clean) of every file of the revision; a file listed but not scanned is not clean."""
    return [(f.path, f.verdict is Verdict.CLEAN) for f in scan.files] + [(p, False) for p in scan.skipped]


def _hub_fixes(ref: HubRef, src: SourceLines, scan: RepoScan, safe: SafeRevision | None) -> list[dict[str, Any]]:
    fixes: list[dict[str, Any]] = []
    call = ref.call
    if call is None or ref.kind == "hf-path":
        return fixes
    if safe is not None and safe.commit_sha and safe.commit_sha != ref.revision:
        value = quote_like(src, ref.id_span, safe.commit_sha)
        fixes.append(
            _fix(
                f'Pin revision="{safe.commit_sha}" (newest revision that scans clean)',
                set_keyword(call, src, "revision", value),
            )
        )
    # Only where the call accepts it and it removes the risk (loaders.py): not for a dataset loading
    # script, remote code or a tokenizer, which use_safetensors does not stop.
    if ref.use_safetensors is not True and safetensors_removes_risk(loader_args(ref.kind, call), _file_states(scan)):
        fixes.append(
            _fix(
                "Load safetensors weights only (use_safetensors=True)",
                set_keyword(call, src, "use_safetensors", "True"),
            )
        )
    if ref.trust_remote_code is True:
        fixes.append(_fix("Remove trust_remote_code=True", remove_keyword(call, src, "trust_remote_code")))
    return fixes


def hub_issue(
    ref: HubRef, scan: RepoScan, safe: SafeRevision | None, src: SourceLines, settings: Settings
) -> list[Issue]:
    """What a finished scan says about one reference (nothing when it is clean)."""
    data: dict[str, Any] = {
        "kind": "hub",
        "repo_id": ref.repo_id,
        "repo_type": ref.repo_type,
        "revision": ref.revision,
        "scanned_sha": scan.commit_sha,
        "safe_sha": safe.commit_sha if safe is not None else None,
        "verdict": scan.verdict.value,
        "id_range": ref.id_span.to_json(),
    }
    if ref.call is not None:
        rev = ref.call.keyword("revision")
        data["call_range"] = ref.call.span.to_json()
        data["revision_range"] = rev.value_span.to_json() if rev is not None else None
    issues: list[Issue] = []
    for check in check_reference(ref, scan, settings.is_trusted(ref.repo_id)):
        fixes: list[dict[str, Any]] = []
        if check.rule in (MALICIOUS_REPO, SUSPICIOUS_REPO):
            data = {**data, "category": check.category.value, "file": check.file}
            fixes = _hub_fixes(ref, src, scan, safe)
        elif check.rule == UNPINNED_CODE:
            fixes = _unpinned_fixes(ref, src, scan, safe)
        issues.append(Issue(check.rule, check.severity, check.message, ref.id_span, {**data, "fixes": fixes}))
    return issues


def _unpinned_fixes(ref: HubRef, src: SourceLines, scan: RepoScan, safe: SafeRevision | None) -> list[dict[str, Any]]:
    """Pin the revision scanned only when it scans clean; else the newest clean one, else no pin at all."""
    if ref.call is None or ref.kind == "hf-path":
        return []
    if scan.verdict is Verdict.CLEAN and scan.commit_sha:
        sha, why = scan.commit_sha, "the revision scanned, clean"
    elif safe is not None and safe.commit_sha:
        sha, why = safe.commit_sha, "newest revision that scans clean"
    else:
        return []
    if sha == ref.revision:
        return []
    value = quote_like(src, ref.id_span, sha)
    return [_fix(f'Pin revision="{sha}" ({why})', set_keyword(ref.call, src, "revision", value))]


def load_issue(load: RiskyLoad, src: SourceLines) -> Issue:
    fixes = []
    if load.call is not None and load.fix == "weights_only":
        fixes.append(_fix("Use weights_only=True", set_keyword(load.call, src, "weights_only", "True")))
    elif load.call is not None and load.fix == "remove_trust_remote_code":
        fixes.append(_fix("Remove trust_remote_code=True", remove_keyword(load.call, src, "trust_remote_code")))
    severity = load_severity(load)
    return Issue(load.rule, severity, load.message, load.span, {"kind": "load", "fixes": fixes})


def local_load_issue(load: RiskyLoad, src: SourceLines, local: LocalFile) -> Issue:
    """The load call carries the verdict of the local file it reads (issue #16), when that is not clean.

    Malicious: the file's worst severity, at least high (an error in the editor), its decisive rule,
    category and evidence in the message, ``relatedInformation`` pointing to the file.
    """
    base = load_issue(load, src)
    report = local.report
    verdict = report.verdict
    if verdict is Verdict.CLEAN:
        return base
    call = load.call.written if load.call is not None else "this call"
    findings = sort_findings(report.findings)
    worst = findings[0] if findings else None
    if verdict is Verdict.MALICIOUS and worst is not None:
        severity = max(worst.severity, Severity.HIGH, key=lambda s: s.rank)
    else:  # suspicious, or not analyzable: never quieter than a warning
        severity = max(base.severity, Severity.MEDIUM, key=lambda s: s.rank)
    if worst is not None:
        evidence = f": {worst.evidence}" if worst.evidence else ""
        why = f"{worst.category.value}, because {worst.rule} {worst.message}{evidence}"
    else:
        why = f"it could not be analyzed: {report.error or 'error'}"
    message = f"{call}() loads {local.display}, which MalHug finds {verdict.value}: {why}"
    related = f"{local.display}: {verdict.value}" + (f" — {worst.rule} {worst.message}" if worst is not None else "")
    data = {**base.data, "file": local.uri, "file_verdict": verdict.value}
    return Issue(base.rule, severity, message[:2000], base.span, data, related_files=((related[:500], local.uri),))


def file_load_issue(local: LocalFile) -> Issue | None:
    """A load call no rule flags (``weights_only=True``, Keras safe mode) of a local file that is not clean.

    Its code is the file's decisive rule, the same rule the file itself shows; None when the file is clean.
    """
    report = local.report
    findings = sort_findings(report.findings)
    if report.verdict is Verdict.CLEAN or local.span is None:
        return None
    worst = findings[0] if findings else None
    if worst is None:
        rule, severity, why = failures.FAILED, CATALOG[failures.FAILED].severity, report.error or "error"
        why = f"it could not be analyzed: {why}"
    else:
        rule, severity = worst.rule, worst.severity
        evidence = f": {worst.evidence}" if worst.evidence else ""
        why = f"{worst.category.value}, because {worst.rule} {worst.message}{evidence}"
    message = f"{local.written}() loads {local.display}, which MalHug finds {report.verdict.value}: {why}"
    related = f"{local.display}: {report.verdict.value}" + (f" — {worst.rule} {worst.message}" if worst else "")
    data = {"kind": "load", "fixes": [], "file": local.uri, "file_verdict": report.verdict.value}
    return Issue(rule, severity, message[:2000], local.span, data, related_files=((related[:500], local.uri),))


def _location_span(loc: Location, src: SourceLines) -> Span:
    """A 1-based source Location (end exclusive) as a span; a bare line covers the whole line."""
    line = max((loc.line or 1) - 1, 0)
    col = max((loc.column or 1) - 1, 0)
    if loc.end_line is not None and loc.end_column is not None:
        return Span(line, col, max(loc.end_line - 1, line), max(loc.end_column - 1, 0))
    return Span(line, col, line, max(len(src.line_text(line)), col))


def script_issue(finding: Finding, src: SourceLines) -> Issue:
    related = tuple((step.message, _location_span(step.location, src)) for step in finding.trace if step.location.line)
    message = finding.message + (
        f": {finding.evidence}" if finding.evidence and finding.evidence not in finding.message else ""
    )
    return Issue(
        finding.rule,
        finding.severity,
        message,
        _location_span(finding.location, src),
        {"kind": "script", "category": finding.category.value, "fixes": []},
        related,
    )


def _suppressed(src: SourceLines, issue: Issue) -> bool:
    # The script analyzer's rule for ``# malhug: ignore[...]``, so both honour the same comments.
    return is_suppressed(src.lines, issue.span.line + 1, issue.rule)


def document_issues(
    analysis: CodeAnalysis,
    script_findings: Sequence[Finding],
    src: SourceLines,
    scans: Mapping[tuple[str, str, str], RepoScan],
    safe: Mapping[tuple[str, str], SafeRevision],
    settings: Settings,
    local_files: Mapping[Span, LocalFile] | None = None,
) -> list[Issue]:
    """Every diagnostic of a document; ``local_files``: the local file each load call reads, by the call's span."""
    issues: list[Issue] = []
    trusted_calls = set()
    for ref in analysis.refs:
        if settings.is_trusted(ref.repo_id) and ref.call is not None:
            trusted_calls.add(ref.call.span)
        scan = scans.get(ref_key(ref))
        if scan is not None:
            issues.extend(hub_issue(ref, scan, safe.get((ref.repo_type, ref.repo_id)), src, settings))
    for load in analysis.loads:
        if load.rule == TRUST_REMOTE_CODE and load.call is not None and load.call.span in trusted_calls:
            continue
        local = local_files.get(load.call.span) if local_files and load.call is not None else None
        issues.append(local_load_issue(load, src, local) if local is not None else load_issue(load, src))
    flagged = {load.call.span for load in analysis.loads if load.call is not None}
    for span, local in (local_files or {}).items():
        issue = file_load_issue(local) if span not in flagged else None
        if issue is not None:
            issues.append(issue)
    issues.extend(script_issue(f, src) for f in script_findings)
    # An ignore comment written for the generic note never hides a malicious file behind the call.
    return [
        i
        for i in issues
        if _shown(i.rule, i.severity, settings)
        and (not _suppressed(src, i) or i.data.get("file_verdict") == Verdict.MALICIOUS.value)
    ]


def _shown(rule: str, severity: Severity, settings: Settings) -> bool:
    return severity >= settings.severity_threshold or rule in FAILURE_RULES


def to_diagnostic(issue: Issue, uri: str, lines: Sequence[str], codec: Any) -> types.Diagnostic:
    rule = CATALOG.get(issue.rule)
    return types.Diagnostic(
        range=to_lsp_range(issue.span, lines, codec),
        message=issue.message,
        severity=LSP_SEVERITY[issue.severity],
        code=issue.rule,
        code_description=types.CodeDescription(href=rule.docs_url) if rule is not None else None,
        source=SOURCE,
        data=issue.data,
        related_information=[
            types.DiagnosticRelatedInformation(
                location=types.Location(uri=uri, range=to_lsp_range(span, lines, codec)), message=message
            )
            for message, span in issue.related
        ]
        + [
            types.DiagnosticRelatedInformation(location=types.Location(uri=file_uri, range=_ZERO), message=message)
            for message, file_uri in issue.related_files
        ]
        or None,
    )


def file_diagnostics(report: FileReport, settings: Settings) -> list[types.Diagnostic]:
    """A model file's findings, all on line 0 (the file has no text positions)."""
    out = []
    zero = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    findings = sort_findings(report.findings)
    if report.error is not None and not any(f.rule in FAILURE_RULES for f in findings):
        failed = CATALOG[failures.FAILED]
        out.append(
            types.Diagnostic(
                range=zero,
                message=f"{report.path}: could not be analyzed: {report.error}; the file was not fully analyzed"[:2000],
                severity=LSP_SEVERITY[failed.severity],
                source=SOURCE,
                code=failed.id,
                code_description=types.CodeDescription(href=failed.docs_url),
                data={"kind": "file", "verdict": report.verdict.value, "fixes": []},
            )
        )
    for f in findings:
        if not _shown(f.rule, f.severity, settings):
            continue
        where = []
        if f.location.member:
            where.append(f.location.member)
        if f.location.offset is not None:
            where.append(f"offset {f.location.offset}")
        place = f" ({', '.join(where)})" if where else ""
        evidence = f": {f.evidence}" if f.evidence else ""
        if f.rule in FAILURE_RULES:
            evidence += "; the file was not fully analyzed"
        rule = CATALOG.get(f.rule)
        out.append(
            types.Diagnostic(
                range=zero,
                message=f"{report.verdict.value}: {f.category.value} — {f.message}{place}{evidence}"[:2000],
                severity=LSP_SEVERITY[f.severity],
                code=f.rule,
                code_description=types.CodeDescription(href=rule.docs_url) if rule is not None else None,
                source=SOURCE,
                data={"kind": "file", "verdict": report.verdict.value, "fixes": []},
            )
        )
    return out
