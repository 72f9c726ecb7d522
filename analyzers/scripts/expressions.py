"""Expression evaluation: constant folding, taint propagation, name and attribute resolution."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from malhug.analyzers.scripts.knowledge import BUILTINS, SYSINFO_WEAK
from malhug.analyzers.scripts.values import (
    HOLE,
    MAX_TEXT,
    UNKNOWN,
    Taint,
    Val,
    const,
    join,
    merge_taints,
    taints_of,
    text_val,
)

if TYPE_CHECKING:
    from malhug.analyzers.scripts.engine import Engine, Frame

MAX_ITEMS = 4096
_PCT_WIDTH = re.compile(r"%[-+ #0]*(?:\d{4,}|\*)")


def string_literal(node: cst.SimpleString) -> Val:
    """The value of a string literal; the common case (no escapes) without ``ast.literal_eval``."""
    prefix = node.prefix.lower()
    quote = node.quote
    body = node.value[len(prefix) + len(quote) : len(node.value) - len(quote)]
    if ("\\" not in body or "r" in prefix) and "b" not in prefix:
        return const(body)
    try:
        return const(node.evaluated_value)
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError):
        return Val(text=HOLE)


def number_literal(node: cst.Integer | cst.Float) -> Val:
    """The value of a number literal (libcst evaluates it with ``ast.literal_eval``)."""
    try:
        return const(node.evaluated_value)
    except ValueError:  # an integer too long to convert
        return Val()


class Expressions:
    def __init__(self, engine: Engine):
        from malhug.analyzers.scripts.calls import Calls

        self.engine = engine
        self.calls = Calls(engine, self)
        # Literal values by node, for the whole analysis (every fixpoint pass sees the same literals).
        self.literals: dict[int, Val] = {}

    def eval(self, node: cst.BaseExpression, frame: Frame) -> Val:
        # Exact type tests: libcst nodes are concrete classes, and isinstance on them goes through ABCs.
        if type(node) is cst.Name:
            return self.name(node, frame)
        if type(node) is cst.Attribute:
            return self.attribute(node, frame)
        if type(node) is cst.Call:
            return self.calls.call(node, frame)
        if type(node) is cst.SimpleString:
            val = self.literals.get(id(node))
            if val is None:
                val = self.literals[id(node)] = string_literal(node)
            return val
        if type(node) is cst.ConcatenatedString:
            parts: list[Val] = []
            cur: cst.BaseExpression = node
            while type(cur) is cst.ConcatenatedString:  # right-nested: "a" "b" "c"
                parts.append(self.eval(cur.left, frame))
                cur = cur.right
            parts.append(self.eval(cur, frame))
            return text_val(parts)
        if type(node) is cst.FormattedString:
            return self.fstring(node, frame)
        if type(node) is cst.Integer or type(node) is cst.Float:
            val = self.literals.get(id(node))
            if val is None:
                val = self.literals[id(node)] = number_literal(node)
            return val
        if type(node) is cst.BinaryOperation:
            return self.binary_chain(node, frame)
        if type(node) is cst.BooleanOperation:
            return join(self.eval(node.left, frame), self.eval(node.right, frame))
        if type(node) is cst.UnaryOperation:
            inner = self.eval(node.expression, frame)
            if (
                isinstance(node.operator, cst.Minus)
                and isinstance(inner.const, int | float)
                and not isinstance(inner.const, bool)
            ):
                return const(-inner.const)
            return Val(taints=inner.taints)
        if type(node) is cst.Comparison:
            compared = [self.eval(node.left, frame)] + [self.eval(c.comparator, frame) for c in node.comparisons]
            return Val(taints=taints_of(compared))
        if type(node) is cst.Subscript:
            return self.subscript(node, frame)
        if isinstance(node, cst.List | cst.Tuple | cst.Set):
            return self.sequence(node.elements, frame)
        if type(node) is cst.Dict:
            vals: list[Val] = []
            for el in node.elements:
                if isinstance(el, cst.DictElement):
                    self.eval(el.key, frame)
                    vals.append(self.calls.as_data(self.eval(el.value, frame), el.value))
                else:
                    vals.append(self.eval(el.value, frame))
            return Val(kind="dict", taints=taints_of(vals))
        if isinstance(node, cst.ListComp | cst.SetComp | cst.GeneratorExp):
            return self.comprehension(node, node.elt, frame)
        if type(node) is cst.DictComp:
            return Val(kind="dict", taints=self.comprehension(node, node.value, frame).taints)
        if type(node) is cst.IfExp:
            self.eval(node.test, frame)
            return join(self.eval(node.body, frame), self.eval(node.orelse, frame))
        if type(node) is cst.Await:
            return self.eval(node.expression, frame)
        if type(node) is cst.NamedExpr:
            val = self.eval(node.value, frame)
            self.engine.assign(node.target, val, frame, node)
            return val
        if type(node) is cst.Yield:
            if isinstance(node.value, cst.BaseExpression):
                return self.eval(node.value, frame)
            if isinstance(node.value, cst.From):
                return self.eval(node.value.item, frame)
            return Val()
        if type(node) is cst.StarredElement:
            return self.eval(node.value, frame)
        if type(node) is cst.Lambda:
            return Val(kind="lambda")
        return Val()

    # -- names and attributes --------------------------------------------------------------------
    def name(self, node: cst.Name, frame: Frame) -> Val:
        value = node.value
        found = self.engine.lookup(value, frame)
        if found is not None:
            return found
        if value in ("True", "False", "None"):
            return const({"True": True, "False": False, "None": None}[value])
        if value == "__builtins__":
            return Val(ref="builtins")
        if value in BUILTINS:
            return Val(ref=f"builtins.{value}")
        if value == "__file__":
            return Val(text="<this file>", kind="path")
        # An unbound name: decompiled payloads use modules without importing them (`torch.os.system`).
        return Val(ref=value)

    def attribute(self, node: cst.Attribute, frame: Frame) -> Val:
        base = self.eval(node.value, frame)
        attr = node.attr.value
        if base.ref is not None:
            return self.member(base, attr, node)
        if base.kind in ("socket",) and attr in ("recv", "send"):
            return Val(kind="socket", taints=base.taints)
        if base.kind == "popen" and attr in ("stdin", "stdout", "stderr"):
            return Val(kind=f"pipe-{attr}", taints=base.taints)
        return Val(taints=base.taints, kind="path" if base.kind == "path" else None)

    def member(self, base: Val, attr: str, node: cst.CSTNode) -> Val:
        """``base.attr`` where ``base`` names something (a module, a local class, an instance)."""
        ref = base.ref or ""
        engine = self.engine
        if ref.startswith(("<local>.", "<self>.")):
            cls = ref.split(".", 1)[1]
            if cls in engine.classes:
                key = f"{cls}.{attr}"
                if key in engine.attrs and engine.attrs[key].ref != f"<local>.{key}":
                    return engine.attrs[key]
                if key in engine.funcs:
                    return Val(ref=f"<local>.{key}", kind="bound" if ref.startswith("<self>.") else None)
                return engine.attrs.get(key, Val())
            return Val()
        if ref == "<globals>":
            return Val(ref="<globals>")
        if attr == "__dict__" and ref == "builtins":
            return Val(ref="builtins")
        full = f"{ref}.{attr}"
        if attr == "__file__":
            return Val(ref=full, kind="modfile", text=f"<source of {ref}>")
        if full in SYSINFO_WEAK and full in ("sys.platform", "os.name"):
            return Val(ref=full, taints=(Taint("sysinfo", full, (self.engine.step(f"reads {full}", node),)),))
        return Val(ref=full)

    def subscript(self, node: cst.Subscript, frame: Frame) -> Val:
        base = self.eval(node.value, frame)
        index: Val | None = None
        sl: cst.BaseSlice | None = node.slice[0].slice if len(node.slice) == 1 else None
        if isinstance(sl, cst.Index):
            index = self.eval(sl.value, frame)
        ref = base.ref
        if index is not None and isinstance(index.const, str):
            key = index.const
            if ref == "os.environ":
                return self.calls.env_read(key, node, frame)
            if ref == "<globals>":
                if key == "__builtins__":
                    return Val(ref="builtins")
                return self.engine.globals.get(key) or (Val(ref=f"builtins.{key}") if key in BUILTINS else Val())
            if ref == "builtins":
                return Val(ref=f"builtins.{key}")
            if ref == "sys.modules":
                return Val(ref=key)
        if isinstance(base.const, str | bytes) and sl is not None:
            folded = self.fold_slice(base, sl, index, frame)
            if folded is not None:
                return folded
        if (
            base.items is not None
            and index is not None
            and isinstance(index.const, int)
            and not isinstance(index.const, bool)
        ):
            if -len(base.items) <= index.const < len(base.items):
                return base.items[index.const]
        return Val(taints=merge_taints(base.taints, index.taints if index else ()))

    def fold_slice(self, base: Val, sl: cst.BaseSlice, index: Val | None, frame: Frame) -> Val | None:
        text = base.const
        assert isinstance(text, str | bytes)
        if index is not None:
            if (
                isinstance(index.const, int)
                and not isinstance(index.const, bool)
                and -len(text) <= index.const < len(text)
            ):
                return const(text[index.const], taints=base.taints)
            return None
        if not isinstance(sl, cst.Slice):
            return None
        parts: list[int | None] = []
        for part in (sl.lower, sl.upper, sl.step):
            if part is None:
                parts.append(None)
                continue
            v = self.eval(part, frame)
            if not isinstance(v.const, int) or isinstance(v.const, bool):
                return None
            parts.append(v.const)
        if parts[2] == 0:
            return None
        decoded = "reversed slice" if parts[2] is not None and parts[2] < 0 else base.decoded
        return const(text[parts[0] : parts[1] : parts[2]], decoded=decoded, taints=base.taints)

    # -- strings and operators -------------------------------------------------------------------
    def fstring(self, node: cst.FormattedString, frame: Frame) -> Val:
        parts: list[Val] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(const(part.value))
            elif isinstance(part, cst.FormattedStringExpression):
                val = self.calls.as_data(self.eval(part.expression, frame), part.expression)
                parts.append(
                    val
                    if isinstance(val.const, str)
                    else Val(text=val.approx(), taints=val.taints, decoded=val.decoded)
                )
        return text_val(parts)

    def binary_chain(self, node: cst.BinaryOperation, frame: Frame) -> Val:
        """``a + b + c + …`` (left-nested) evaluated iteratively: obfuscators build thousands."""
        spine: list[cst.BinaryOperation] = [node]
        while type(spine[-1].left) is cst.BinaryOperation:
            spine.append(spine[-1].left)
        acc = self.eval(spine[-1].left, frame)
        for op_node in reversed(spine):
            acc = self.binary(acc, self.eval(op_node.right, frame), op_node.operator)
        return acc

    def binary(self, a: Val, b: Val, op: cst.BaseBinaryOp | cst.BaseAugOp) -> Val:
        taints = merge_taints(a.taints, b.taints)
        if isinstance(op, cst.Add | cst.AddAssign):
            if isinstance(a.const, int | float) and isinstance(b.const, int | float):
                return const(a.const + b.const) if abs(a.const) < 1 << 64 and abs(b.const) < 1 << 64 else Val()
            if a.items is not None and b.items is not None and len(a.items) + len(b.items) <= MAX_ITEMS:
                return Val(items=a.items + b.items, kind="list", taints=taints)
            return text_val([a, b])
        if isinstance(op, cst.Modulo | cst.ModuloAssign) and isinstance(a.const, str | bytes):
            return self.percent(a, b, taints)
        if isinstance(op, cst.Multiply | cst.MultiplyAssign):
            if (
                isinstance(a.const, str | bytes)
                and isinstance(b.const, int)
                and 0 <= b.const
                and len(a.const) * b.const <= MAX_TEXT
            ):
                return const(a.const * b.const, taints=taints)
            if (
                isinstance(a.const, int)
                and isinstance(b.const, int)
                and abs(a.const) < 1 << 32
                and abs(b.const) < 1 << 32
            ):
                return const(a.const * b.const)
            return Val(taints=taints)
        if isinstance(op, cst.Divide | cst.DivideAssign) and (a.kind == "path" or b.kind == "path"):
            joined = text_val([a, const("/"), b])
            return Val(const=UNKNOWN, text=joined.approx(), kind="path", taints=taints)
        if isinstance(op, cst.BitXor) and isinstance(a.const, int) and isinstance(b.const, int):
            return const(a.const ^ b.const)
        return Val(taints=taints)

    def percent(self, a: Val, b: Val, taints: tuple[Taint, ...]) -> Val:
        fmt = a.const
        assert isinstance(fmt, str | bytes)
        args = b.items if b.items is not None else (b,)
        simple = all(isinstance(x.const, str | bytes | int | float) for x in args)
        pattern = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
        if simple and len(fmt) < MAX_TEXT and not _PCT_WIDTH.search(pattern):
            try:
                return const(fmt % tuple(x.const for x in args), taints=taints)
            except (TypeError, ValueError, KeyError, OverflowError):
                return Val(text=pattern, taints=taints)
        holes = re.sub(r"%[-+ #0-9.]*[a-zA-Z]", lambda _m: " ".join(x.approx() for x in args[:1]) or HOLE, pattern)
        return Val(text=holes[:MAX_TEXT], taints=taints, decoded=a.decoded)

    def sequence(self, elements: Sequence[cst.BaseElement], frame: Frame) -> Val:
        items: list[Val] = []
        starred = False
        for el in elements:
            val = self.calls.as_data(self.eval(el.value, frame), el.value)
            items.append(val)
            starred = starred or isinstance(el, cst.StarredElement)
        return Val(
            items=None if starred or len(items) > MAX_ITEMS else tuple(items), kind="list", taints=taints_of(items)
        )

    def iter_item(self, val: Val) -> Val:
        if val.kind == "walk":
            return Val(kind="walkitem", taints=val.taints, text=HOLE)
        if isinstance(val.const, str | bytes) and len(val.const) <= MAX_ITEMS:
            return Val(taints=val.taints)
        if val.items:
            out: Val | None = None
            for item in val.items[:64]:
                out = join(out, item)
            return out or Val()
        return Val(taints=val.taints, kind="walkitem" if val.kind == "walkitem" else None)

    def comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp, elt: cst.BaseExpression, frame: Frame
    ) -> Val:
        from malhug.analyzers.scripts.engine import Frame as FrameT

        inner = FrameT(
            dict(frame.locals),
            func=frame.func,
            cls=None,
            context=frame.context,
            side_effect=frame.side_effect,
            cond=frame.cond + 1,
            loops=frame.loops,
        )
        comp: cst.CompFor | None = node.for_in
        first = True
        folded: list[Val] | None = None
        while comp is not None:
            it = self.eval(comp.iter, inner)
            simple = first and comp.inner_for_in is None and not comp.ifs and isinstance(comp.target, cst.Name)
            seq = (
                it.items
                if it.items is not None
                else (tuple(const(c) for c in it.const) if isinstance(it.const, bytes) else None)
            )
            if simple and seq is not None and len(seq) <= MAX_ITEMS and isinstance(comp.target, cst.Name):
                folded = []
                for item in seq:
                    inner.locals[comp.target.value] = item
                    folded.append(self.eval(elt, inner))
                return Val(items=tuple(folded), kind="list", taints=taints_of(folded))
            self.engine.assign(comp.target, self.iter_item(it), inner, comp)
            for cond in comp.ifs:
                self.eval(cond.test, inner)
            comp = comp.inner_for_in
            first = False
        val = self.eval(elt, inner)
        return Val(kind="list", taints=val.taints)
