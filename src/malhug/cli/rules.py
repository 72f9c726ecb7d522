"""``malhug rules``: print the rule catalog (text, Markdown or JSON)."""

from __future__ import annotations

import argparse
import json
import sys

from malhug.cli.status import EXIT_CLEAN


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rules", help="list the rule catalog")
    p.add_argument(
        "--markdown",
        action="store_true",
        help="the catalog as Markdown (docs/RULES.md adds where each rule fires and its tests: make rules-doc)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from malhug.core.rules import CATALOG, markdown

    if args.markdown:
        sys.stdout.write(markdown())
    elif args.json:
        data = [
            {
                "id": r.id,
                "title": r.title,
                "category": r.category.value,
                "categories": [c.value for c in r.categories],
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
            print(f"{r.id}  {r.severity.value:<8} {r.categories_label():<29} {r.title}")
    return EXIT_CLEAN
