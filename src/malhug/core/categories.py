"""The ranking of attack categories: which one heads a payload, a file or a repository that shows several.

One payload often does several things (reads ``sys.platform``, sends it out, then downloads and runs
a file); the category that summarises it is the most dangerous one it shows, by ``RANKING``
(docs/CATEGORIES.md). Everything that summarises several findings or behaviours uses the functions
here: the embedded-code assessment (pickle code strings, Keras Lambda bytecode, scripts), the file
report's headline and the Hub repository summary.
"""

from __future__ import annotations

from collections.abc import Iterable

from malhug.core.model import Category, Finding, verdict_for_severity

# Most dangerous first: whoever runs this hands over the machine (a shell, code fetched at run
# time), then loses secrets or data, then files, then the generic capabilities, then what only
# describes a mechanism or a file.
RANKING: tuple[Category, ...] = (
    Category.REVERSE_SHELL,
    Category.DOWNLOAD_EXEC,
    Category.CREDENTIAL_THEFT,
    Category.EXFILTRATION,
    Category.DESTRUCTIVE,
    Category.RECON,
    Category.FILE_WRITE,
    Category.COMMAND_EXEC,
    Category.CODE_EXEC,
    Category.OBFUSCATION,
    Category.TEMPLATE_INJECTION,
    Category.PATH_TRAVERSAL,
    Category.UNSAFE_IMPORT,
    Category.UNSAFE_FORMAT,
    Category.RESOURCE_ABUSE,
    Category.MALFORMED,
)
_RANK = {cat: i for i, cat in enumerate(RANKING)}


def rank(category: Category) -> int:
    """0 for the most dangerous category."""
    return _RANK[category]


def most_dangerous(categories: Iterable[Category]) -> Category | None:
    """The highest-ranked of ``categories`` (None when there are none)."""
    return min(categories, key=rank, default=None)


def headline(findings: Iterable[Finding]) -> Finding | None:
    """The finding that heads a list: of those that decide the verdict, the most dangerous category,
    then the highest severity (None when there are no findings)."""
    found = list(findings)
    if not found:
        return None
    worst = max(verdict_for_severity(f.severity).rank for f in found)
    deciding = [f for f in found if verdict_for_severity(f.severity).rank == worst]
    return min(deciding, key=lambda f: (rank(f.category), -f.severity.rank))
