"""Hover: the report of the repository under the cursor, or why a load call is risky.

Markdown, short: the verdict and the full commit scanned, each risky file with its findings,
category and evidence (decompiled call, data-flow path), the Hub's own status, what to do.

The hover cuts long evidence and says where the rest is (the *MalHug: Show Report* command); the full
report (``full=True``) shows every file, finding, evidence and data-flow step whole, in code blocks.
"""

from __future__ import annotations

import re
from typing import Any

from malhug.analyzers.api import HubRef, RiskyLoad, loader_args, safetensors_removes_risk
from malhug.core.model import FileReport, Verdict, sort_findings
from malhug.core.rules import CATALOG
from malhug.core.wording import count
from malhug.hub.types import RepoScan, SafeRevision
from malhug.server.settings import Settings

_MAX_FILES = 8
_MAX_FINDINGS = 4
_MAX_EVIDENCE = 160  # characters of evidence in a hover
_MAX_PATH = 240
_MAX_STEPS = 6
FULL_REPORT_HINT = "Full report: command *MalHug: Show Report*."


def _code(text: str, limit: int = _MAX_EVIDENCE) -> tuple[str, bool]:
    """Inline code of ``text`` (whitespace collapsed), cut to ``limit``; True when it was cut."""
    text = " ".join(text.split())
    cut = len(text) > limit
    if cut:
        text = text[: limit - 1] + "…"
    return "`" + text.replace("`", "'") + "`", cut


def code_block(text: str, indent: str = "") -> str:
    """``text`` whole, as a fenced block whose fence is longer than any backtick run inside it (the
    evidence is attacker-controlled: it cannot close the block early)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = "\n".join(indent + line for line in text.splitlines() or [""])
    return f"{indent}{fence}text\n{body}\n{indent}{fence}"


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
    full: bool = False,
) -> str:
    """The report of one scanned revision: short for a hover, whole with ``full`` (showReport)."""
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
    files, cut = _risky_files(risky, full)
    lines.extend(files)
    if not full and len(risky) > _MAX_FILES:
        lines.append(f"- … and {len(risky) - _MAX_FILES} more risky files")
        cut = True
    skipped = list(scan.skipped.items())
    for path, reason in skipped if full else skipped[:_MAX_FILES]:
        lines.append(f"- `{path}` not scanned: {reason}")
    if not full and len(skipped) > _MAX_FILES:
        lines.append(f"- … and {len(skipped) - _MAX_FILES} more files not scanned")
        cut = True
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
    if cut:
        lines.append(FULL_REPORT_HINT)
    return "\n\n".join(line for line in lines if line)


def _risky_files(risky: list[FileReport], full: bool) -> tuple[list[str], bool]:
    """The lines of each risky file and its findings; True when the hover left something out."""
    lines: list[str] = []
    cut = False
    ranked = sorted(risky, key=lambda f: -f.verdict.rank)
    for report in ranked if full else ranked[:_MAX_FILES]:
        lines.append(f"- `{report.path}` — **{report.verdict.value}** ({report.format})")
        findings = sort_findings(report.findings)
        if not full and len(findings) > _MAX_FINDINGS:
            findings, cut = findings[:_MAX_FINDINGS], True
        for finding in findings:
            where = f" at {finding.location.member}" if finding.location.member else ""
            lines.append(f"  - {finding.rule} `{finding.category.value}` {finding.message}{where}")
            steps = [step.message for step in finding.trace]
            if full:
                if finding.evidence:
                    lines.append("    evidence:\n\n" + code_block(finding.evidence, "    "))
                if steps:
                    lines.append("    path:\n\n" + code_block("\n→ ".join(steps), "    "))
                continue
            if finding.evidence:
                shown, was_cut = _code(finding.evidence)
                lines.append(f"    evidence: {shown}")
                cut = cut or was_cut
            if steps:
                shown, was_cut = _code(" → ".join(steps[:_MAX_STEPS]), _MAX_PATH)
                lines.append(f"    path: {shown}")
                cut = cut or was_cut or len(steps) > _MAX_STEPS
        if report.error:
            lines.append(f"  - error: {report.error}")
    return lines, cut


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
        steps.append(
            f"no revision scans clean ({count(safe.commits_checked, 'commit')} checked): use another repository"
        )
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
