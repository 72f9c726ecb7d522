"""Call sites of a Python text, with arguments, positions and the constants they resolve to.

Reading only, never executing: names are resolved through the module's imports and its
module-level constant assignments (``MODEL = "org/name"``), f-strings of constants and ``+`` of
strings are folded. Everything else is "unknown" (``UNKNOWN``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from malhug.analyzers.usercode.spans import SourceLines, Span

if TYPE_CHECKING:
    from malhug.analyzers.usercode.blocks import Block

# Call names worth a closer look (others can never be a reference or a risky load).
INTERESTING = frozenset(
    {
        "from_pretrained",
        "pipeline",
        "load_dataset",
        "load_dataset_builder",
        "get_dataset_config_names",
        "hf_hub_download",
        "snapshot_download",
        "SentenceTransformer",
        "CrossEncoder",
        "SparseEncoder",
        "load",
        "loads",
        "Unpickler",
        "read_pickle",
        "load_model",
        "load_state_dict_from_url",
        "open",
        "ls",
        "glob",
        "read_text",
        "read_bytes",
        "cat",
        "cat_file",
        "get",
        "find",
        "info",
        "exists",
        "create_model",
        "create_model_and_transforms",
        "from_preset",
    }
)

UNKNOWN: Any = object()
_MAX_FOLD_DEPTH = 8


@dataclass(frozen=True)
class Arg:
    name: str | None  # keyword name, None for a positional argument
    span: Span  # the whole argument (``name=value`` for a keyword)
    value_span: Span
    value: Any  # a resolved constant, or UNKNOWN


@dataclass(frozen=True)
class CallSite:
    func: str  # canonical dotted name ("torch.load", "transformers.AutoModel.from_pretrained"), "" if unknown
    written: str  # the dotted name as written ("th.load")
    span: Span  # the whole call
    func_span: Span
    args: tuple[Arg, ...]  # source order

    @property
    def method(self) -> str:
        return self.func.rsplit(".", 1)[-1] if self.func else ""

    def keyword(self, name: str) -> Arg | None:
        for arg in self.args:
            if arg.name == name:
                return arg
        return None

    def positional(self, index: int) -> Arg | None:
        pos = [a for a in self.args if a.name is None]
        return pos[index] if index < len(pos) else None


@dataclass
class ModuleScope:
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> dotted module path
    constants: dict[str, Any] = field(default_factory=dict)  # module-level NAME -> constant (UNKNOWN if ambiguous)
    hf_filesystems: set[str] = field(default_factory=set)  # names bound to HfFileSystem(...)


def dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def canonical(name: str, scope: ModuleScope) -> str:
    head, _, rest = name.partition(".")
    base = scope.aliases.get(head)
    if base is None:
        return name
    return f"{base}.{rest}" if rest else base


def fold(node: ast.AST, scope: ModuleScope, depth: int = 0) -> Any:
    """The constant value of ``node`` when it is one, else UNKNOWN."""
    if depth > _MAX_FOLD_DEPTH:
        return UNKNOWN
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return scope.constants.get(node.id, UNKNOWN)
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                out.append(part.value)
            elif isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None:
                value = fold(part.value, scope, depth + 1)
                if not isinstance(value, str | int):
                    return UNKNOWN
                out.append(str(value))
            else:
                return UNKNOWN
        return "".join(out)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = fold(node.left, scope, depth + 1), fold(node.right, scope, depth + 1)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
    return UNKNOWN


def module_scope(blocks: list[Block]) -> ModuleScope:
    scope = ModuleScope()
    for block in blocks:
        for local, target, plain in block.info.imports:
            if plain:
                scope.aliases.setdefault(local, target)
            else:
                scope.aliases[local] = target
    seen: dict[str, int] = {}
    for block in blocks:
        for name, value in block.info.assigns:
            seen[name] = seen.get(name, 0) + 1
            scope.constants[name] = fold(value, scope) if seen[name] == 1 else UNKNOWN
    for block in blocks:
        for name, func in block.info.fs_assigns:
            if canonical(func, scope).endswith("HfFileSystem"):
                scope.hf_filesystems.add(name)
    return scope


def _args(call: ast.Call, scope: ModuleScope, src: SourceLines, offset: int) -> tuple[Arg, ...]:
    out: list[Arg] = []
    for a in call.args:
        if isinstance(a, ast.Starred):
            out.append(Arg("*", src.span(a, offset), src.span(a, offset), UNKNOWN))
        else:
            out.append(Arg(None, src.span(a, offset), src.span(a, offset), fold(a, scope)))
    for kw in call.keywords:
        value_span = src.span(kw.value, offset)
        if kw.arg is None:
            out.append(Arg("**", src.span(kw, offset), value_span, UNKNOWN))
        else:
            out.append(Arg(kw.arg, src.span(kw, offset), value_span, fold(kw.value, scope)))
    out.sort(key=lambda a: (a.span.line, a.span.col))
    return tuple(out)


def call_sites(blocks: list[Block], scope: ModuleScope) -> Iterator[CallSite]:
    for block in blocks:
        src, offset = block.info.src, block.start
        for node, written, flagged in block.info.calls:
            head = written.split(".", 1)[0]
            func = canonical(written, scope)
            if not flagged and func.rsplit(".", 1)[-1] not in INTERESTING:
                continue
            if head in scope.hf_filesystems:
                func = "huggingface_hub.HfFileSystem()." + written.split(".", 1)[-1]
            elif "()." in written:
                func = canonical(written.split("().", 1)[0], scope) + "()." + written.split("().", 1)[1]
            yield CallSite(
                func=func,
                written=written,
                span=src.span(node, offset),
                func_span=src.span(node.func, offset),
                args=_args(node, scope, src, offset),
            )
