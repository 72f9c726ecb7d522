"""The report for people: one block per risky file, colour on a terminal."""

from __future__ import annotations

from malhug.core.model import ScanReport, Severity, Verdict, sort_findings
from malhug.core.wording import count

_COLOURS = {
    Verdict.MALICIOUS: "\033[1;31m",
    Verdict.ERROR: "\033[1;35m",
    Verdict.SUSPICIOUS: "\033[1;33m",
    Verdict.CLEAN: "\033[32m",
}
_SEV = {
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
    Severity.INFO: "\033[2m",
}
_RESET = "\033[0m"


def render(report: ScanReport, *, colour: bool = False, show_clean: bool = False) -> str:
    def c(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    lines: list[str] = []
    for file in report.files:
        v = file.verdict
        if v is Verdict.CLEAN and not show_clean and not file.findings:
            continue
        shown = " + ".join(file.analyzed_as) if file.analyzed_as else file.format  # every analysis it got
        lines.append(f"{c(_COLOURS[v], v.value.upper()):<12} {file.path}  [{shown}]")
        if file.error:
            lines.append(f"    error: {file.error}")
        for f in sort_findings(file.findings):
            where = []
            if f.location.member:
                where.append(f.location.member)
            if f.location.line:
                where.append(f"line {f.location.line}" + (f":{f.location.column}" if f.location.column else ""))
            elif f.location.offset is not None:
                where.append(f"offset {f.location.offset}")
            at = f" ({', '.join(where)})" if where else ""
            lines.append(
                f"    {c(_SEV[f.severity], f.severity.value):<10} {f.rule} {f.category.value}: {f.message}{at}"
            )
            if f.evidence:
                ev = f.evidence if len(f.evidence) <= 400 else f.evidence[:400] + " …"
                for i, ev_line in enumerate(ev.splitlines() or [""]):
                    lines.append(f"        {'> ' if i == 0 else '  '}{ev_line}")
            for step in f.trace:
                pos = f"line {step.location.line}" if step.location.line else (step.location.member or "")
                lines.append(f"        -> {pos}: {step.message}")
    lines.extend(_hub_lines(report))
    counts = {v: sum(1 for f in report.files if f.verdict is v) for v in Verdict}
    summary = ", ".join(f"{n} {v.value}" for v, n in counts.items() if n)
    stats = report.stats
    # Entries with an error were not (fully) read: "0 file(s) scanned" never sits beside CLEAN.
    scanned = sum(1 for f in report.files if f.error is None)
    unread = len(report.files) - scanned
    could_not = f", {unread} could not be scanned" if unread else ""
    what = f"{scanned} file(s) scanned{could_not} ({summary or 'none'})"
    if not report.files:  # only hub revisions whose listing holds nothing a loader runs
        listed = sum(int(i.get("files_listed") or 0) for i in (report.extra.get("hub") or {}).values())
        what = f"nothing to scan among {count(listed, 'file')} listed by the Hub (none is loaded as code or weights)"
    lines.append(
        f"{c(_COLOURS[report.verdict], report.verdict.value.upper())}: {what}; "
        f"{stats.bytes_read} bytes read in {stats.seconds:.2f}s"
    )
    return "\n".join(lines) + "\n"


def _hub_lines(report: ScanReport) -> list[str]:
    """One line per hub target (``hub``/``hf_cache`` sections): the revision, the Hub's own scan, the cost."""
    lines = []
    for section in ("hub", "hf_cache"):
        for target, info in (report.extra.get(section) or {}).items():
            if not isinstance(info, dict) or info.get("error"):
                continue
            status = info.get("hub_security") or {}
            flagged = [
                p for p, s in (status.get("files") or {}).items() if str(s.get("status")) not in ("safe", "unscanned")
            ]
            hub_says = f"flags {', '.join(flagged)}" if flagged else ("no issue" if status else "no scan status")
            how = "from cache" if info.get("from_cache") else f"{info.get('bytes_transferred', 0)} bytes transferred"
            commit = str(info.get("commit"))
            # `hf:org/name@<sha>` already names the commit; a branch or tag gets the commit it resolved to.
            where = target if target.endswith(f"@{commit}") else f"{target} @ {commit}"
            lines.append(f"hub: {where}: ours {info.get('verdict')}; Hub's scanner: {hub_says}; {how}")
            if info.get("offline_rule"):
                lines.append(f"offline: {info['offline_rule']}")
            safe = info.get("safe_revision")
            if isinstance(safe, dict):
                lines.append(_safe_line(target, safe))
    return lines


def _safe_line(target: str, safe: dict[str, object]) -> str:
    """The fix for a risky hub target: the newest clean revision to pin, or why there is none."""
    sha = safe.get("commit")
    if not sha:
        return f"safe revision: none: {safe.get('reason')}"
    base = target.split("@", 1)[0]
    checked = int(str(safe.get("commits_checked") or 0))
    return f"safe revision: {sha} (the newest of {count(checked, 'commit')} checked that scans clean; pin {base}@{sha})"
