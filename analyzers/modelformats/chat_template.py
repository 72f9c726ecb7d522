"""Chat templates (GGUF ``tokenizer.chat_template``, ``tokenizer_config.json``): sandbox escapes.

Templates are parsed with Jinja2 and the AST is walked; nothing is ever rendered. A template is
malicious when it reaches Python internals (dunder attributes, ``__globals__``/``__builtins__``,
``os.popen``) directly, through the ``attr`` filter, through subscripts, or through strings built
by concatenation, joins, reversal or repetition. Ordinary templates (loops over messages, ``namespace``,
``raise_exception``, ``strftime_now``) stay clean.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import LimitExceeded
from malhug.analyzers.shared.source import ByteSource
from malhug.core.model import Location, Severity
from malhug.core.rules import finding

# Attribute names that only a sandbox escape needs.
ESCAPE_ATTRS = frozenset(
    {
        "__class__",
        "__mro__",
        "__base__",
        "__bases__",
        "__subclasses__",
        "__globals__",
        "__builtins__",
        "__init__",
        "__import__",
        "__getattribute__",
        "__dict__",
        "__code__",
        "__func__",
        "__self__",
        "__module__",
        "__reduce__",
        "__reduce_ex__",
        "__loader__",
        "__spec__",
        "func_globals",
        "f_globals",
        "gi_frame",
        "cr_frame",
        "tb_frame",
        "f_back",
        "_TemplateReference__context",
    }
)
# Attribute or called names that mean running commands or code.
EXEC_NAMES = frozenset(
    {
        "popen",
        "system",
        "subprocess",
        "check_output",
        "Popen",
        "eval",
        "exec",
        "compile",
        "import_module",
        "__import__",
        "os",
        "spawnv",
        "execv",
        "getoutput",
        "load_module",
    }
)
# Globals of Jinja's default namespace whose attributes lead to Python internals.
GADGETS = frozenset(
    {"cycler", "joiner", "namespace", "lipsum", "self", "range", "dict", "config", "request", "url_for"}
)
MAX_LISTED = 6


class _GenerationTag(Extension):
    """Hugging Face's ``{% generation %}…{% endgeneration %}`` block (marks assistant tokens)."""

    tags = {"generation"}

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


@dataclass(frozen=True)
class TemplateIssue:
    severity: Severity
    what: str
    line: int


# Folding builds strings the template would build ('a' * 64, a + a, replace): one may be at most
# MAX_FOLDED characters and all of one template's at most FOLD_BUDGET (a few hundred bytes of
# ``{% set a = a + a %}`` would otherwise ask for gigabytes). Beyond either the template is refused
# (LimitExceeded, MH902) rather than checked with names left unfolded.
MAX_FOLDED = 64 * 1024
FOLD_BUDGET = 16 * 1024 * 1024


class _Folder:
    """Constant string values of expressions built from literals and ``{% set %}`` names of such values."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.budget = FOLD_BUDGET

    def _made(self, size: int) -> bool:
        """Charge a string of ``size`` characters to the budget before it is built."""
        if size > MAX_FOLDED:
            raise LimitExceeded("chat template constant string", MAX_FOLDED, size)
        if size > self.budget:
            raise LimitExceeded("chat template constant folding (characters)", FOLD_BUDGET)
        self.budget -= size
        return True

    def fold(self, node: nodes.Node, depth: int = 0) -> str | None:
        if depth > 50:
            return None
        if isinstance(node, nodes.Const):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, nodes.Name):
            return self.names.get(node.name)
        if isinstance(node, (nodes.Add, nodes.Concat)):
            parts = [node.left, node.right] if isinstance(node, nodes.Add) else list(node.nodes)
            folded = [self.fold(p, depth + 1) for p in parts]
            texts = [f for f in folded if f is not None]
            if len(texts) != len(folded) or not self._made(sum(map(len, texts))):
                return None
            return "".join(texts)
        if isinstance(node, nodes.Mul):
            left, right = self.fold(node.left, depth + 1), node.right
            if (
                left is not None
                and isinstance(right, nodes.Const)
                and isinstance(right.value, int)
                and 0 <= right.value <= 64
                and self._made(len(left) * right.value)
            ):
                return left * right.value
            return None
        if isinstance(node, nodes.Filter) and node.node is not None:
            return self._filter(node, depth)
        return None

    def _filter(self, node: nodes.Filter, depth: int) -> str | None:
        assert node.node is not None
        if isinstance(node.node, (nodes.List, nodes.Tuple)) and node.name == "join":
            items = [self.fold(i, depth + 1) for i in node.node.items]
            sep = self.fold(node.args[0], depth + 1) if node.args else ""
            texts = [i for i in items if i is not None]
            if sep is None or len(texts) != len(items):
                return None
            if not self._made(sum(map(len, texts)) + len(sep) * max(0, len(texts) - 1)):
                return None
            return sep.join(texts)
        inner = self.fold(node.node, depth + 1)
        if inner is None:
            return None
        if node.name == "reverse":
            return inner[::-1]
        if node.name in {"lower", "upper", "trim", "string"}:
            return {"lower": inner.lower, "upper": inner.upper, "trim": inner.strip}.get(node.name, lambda: inner)()
        if node.name == "replace" and len(node.args) >= 2:
            old, new = self.fold(node.args[0], depth + 1), self.fold(node.args[1], depth + 1)
            if old is None or new is None:
                return None
            count = len(inner) + 1 if old == "" else inner.count(old)
            if not self._made(len(inner) + count * max(0, len(new) - len(old))):
                return None
            return inner.replace(old, new)
        if node.name == "format":
            return inner
        return None


def _is_escape_name(name: str) -> bool:
    return name in ESCAPE_ATTRS or (name.startswith("__") and name.endswith("__") and len(name) > 4)


def _constants(tree: nodes.Template) -> _Folder:
    """``{% set name = <constant string> %}`` assignments (the last foldable one wins)."""
    folder = _Folder()
    for _ in range(2):  # a second pass resolves names built from other names
        for assign in tree.find_all(nodes.Assign):
            if isinstance(assign.target, nodes.Name):
                value = folder.fold(assign.node)
                if value is not None:
                    folder.names[assign.target.name] = value
    return folder


def _issues(tree: nodes.Template) -> Iterator[TemplateIssue]:
    folder = _constants(tree)
    names = folder.names
    for assign in tree.find_all(nodes.Assign):
        if isinstance(assign.target, nodes.Name) and _is_escape_name(names.get(assign.target.name, "")):
            value = names[assign.target.name]
            yield TemplateIssue(Severity.HIGH, f"builds the name {value} in {assign.target.name}", assign.lineno)
    for const in tree.find_all(nodes.Const):
        if isinstance(const.value, str) and const.value.strip() in ESCAPE_ATTRS:
            yield TemplateIssue(Severity.HIGH, f"holds the string {const.value.strip()!r}", const.lineno)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Call, nodes.Name)):
        line = getattr(node, "lineno", 0) or 0
        if isinstance(node, nodes.Getattr):
            yield from _attr_issue(node.attr, line, node.node)
        elif isinstance(node, nodes.Getitem):
            key = folder.fold(node.arg)
            if key is not None:
                yield from _attr_issue(key, line, node.node)
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            key = folder.fold(node.args[0])
            if key is None:
                yield TemplateIssue(Severity.MEDIUM, "attr filter with a computed attribute name", line)
            else:
                yield from _attr_issue(key, line, node.node)
        elif isinstance(node, nodes.Filter) and node.name == "map" and node.kwargs:
            for kw in node.kwargs:
                key = folder.fold(kw.value) if kw.key == "attribute" else None
                if key is not None:
                    yield from _attr_issue(key, line, node.node)
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in EXEC_NAMES:
            yield TemplateIssue(Severity.CRITICAL, f"calls {node.node.name}()", line)


def _attr_issue(name: str, line: int, target: nodes.Node | None) -> Iterator[TemplateIssue]:
    base = target.name if isinstance(target, nodes.Name) else None
    via = f" on {base}" if base else ""
    if base in GADGETS:
        via += " (a known sandbox-escape gadget)"
    if _is_escape_name(name):
        severity = Severity.CRITICAL if name in ESCAPE_ATTRS else Severity.HIGH
        yield TemplateIssue(severity, f"reaches Python internals: {name}{via}", line)
    elif name in EXEC_NAMES:
        yield TemplateIssue(Severity.CRITICAL, f"reaches {name}{via}", line)
    elif name.startswith("_"):
        yield TemplateIssue(Severity.HIGH, f"reads the private attribute {name}{via}", line)


def check_template(ctx: ScanContext, source: str, member: str | None, *, rule_prefix: str = "chat template") -> bool:
    """Parse ``source`` and report escapes into ``ctx``; returns True when something was reported."""
    if len(source) > ctx.limits.max_source_bytes:
        raise LimitExceeded(f"{rule_prefix} size", ctx.limits.max_source_bytes, len(source))
    env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do", _GenerationTag])
    try:
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        ctx.add(
            finding(
                "MH402",
                f"{rule_prefix} does not parse: {exc.message} (line {exc.lineno})",
                location=Location(member=member, line=exc.lineno),
                evidence=_line(source, exc.lineno),
            )
        )
        return True
    except RecursionError as exc:
        raise LimitExceeded(f"{rule_prefix} nesting (Python's recursion limit)", sys.getrecursionlimit()) from exc
    issues = sorted(set(_issues(tree)), key=lambda i: (-i.severity.rank, i.line, i.what))
    if issues:
        worst = issues[0]
        whats = list(dict.fromkeys(f"{i.what} (line {i.line})" for i in issues))
        more = f" and {len(whats) - MAX_LISTED} more" if len(whats) > MAX_LISTED else ""
        ctx.add(
            finding(
                "MH401",
                f"{rule_prefix} {'; '.join(whats[:MAX_LISTED])}{more}",
                location=Location(member=member, line=worst.line or None),
                evidence=_line(source, worst.line),
                severity=worst.severity,
            )
        )
    return bool(issues)


def _line(source: str, line: int | None) -> str:
    if not line:
        return source[:200]
    lines = source.splitlines()
    return lines[line - 1][:300] if 0 < line <= len(lines) else source[:200]


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    """A chat template file on its own (``chat_template.jinja``), checked like ``tokenizer.chat_template``."""
    limit = ctx.limits.max_source_bytes
    if src.size > limit:
        raise LimitExceeded("chat template size", limit, src.size)
    text = src.read_at(0, src.size).decode("utf-8", "replace")
    check_template(ctx, text, None)
