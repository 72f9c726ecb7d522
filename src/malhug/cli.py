"""``malhug``: scan files, folders and Hub references; serve LSP; print the rule catalog.

Exit status (``docs/CLI.md``): 0 every file clean, 1 at least one file suspicious or malicious (or a
finding at or above ``--fail-on``), 2 usage error or no target could be read.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from malhug import __version__
from malhug.core.model import FileReport, ScanReport, ScanStats, Severity, Verdict

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="malhug",
        description="Catch malicious code in ML models and datasets before it runs.",
    )
    p.add_argument("--version", action="version", version=f"malhug {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log more (repeat for debug)")
    sub = p.add_subparsers(dest="command", required=True)

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
        "--hash-all",
        action="store_true",
        help="report the sha256 of local files of any size (default: files up to 256 MiB; hashing reads every byte)",
    )

    sub.add_parser("lsp", help="serve the Language Server Protocol over stdio")

    rules = sub.add_parser("rules", help="list the rule catalog")
    rules.add_argument(
        "--markdown",
        action="store_true",
        help="the catalog as Markdown (docs/RULES.md adds where each rule fires and its tests: make rules-doc)",
    )
    rules.add_argument("--json", action="store_true")
    return p


def _hub_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "offline": args.offline,
        "endpoint": args.endpoint,
        "max_download": args.max_download,
        "use_cache": not args.no_cache,
    }


def _scan_targets(args: argparse.Namespace, progress: _Progress) -> tuple[ScanReport, int]:
    """Scan every target; returns the report and how many targets could not be read at all."""
    from malhug.analyzers.api import DEFAULT_HASH_LIMIT, scan_path

    report = ScanReport()
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
            add(scan_path(target, on_file=progress, hash_limit=None if args.hash_all else DEFAULT_HASH_LIMIT))
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


def cmd_scan(args: argparse.Namespace) -> int:
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


def cmd_rules(args: argparse.Namespace) -> int:
    from malhug.core.rules import CATALOG, markdown

    if args.markdown:
        sys.stdout.write(markdown())
    elif args.json:
        data = [
            {
                "id": r.id,
                "title": r.title,
                "category": r.category.value,
                "severity": r.severity.value,
                "rationale": r.rationale,
                "remediation": r.remediation,
                "references": list(r.references),
            }
            for r in (CATALOG[k] for k in CATALOG)
        ]
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for rid in CATALOG:
            r = CATALOG[rid]
            print(f"{r.id}  {r.severity.value:<8} {r.category.value:<18} {r.title}")
    return EXIT_CLEAN


def cmd_lsp(args: argparse.Namespace) -> int:
    from malhug.server.main import serve

    serve()
    return EXIT_CLEAN


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_ERROR if exc.code not in (0, None) else EXIT_CLEAN
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "scan":
        return cmd_scan(args)
    if args.command == "rules":
        return cmd_rules(args)
    if args.command == "lsp":
        return cmd_lsp(args)
    return EXIT_ERROR  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":
    sys.exit(main())
