"""``malhug``: the command line. One module per command; this one builds the parser and dispatches.

Each command module has ``register(subparsers)``, which adds its sub-parser and sets ``run`` (a
function of the parsed arguments returning the exit status). Command modules import their heavy
dependencies inside ``run``, so ``malhug --version`` and a benign scan stay cheap to start.

Exit status (``docs/CLI.md``, ``malhug.cli.outcome``): 0 every file read and clean, 1 at least one
file suspicious or malicious (or a finding at or above ``--fail-on``), 2 usage error, or else any file
that could not be read (or nothing scanned at all).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from malhug import __version__
from malhug.cli import lsp, monitor, pin, rules, scan
from malhug.cli.status import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_FINDINGS", "build_parser", "main"]

COMMANDS = (scan, lsp, rules, pin, monitor)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="malhug",
        description="Catch malicious code in ML models and datasets before it runs.",
    )
    p.add_argument("--version", action="version", version=f"malhug {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log more (repeat for debug)")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_ERROR if exc.code not in (0, None) else EXIT_CLEAN
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.run(args)
    except BrokenPipeError:  # ``malhug rules | head``: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    return code


if __name__ == "__main__":
    sys.exit(main())
