"""``malhug scan``: scan files, folders and Hub references; text, JSON or SARIF report."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from malhug.cli.status import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from malhug.core.model import FileReport, ScanReport, ScanStats, Severity, Verdict


class _Progress:
    """A one-line progress display on stderr, only on a terminal, only after a second."""

    def __init__(self, stream: TextIO, enabled: bool):
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.started = time.monotonic()
        self.count = 0
        self.shown = False

    def __call__(self, path: Path | str) -> None:
        self.count += 1
        if self.enabled and time.monotonic() - self.started > 1.0:
            self.stream.write(f"\r\033[Kscanning [{self.count}] {str(path)[-70:]}")
            self.stream.flush()
            self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scan = sub.add_parser("scan", help="scan files, folders or hub references (hf:ORG/NAME[@REV])")
    scan.add_argument(
        "targets", nargs="*", metavar="TARGET", help="file, folder, hf:ORG/NAME[@REV] or hf:datasets/ORG/NAME[@REV]"
    )
    scan.add_argument("--format", choices=["text", "json", "sarif"], default="text")
    scan.add_argument("--output", "-o", metavar="FILE", help="write the report here instead of stdout")
    scan.add_argument(
        "--offline", action="store_true", help="never use the network; hub references come from the local cache"
    )
    scan.add_argument(
        "--fail-on",
        choices=[s.value for s in Severity],
        default=Severity.MEDIUM.value,
        help="exit 1 when a finding has at least this severity (default: medium, i.e. any suspicious or malicious file)",
    )
    scan.add_argument("--show-clean", action="store_true", help="text format: list clean files too")
    scan.add_argument("--endpoint", metavar="URL", help="Hub endpoint (default: HF_ENDPOINT or https://huggingface.co)")
    scan.add_argument(
        "--max-download", metavar="BYTES", type=int, default=None, help="largest file the hub layer downloads whole"
    )
    scan.add_argument("--hf-cache", action="store_true", help="scan every snapshot in the local Hugging Face cache")
    scan.add_argument("--no-cache", action="store_true", help="do not read or write the verdict cache")
    scan.add_argument(
        "--follow-references",
        action="store_true",
        help="also scan every hub repository the Python code and notebooks load (MH707, MH710-MH712 at the reference)",
    )
    scan.add_argument(
        "--hash-all",
        action="store_true",
        help="report the sha256 of local files of any size (default: files up to 256 MiB; hashing reads every byte)",
    )
    scan.set_defaults(run=run)


def _hub_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "offline": args.offline,
        "endpoint": args.endpoint,
        "max_download": args.max_download,
        "use_cache": not args.no_cache,
    }


def _scan_targets(args: argparse.Namespace, progress: _Progress) -> tuple[ScanReport, int]:
    """Scan every target; returns the report and how many targets could not be read at all."""
    from malhug.analyzers.api import DEFAULT_HASH_LIMIT, DEFAULT_LIMITS, scan_path

    report = ScanReport()
    local: list[FileReport] = []
    unreadable = 0
    started = time.monotonic()

    def add(files: list[FileReport], extra: dict[str, Any] | None = None) -> None:
        nonlocal unreadable
        if files and all(f.error is not None for f in files) and not any(f.findings for f in files):
            unreadable += 1
        report.files.extend(files)
        for key, value in (extra or {}).items():  # sections such as "hub" merge across targets
            if isinstance(value, dict):
                report.extra.setdefault(key, {}).update(value)
            else:
                report.extra[key] = value

    if args.hf_cache:
        from malhug.hub.cli import scan_hf_cache

        add(*scan_hf_cache(**_hub_options(args), on_file=progress))
    for target in args.targets:
        if target.startswith("hf:"):
            from malhug.hub.cli import scan_hub_target

            add(*scan_hub_target(target, **_hub_options(args), on_file=progress))
        else:
            files = scan_path(target, on_file=progress, hash_limit=None if args.hash_all else DEFAULT_HASH_LIMIT)
            local.extend(files)
            add(files)
    if local:  # the user-code rules on Python files and notebooks (and --follow-references)
        from malhug.cli.usercode import check_user_code

        check_user_code(report, local, DEFAULT_LIMITS.max_source_bytes, args, _hub_options(args), progress)
    report.stats = ScanStats(
        files=len(report.files),
        bytes_read=sum(f.bytes_read for f in report.files),
        seconds=time.monotonic() - started,
    )
    return report, unreadable


def _exit_code(report: ScanReport, fail_on: Severity) -> int:
    for file in report.files:
        if file.verdict in (Verdict.MALICIOUS, Verdict.ERROR):
            return EXIT_FINDINGS
        if any(f.severity >= fail_on for f in file.findings):
            return EXIT_FINDINGS
    return EXIT_CLEAN


def run(args: argparse.Namespace) -> int:
    if not args.targets and not args.hf_cache:
        print("malhug scan: give at least one TARGET (file, folder or hf:ORG/NAME), or --hf-cache", file=sys.stderr)
        return EXIT_ERROR
    progress = _Progress(sys.stderr, enabled=args.format == "text")
    try:
        report, unreadable = _scan_targets(args, progress)
    finally:
        progress.done()
    out: TextIO
    if args.format == "json":
        text = json.dumps(report.to_dict(), indent=2) + "\n"
    elif args.format == "sarif":
        from malhug.output.sarif import render as render_sarif

        text = json.dumps(render_sarif(report), indent=2) + "\n"
    else:
        from malhug.output.text import render as render_text

        colour = args.output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        text = render_text(report, colour=colour, show_clean=args.show_clean)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out = sys.stdout
        out.write(text)
        out.flush()
    targets = len(args.targets) + (1 if args.hf_cache else 0)
    if targets and unreadable == targets:
        return EXIT_ERROR
    return _exit_code(report, Severity(args.fail_on))
