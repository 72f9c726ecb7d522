"""The one rule catalog: rules are data (``rules/*.toml``), loaded once, validated, read by all.

An area's file is parsed on the first lookup of one of its ids (a scan that reports a pickle
finding reads ``pickle.toml`` only; a clean scan reads none); iterating the catalog, its length and
its digest load every area.

>>> CATALOG["MH901"].category
<Category.MALFORMED: 'malformed'>
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from malhug.core.categories import RANKING
from malhug.core.model import Category, Finding, Location, Severity, TraceStep

log = logging.getLogger(__name__)
CATEGORY_MISMATCH = "%s: category %s is not in the catalog's (%s)"
RULE_ID = re.compile(r"^MH[1-9]\d\d$")
DOCS_URL = "https://github.com/malhug/malhug/blob/main/docs/RULES.md#{anchor}"

# Which hundred each catalog file may use.
AREAS = {
    "pickle": "1",
    "containers": "2",
    "keras": "3",
    "formats": "4",
    "scripts": "5",
    "hub": "6",
    "usercode": "7",
    "limits": "9",
}
_AREA_OF = {digit: area for area, digit in AREAS.items()}


@dataclass(frozen=True, slots=True)
class Rule:
    """One catalogued rule (``rules/<area>.toml``); immutable, compared by value."""

    id: str
    title: str
    category: Category
    severity: Severity
    rationale: str
    remediation: str
    references: tuple[str, ...]
    area: str
    deprecated: bool = False
    # Every category a finding of this rule may carry, ``category`` (the default) first. More than one
    # only where the catalog says so (``finding_categories``): a rule that judges a payload reports
    # what the payload does.
    categories: tuple[Category, ...] = ()

    def allows(self, category: Category) -> bool:
        """Whether a finding of this rule may carry ``category`` (the catalog lists it)."""
        return category in self.categories

    def categories_label(self) -> str:
        """``exfiltration`` or ``exfiltration/credential-theft``; ``command-exec/…`` past two."""
        shown = [c.value for c in self.categories]
        return "/".join(shown) if len(shown) <= 2 else f"{shown[0]}/…"

    @property
    def docs_url(self) -> str:
        return DOCS_URL.format(anchor=self.id.lower())


class RuleCatalogError(ValueError):
    pass


# What a payload can do, for rules whose findings carry the category of their payload
# (``finding_categories = "payload"``): the behaviours at the head of the ranking (docs/CATEGORIES.md),
# down to obfuscation; what follows them describes a mechanism or a file, not what a payload does.
PAYLOAD_CATEGORIES: tuple[Category, ...] = RANKING[: RANKING.index(Category.OBFUSCATION) + 1]


def _finding_categories(rid: str, category: Category, raw: object) -> tuple[Category, ...]:
    """``category`` first, then the others the TOML's ``finding_categories`` allows (a list, or "payload")."""
    if raw is None:
        return (category,)
    if raw == "payload":
        names: list[object] = [c.value for c in PAYLOAD_CATEGORIES]
    elif raw == "any":  # a rule that reports another report's headline (a referenced repository's)
        names = [c.value for c in Category]
    elif isinstance(raw, list):
        names = list(raw)
    else:
        raise RuleCatalogError(f'{rid}: finding_categories must be a list of categories, "payload" or "any"')
    try:
        others = [Category(str(n)) for n in names]
    except ValueError as exc:
        raise RuleCatalogError(f"{rid}: {exc}") from exc
    return (category, *(c for c in others if c is not category))


class RuleCatalog(Mapping[str, Rule]):
    """The rules by id: given whole, or read one area at a time through ``loader`` (area -> rules)."""

    def __init__(self, rules: list[Rule] | None = None, *, loader: Callable[[str], list[Rule]] | None = None):
        self._rules: dict[str, Rule] = {}
        self._loader = loader
        self._pending = set(AREAS) if loader is not None else set()
        self._digest: str | None = None
        self._add(rules or [])

    def _add(self, rules: list[Rule]) -> None:
        new: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in self._rules or rule.id in new:
                raise RuleCatalogError(f"duplicate rule id {rule.id}")
            new[rule.id] = rule
        self._rules.update(new)

    def _load_area(self, area: str) -> None:
        if area in self._pending and self._loader is not None:
            # Two threads may both read an area the first time; the second finds it loaded (its ids
            # belong to that area only, see ``_parse``) and adds nothing.
            rules = [r for r in self._loader(area) if r.id not in self._rules]
            self._add(rules)
            self._pending.discard(area)

    def _load_all(self) -> None:
        for area in AREAS:
            self._load_area(area)

    @property
    def digest(self) -> str:
        """A short hash of every rule's id, category, severity and state (the verdict cache's key)."""
        if self._digest is None:
            self._load_all()
            rules = sorted(self._rules.values(), key=lambda r: r.id)
            text = "\n".join(
                f"{r.id}|{'/'.join(c.value for c in r.categories)}|{r.severity.value}|{r.deprecated}" for r in rules
            )
            self._digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        return self._digest

    def __getitem__(self, key: str) -> Rule:
        rule = self._rules.get(key)
        if rule is None and self._pending:
            area = _AREA_OF.get(key[2:3]) if RULE_ID.match(key) else None
            if area is None:
                raise KeyError(key)
            self._load_area(area)
            rule = self._rules.get(key)
        if rule is None:
            raise KeyError(key)
        return rule

    def __iter__(self) -> Iterator[str]:
        self._load_all()
        return iter(sorted(self._rules))

    def __len__(self) -> int:
        self._load_all()
        return len(self._rules)


def _parse(area: str, text: str) -> list[Rule]:
    data = tomllib.loads(text)
    out = []
    for raw in data.get("rule", []):
        rid = raw.get("id", "")
        if not RULE_ID.match(rid):
            raise RuleCatalogError(f"{area}: bad rule id {rid!r}")
        if rid[2] != AREAS[area]:
            raise RuleCatalogError(f"{rid} does not belong in {area}.toml (MH{AREAS[area]}xx)")
        for key in ("title", "category", "severity", "rationale", "remediation"):
            if not raw.get(key):
                raise RuleCatalogError(f"{rid}: missing {key}")
        try:
            category = Category(raw["category"])
            severity = Severity(raw["severity"])
        except ValueError as exc:
            raise RuleCatalogError(f"{rid}: {exc}") from exc
        out.append(
            Rule(
                id=rid,
                title=raw["title"],
                category=category,
                severity=severity,
                rationale=raw["rationale"].strip(),
                remediation=raw["remediation"].strip(),
                references=tuple(raw.get("references", ())),
                area=area,
                deprecated=bool(raw.get("deprecated", False)),
                categories=_finding_categories(rid, category, raw.get("finding_categories")),
            )
        )
    return out


def _read_area(area: str) -> list[Rule]:
    """The rules of ``rules/<area>.toml`` (none when the file is absent)."""
    path = os.path.join(os.path.dirname(__file__), "rules", f"{area}.toml")
    # The module's own loader reads package data wherever the package lives (also inside a zip);
    # importlib.resources would cost more to import than the whole lookup.
    get_data = getattr(__spec__.loader, "get_data", None) if __spec__ is not None else None
    try:
        if get_data is not None:
            raw: bytes = get_data(path)
        else:  # pragma: no cover - every importer we ship under has get_data
            with open(path, "rb") as fh:
                raw = fh.read()
    except FileNotFoundError:
        return []
    return _parse(area, raw.decode("utf-8"))


def load_catalog() -> RuleCatalog:
    """The catalog; each area's file is read and validated on the first lookup that needs it."""
    return RuleCatalog(loader=_read_area)


CATALOG = load_catalog()


def finding(
    rule_id: str,
    message: str | None = None,
    *,
    location: Location | None = None,
    evidence: str = "",
    severity: Severity | None = None,
    category: Category | None = None,
    trace: tuple[TraceStep, ...] | list[TraceStep] = (),
) -> Finding:
    """Make a finding of a catalogued rule; unknown ids fail loudly (a typo must not pass silently).

    ``severity`` and ``category`` default to the rule's; an analyzer passes them when its evidence
    is more precise (a command string that opens a reverse shell is ``reverse-shell``, not just
    ``command-exec``), within the categories the catalog lists for the rule (``Rule.categories``),
    so the catalog, ``malhug rules`` and every finding say the same thing; any other is logged as
    an error (``CATEGORY_MISMATCH``), which fails the test suite.
    """
    rule = CATALOG[rule_id]
    if category is not None and not rule.allows(category):
        # Not raised: a scan must not lose a detection over a label. The test suite fails on this
        # record (tests/conftest.py), so the catalog is fixed instead.
        log.error(CATEGORY_MISMATCH, rule.id, category.value, ", ".join(c.value for c in rule.categories))
    return Finding(
        rule=rule.id,
        severity=severity or rule.severity,
        category=category or rule.category,
        message=message or rule.title,
        location=location or Location(),
        evidence=evidence,
        trace=tuple(trace),
    )


def markdown(columns: Mapping[str, Mapping[str, str]] | None = None, *, note: str | None = None) -> str:
    """The catalog as one Markdown document: a table of every rule, then one section per rule.

    ``columns`` adds columns to the table (header -> rule id -> cell; a missing id is an empty
    cell) and ``note`` replaces the line under the title: ``tools/rules_doc.py`` uses both to
    generate docs/RULES.md with where each rule fires and which tests prove it.
    """
    extra = columns or {}
    note = note or "Generated by `malhug rules --markdown`; edit `src/malhug/core/rules/*.toml`."
    headers = ["id", "title", "default severity", "default category", *extra]
    lines = ["# MalHug rules", "", note, ""]
    lines += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for rid in CATALOG:
        r = CATALOG[rid]
        cells = [f"[{r.id}](#{r.id.lower()})", r.title, r.severity.value, r.category.value]
        cells += [extra[h].get(r.id, "") for h in extra]
        lines.append("| " + " | ".join(cells) + " |")
    for rid in CATALOG:
        r = CATALOG[rid]
        lines += ["", f"## {r.id}", "", f"**{r.title}** — `{r.severity.value}`, `{r.category.value}`", ""]
        if len(r.categories) > 1:
            lines += [f"*Findings may also be:* {', '.join(f'`{c.value}`' for c in r.categories[1:])}", ""]
        lines += [r.rationale, "", f"*Remediation:* {r.remediation}"]
        if r.references:
            lines += ["", "*References:* " + ", ".join(f"<{u}>" for u in r.references)]
    return "\n".join(lines) + "\n"
