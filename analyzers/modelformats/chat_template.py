"""Chat templates (GGUF ``tokenizer.chat_template``, ``tokenizer_config.json``): sandbox escapes.

Templates are parsed with Jinja2 and the AST is walked; nothing is ever rendered. A template is
malicious when it reaches Python internals (dunder attributes, ``__globals__``/``__builtins__``,
``os.popen``) directly, through the ``attr`` filter, through subscripts, or through strings built
by concatenation, joins, reversal or repetition. Ordinary templates (loops over messages, ``namespace``,
``raise_exception``, ``strftime_now``) stay clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import LimitExceeded
from malhug.analyzers.source import ByteSource
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


def _fold(node: nodes.Node, depth: int = 0, names: dict[str, str] | None = None) -> str | None:
    """The constant string value of an expression built from literals (and ``{% set %}`` names of
    such values), else None."""
    if depth > 50:
        return None
    if isinstance(node, nodes.Const):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, nodes.Name) and names is not None:
        return names.get(node.name)
    if isinstance(node, (nodes.Add, nodes.Concat)):
        parts = [node.left, node.right] if isinstance(node, nodes.Add) else list(node.nodes)
        folded = [_fold(p, depth + 1, names) for p in parts]
        return "".join(f for f in folded if f is not None) if all(f is not None for f in folded) else None
    if isinstance(node, nodes.Mul):
        left, right = _fold(node.left, depth + 1, names), node.right
        if (
            left is not None
            and isinstance(right, nodes.Const)
            and isinstance(right.value, int)
            and 0 <= right.value <= 64
        ):
            return left * right.value
        return None
    if isinstance(node, nodes.Filter) and node.node is not None:
        inner: str | None
        if isinstance(node.node, (nodes.List, nodes.Tuple)) and node.name == "join":
            items = [_fold(i, depth + 1, names) for i in node.node.items]
            sep = _fold(node.args[0], depth + 1, names) if node.args else ""
            if sep is None or any(i is None for i in items):
                return None
            return sep.join(i for i in items if i is not None)
        inner = _fold(node.node, depth + 1, names)
        if inner is None:
            return None
        if node.name == "reverse":
            return inner[::-1]
        if node.name in {"lower", "upper", "trim", "string"}:
            return {"lower": inner.lower, "upper": inner.upper, "trim": inner.strip}.get(node.name, lambda: inner)()
        if node.name == "replace" and len(node.args) >= 2:
            old, new = _fold(node.args[0], depth + 1, names), _fold(node.args[1], depth + 1, names)
            return inner.replace(old, new) if old is not None and new is not None else None
        if node.name == "format":
            return inner
        return None
    return None


def _is_escape_name(name: str) -> bool:
    return name in ESCAPE_ATTRS or (name.startswith("__") and name.endswith("__") and len(name) > 4)


def _constants(tree: nodes.Template) -> dict[str, str]:
    """``{% set name = <constant string> %}`` assignments (the last foldable one wins)."""
    names: dict[str, str] = {}
    for _ in range(2):  # a second pass resolves names built from other names
        for assign in tree.find_all(nodes.Assign):
            if isinstance(assign.target, nodes.Name):
                value = _fold(assign.node, 0, names)
                if value is not None:
                    names[assign.target.name] = value
    return names


def _issues(tree: nodes.Template) -> Iterator[TemplateIssue]:
    names = _constants(tree)
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
            key = _fold(node.arg, 0, names)
            if key is not None:
                yield from _attr_issue(key, line, node.node)
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            key = _fold(node.args[0], 0, names)
            if key is None:
                yield TemplateIssue(Severity.MEDIUM, "attr filter with a computed attribute name", line)
            else:
                yield from _attr_issue(key, line, node.node)
        elif isinstance(node, nodes.Filter) and node.name == "map" and node.kwargs:
            for kw in node.kwargs:
                key = _fold(kw.value, 0, names) if kw.key == "attribute" else None
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
        raise LimitExceeded(f"{rule_prefix} nesting", 0) from exc
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
