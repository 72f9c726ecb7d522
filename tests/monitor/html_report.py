"""A monitor JSON report (docs/MONITOR.md contract) for the HTML page tests, with hostile evidence."""

from __future__ import annotations

from typing import Any

XSS_SCRIPT = "<script>window.__pwned = 1</script>"
XSS_ATTR = '"><img src=x onerror="window.__pwned=2">'


def finding(rule: str, severity: str, category: str, evidence: str, member: str | None = None) -> dict[str, Any]:
    return {
        "rule": rule,
        "severity": severity,
        "category": category,
        "message": f"{rule} message",
        "location": {"member": member, "offset": 42, "line": None, "column": None},
        "evidence": evidence,
    }


def file_report(path: str, verdict: str, findings: list[dict[str, Any]], error: str | None = None) -> dict[str, Any]:
    return {
        "path": path,
        "format": "pytorch-zip",
        "sha256": None,
        "verdict": verdict,
        "findings": findings,
        "error": error,
    }


def repo(rtype: str, rid: str, verdict: str | None, files: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "type": rtype,
        "id": rid,
        "sha": None if verdict is None else "c0ffee" + "0" * 34,
        "verdict": verdict,
        "files": files,
        "first_seen": "2026-12-06T10:00:00Z",
        "scanned_at": None if verdict is None else "2026-12-06T10:00:03Z",
        "state": "ok",
        **extra,
    }


def sample_report() -> dict[str, Any]:
    """Given in an order the page must fix: clean and suspicious before malicious."""
    evil = finding(
        "MH101", "critical", "reverse-shell", f"exec('socket.connect(127.0.0.1)') {XSS_SCRIPT}", "archive/data.pkl"
    )
    attr = finding("MH102", "high", "credential-theft", f"os.system('cat ~/.aws/secrets') {XSS_ATTR}")
    sus = finding("MH602", "medium", "code-exec", "auto_map: modeling_tiny.TinyModel")
    return {
        "repos": [
            repo("model", "org/clean-model", "clean", [file_report("model.safetensors", "clean", [])]),
            repo("dataset", "org/script-data", "suspicious", [file_report("script_data.py", "suspicious", [sus])]),
            repo("model", "evil/xss-<b>name</b>", "malicious", [file_report("pytorch_model.bin", "malicious", [evil])]),
            repo("model", "evil/creds", "malicious", [file_report("model.pkl", "malicious", [attr])]),
            repo("model", "org/gated", None, [], state="gated", why="gated: manual approval"),
            repo("model", "org/broken", "error", [file_report("w.bin", "error", [], error="timeout: slow body")]),
        ],
        "stats": {"repos": 6, "by_verdict": {"malicious": 2}, "backlog": 0},
        "events": [{"seq": 1, "kind": "verdict-changed", "id": "evil/creds"}],
    }
