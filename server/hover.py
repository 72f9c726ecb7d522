"""Hover: the report of the repository under the cursor, or why a load call is risky.

Markdown, short: the verdict and the full commit scanned, each risky file with its findings,
category and evidence (decompiled call, data-flow path), the Hub's own status, what to do.
"""

from __future__ import annotations

from typing import Any

from malhug.analyzers.api import HubRef, RiskyLoad, loader_args, safetensors_removes_risk
from malhug.core.model import Verdict, sort_findings
from malhug.core.rules import CATALOG
from malhug.hub.types import RepoScan, SafeRevision
from malhug.server.settings import Settings

_MAX_FILES = 8
_MAX_FINDINGS = 4


def _code(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "`" + text.replace("`", "'") + "`"


def _hub_status(hub_security: dict[str, Any] | None) -> str | None:
    """What Hugging Face's own scanners say: repo-level ``filesWithIssues``, else per-file statuses."""
    if not hub_security:
        return None
    raw_repo, raw_files = hub_security.get("repo"), hub_security.get("files")
    repo: dict[str, Any] = raw_repo if isinstance(raw_repo, dict) else {}
    files: dict[str, Any] = raw_files if isinstance(raw_files, dict) else {}
    flagged = [
        f"`{item.get('path')}` ({item.get('level', 'flagged')})"
        for item in repo.get("filesWithIssues") or []
        if isinstance(item, dict)
    ]
    if not flagged:
        for path, status in files.items():
            value = status.get("status") if isinstance(status, dict) else status
            if value not in (None, "safe", "unscanned"):
                flagged.append(f"`{path}` ({value})")
    if flagged:
        more = f" and {len(flagged) - 5} more" if len(flagged) > 5 else ""
        return "flags " + ", ".join(flagged[:5]) + more
    if repo.get("scansDone") is True or files:
        return "no issues reported"
    return "not scanned yet" if repo.get("scansDone") is False else None


def repo_markdown(
    ref: HubRef | None,
    scan: RepoScan,
    safe: SafeRevision | None,
    settings: Settings,
    *,
    max_files: int = _MAX_FILES,
    max_findings: int = _MAX_FINDINGS,
) -> str:
    """The report of one scanned revision; short for hover, complete with larger limits (showReport)."""
    name = f"{scan.repo_type}s/{scan.repo_id}" if scan.repo_type == "dataset" else scan.repo_id
    verdict = scan.verdict
    if verdict is Verdict.ERROR:  # never read as clean: say plainly that nothing was checked
        lines = [
            f"**MalHug: `{name}` could not be checked**",
            "Not fully checked: treat this repository as unverified.",
        ]
    else:
        lines = [f"**MalHug: `{name}` is {verdict.value}**"]
    rev = scan.commit_sha or "unknown"
    asked = f" (asked: `{scan.revision}`)" if scan.revision and scan.revision != scan.commit_sha else ""
    lines.append(f"Revision scanned: `{rev}`{asked}" + (" — from the verdict cache" if scan.from_cache else ""))
    if scan.error:
        lines.append(f"Could not scan: {scan.error}")
    risky = [f for f in scan.files if f.verdict is not Verdict.CLEAN]
    for report in sorted(risky, key=lambda f: -f.verdict.rank)[:max_files]:
        lines.append(f"- `{report.path}` — **{report.verdict.value}** ({report.format})")
        for finding in sort_findings(report.findings)[:max_findings]:
            where = f" at {finding.location.member}" if finding.location.member else ""
            lines.append(f"  - {finding.rule} `{finding.category.value}` {finding.message}{where}")
            if finding.evidence:
                lines.append(f"    evidence: {_code(finding.evidence)}")
            if finding.trace:
                path = " → ".join(step.message for step in finding.trace[:6])
                lines.append(f"    path: {_code(path, 240)}")
        if report.error:
            lines.append(f"  - error: {report.error}")
    if len(risky) > max_files:
        lines.append(f"- … and {len(risky) - max_files} more risky files (command: MalHug: show report)")
    for path, reason in list(scan.skipped.items())[: max(3, max_files)]:
        lines.append(f"- `{path}` not scanned: {reason}")
    clean = len(scan.files) - len(risky)
    if clean:
        lines.append(f"{clean} file(s) clean.")
    status = _hub_status(scan.hub_security)
    if status:
        lines.append(f"Hugging Face's own scan: {status}")
    if scan.ships_code:
        lines.append("This revision ships code that loading may run.")
    if settings.is_trusted(scan.repo_id) and verdict is not Verdict.MALICIOUS:
        lines.append("Trusted by `malhug.trustedRepos`.")
    lines.append(_advice(ref, scan, safe))
    return "\n\n".join(line for line in lines if line)


def _advice(ref: HubRef | None, scan: RepoScan, safe: SafeRevision | None) -> str:
    verdict = scan.verdict
    if verdict is Verdict.CLEAN:
        if scan.ships_code and (ref is None or not ref.pinned) and scan.commit_sha:
            return f'**What to do:** pin `revision="{scan.commit_sha}"` so the code you reviewed is the code that runs.'
        return ""
    if verdict is Verdict.ERROR:
        return "**What to do:** check the id, revision and access (HF_TOKEN), or scan again when online."
    steps = ["do not run this line as it is"]
    if safe is not None and safe.commit_sha:
        steps.append(f'pin `revision="{safe.commit_sha}"`, the newest revision that scans clean (quick fix)')
    elif safe is not None:
        steps.append(f"no clean revision in the last {safe.commits_checked} commits: use another repository")
    files = [(f.path, f.verdict is Verdict.CLEAN) for f in scan.files] + [(p, False) for p in scan.skipped]
    if ref is not None and safetensors_removes_risk(loader_args(ref.kind, ref.call), files):
        steps.append("load safetensors weights only (`use_safetensors=True`)")
    return "**What to do:** " + "; ".join(steps) + "."


def load_markdown(load: RiskyLoad) -> str:
    rule = CATALOG[load.rule]
    return "\n\n".join(
        [
            f"**MalHug {rule.id}: {rule.title}**",
            load.message,
            rule.rationale,
            f"**Safe alternative:** {rule.remediation}",
            f"[Rule documentation]({rule.docs_url})",
        ]
    )


def pending_markdown(ref: HubRef, scanning: bool, offline: bool) -> str:
    state = (
        "scanning…"
        if scanning
        else ("not checked: offline and not in the verdict cache" if offline else "not checked yet")
    )
    return f"**MalHug: `{ref.repo_id}`** ({ref.repo_type}) — {state}"
