"""``malhug lsp``: serve the Language Server Protocol over stdio."""

from __future__ import annotations

import argparse

from malhug.cli.status import EXIT_CLEAN


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("lsp", help="serve the Language Server Protocol over stdio")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from malhug.server.main import serve

    serve()
    return EXIT_CLEAN
