"""What a scan of a referenced repository says about the reference: MH707, MH710, MH711, MH712.

The user-code analyzer finds ``from_pretrained("org/name")`` and friends (``HubRef``); only the hub
layer knows what is at that repository. ``check_reference`` decides the rule, severity, category and
message for one reference and one finished ``RepoScan``; the language server adds its quick fixes,
the CLI (``scan --follow-references``) reports them as findings at the reference's line. Both show the
same rule ids, severities and messages because both come from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from malhug.core.model import Category, FileReport, Finding, Severity, Verdict, sort_findings
from malhug.core.rules import CATALOG, finding
from malhug.hub.types import RepoScan

if TYPE_CHECKING:
    from malhug.analyzers.api import HubRef, SourceLines

# The rules of Hub references, each id written only here.
UNPINNED_CODE = "MH707"
MALICIOUS_REPO = "MH710"
SUSPICIOUS_REPO = "MH711"
UNCHECKED_REPO = "MH712"


@dataclass(frozen=True)
class RefCheck:
    """One rule a reference breaks, given the scan of the revision it loads."""

    rule: str
    severity: Severity
    category: Category
    message: str
    evidence: str = ""  # "because <file>: <rule> <message>" for MH710/MH711, the failure for MH712
    file: str | None = None  # the repository file that decided the verdict


def worst_file(scan: RepoScan) -> tuple[FileReport | None, Finding | None]:
    files = sorted(scan.files, key=lambda f: -f.verdict.rank)
    for report in files:
        if report.findings:
            return report, sort_findings(report.findings)[0]
    return (files[0] if files else None), None


def scan_name(ref: HubRef, scan: RepoScan) -> str:
    return f"{ref.repo_id}@{scan.commit_sha[:12]}" if scan.commit_sha else ref.repo_id


def _unchecked(ref: HubRef, scan: RepoScan) -> RefCheck:
    if scan.error is not None:
        reason = f"({scan.error_kind or 'error'}): {scan.error}"
    else:  # the repository was listed but a file could not be read or analyzed
        failed = [f for f in scan.files if f.verdict is Verdict.ERROR]
        reason = "; ".join(f"{f.path}: {f.error or 'analysis failed'}" for f in failed[:3]) or "error"
        reason = f"({len(failed)} file(s) not analyzed): {reason}"
    rule = CATALOG[UNCHECKED_REPO]
    message = f"{scan_name(ref, scan)}: could not be checked {reason}; treat it as unverified"
    return RefCheck(UNCHECKED_REPO, rule.severity, rule.category, message, evidence=reason)


def _flagged(ref: HubRef, scan: RepoScan) -> RefCheck:
    verdict = scan.verdict
    rule = MALICIOUS_REPO if verdict is Verdict.MALICIOUS else SUSPICIOUS_REPO
    report, worst = worst_file(scan)
    severity = CATALOG[rule].severity
    category: Category = worst.category if worst is not None else CATALOG[rule].category
    if worst is not None and verdict is Verdict.MALICIOUS:
        severity = max(worst.severity, Severity.HIGH, key=lambda s: s.rank)
    if worst is not None and report is not None:
        # The reference's own rule is the diagnostic's code; the file's rule is evidence, not a label.
        evidence = f"{report.path}: {worst.rule} {worst.message}"
        detail = f"{category.value}, because {evidence}"
    elif scan.skipped:
        path, reason = next(iter(scan.skipped.items()))
        evidence = f"{len(scan.skipped)} file(s) not scanned, e.g. {path}: {reason}"
        detail = evidence
    else:
        evidence = ""
        detail = "see hover for the report"
    message = f"{scan_name(ref, scan)} is {verdict.value}: {detail}"
    return RefCheck(rule, severity, category, message, evidence, report.path if report is not None else None)


def check_reference(ref: HubRef, scan: RepoScan, trusted: bool = False) -> list[RefCheck]:
    """The rules ``ref`` breaks given ``scan`` of the revision it loads (nothing when it is clean).

    ``trusted`` (the editor's ``trustedRepos``) hides suspicious, unchecked and unpinned, never
    malicious.
    """
    verdict = scan.verdict
    if verdict is Verdict.ERROR:
        return [] if trusted else [_unchecked(ref, scan)]
    out: list[RefCheck] = []
    if verdict is Verdict.MALICIOUS or (verdict is Verdict.SUSPICIOUS and not trusted):
        out.append(_flagged(ref, scan))
    if scan.ships_code and not ref.pinned and not trusted:
        severity = Severity.MEDIUM if ref.trust_remote_code else CATALOG[UNPINNED_CODE].severity
        message = f"{ref.repo_id} ships code that loading may run; pin revision= to a full commit sha"
        out.append(RefCheck(UNPINNED_CODE, severity, CATALOG[UNPINNED_CODE].category, message))
    return out


def reference_findings(ref: HubRef, scan: RepoScan, src: SourceLines, trusted: bool = False) -> list[Finding]:
    """``check_reference`` as findings located at the reference's id, with the call's code as evidence."""
    from malhug.analyzers.api import span_location, span_text

    where = ref.call.span if ref.call is not None else ref.id_span
    code = span_text(src, where)  # the code, not the scan's detail (that is in the message): stable evidence
    out = []
    for check in check_reference(ref, scan, trusted):
        out.append(
            finding(
                check.rule,
                check.message,
                location=span_location(ref.id_span),
                evidence=code,
                severity=check.severity,
                category=check.category,
            )
        )
    return out
