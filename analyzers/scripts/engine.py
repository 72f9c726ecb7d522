"""The taint engine: one libcst parse, an abstract interpretation of the module and its functions.

Statements are interpreted in order over an environment of abstract values (``values.Val``).
Functions and methods get context-insensitive summaries (joined argument values, joined return
value, ``self.x`` attributes per class); the module and every function are interpreted again until
the summaries stop changing (a small fixpoint, bounded by ``MAX_PASSES``). Calls are given meaning
by ``calls.Calls``: sources add taints, sinks report findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import libcst as cst

from malhug.analyzers.gcpause import no_cyclic_gc
from malhug.analyzers.scripts import expressions, parsing, relevance
from malhug.analyzers.scripts.budget import Budget, BudgetExceeded
from malhug.analyzers.scripts.findings import Pending, Result
from malhug.analyzers.scripts.knowledge import BUILDER_BASES, BUILDER_METHODS, DANGEROUS_IMPORTS
from malhug.analyzers.scripts.rules import RISKY_IMPORT
from malhug.analyzers.scripts.values import HOLE, Step, Taint, Val, join, merge_taints

MAX_PASSES = 4
MAX_LOOP_NESTING = 2
MAX_DEPTH = 6


@dataclass
class Func:
    qualname: str  # "f", "Class.method"
    node: cst.FunctionDef
    cls: str | None
    context: str  # human description of when it runs
    side_effect: bool  # runs on import / when the dataset is loaded
    outer: dict[str, Val] | None
    params: list[str] = field(default_factory=list)
    args: dict[str, Val] = field(default_factory=dict)
    defaults: dict[str, Val] = field(default_factory=dict)
    ret: Val | None = None
    top: cst.CSTNode | None = None  # the top-level statement that defines it


@dataclass
class Frame:
    locals: dict[str, Val]
    func: Func | None = None
    cls: str | None = None  # inside a class body
    context: str = "runs on import"
    side_effect: bool = True
    cond: int = 0
    loops: list[str] = field(default_factory=list)
    globals_decl: set[str] = field(default_factory=set)


class Engine:
    def __init__(
        self, module: cst.Module, *, embedded: bool, depth: int, budget: Budget | None = None, load_time: bool = True
    ):
        self.module = module
        # False for a file that loading does not run (a training script): see scope.py.
        self.load_time = load_time
        self.budget = budget or Budget()
        self.steps = 0
        self.seq = 0  # statements interpreted so far in this pass (passes interpret in the same order)
        # Where in a pass each (scope, path) download was noted: an assignment interpreted before it
        # in the same scope is not "assigned a downloaded file" (a later pass would otherwise say so,
        # and whether there is a later pass depends on unrelated code).
        self.download_seq: dict[tuple[str, str], int] = {}
        self.embedded = embedded
        self.depth = depth
        self.globals: dict[str, Val] = {}
        self.attrs: dict[str, Val] = {}
        self.funcs: dict[str, Func] = {}  # qualified name -> the latest definition (what calls reach)
        self.all_funcs: dict[int, Func] = {}  # every definition, by node identity (all are analyzed)
        self.classes: dict[str, bool] = {}  # class name -> is a dataset builder
        self.findings: dict[tuple[int, str], Pending] = {}
        self.changed = False
        self.events: dict[str, list[Step]] = {}
        # The top-level statement being interpreted, and the one holding each node of a trace or finding:
        # positions are then computed for those statements only (findings.py).
        self.top: cst.CSTNode | None = None
        self.tops: dict[int, cst.CSTNode] = {}
        self.downloads: dict[str, Step] = {}  # file path -> where network data was saved to it
        # Paths only partly known (``os.path.join(tmp, "m.h5")``): by (function, text with holes), so
        # that the same path built again in that function (and returned) is the downloaded file.
        self.scoped_downloads: dict[tuple[str, str], Step] = {}
        self.exprs = expressions.Expressions(self)

    # -- reporting -------------------------------------------------------------------------------
    def step(self, message: str, node: cst.CSTNode) -> Step:
        """A trace step at ``node`` (a node of the statement being interpreted)."""
        if self.top is not None:
            self.tops.setdefault(id(node), self.top)
        return Step(message, node)

    def report(self, pending: Pending) -> None:
        if self.top is not None:
            self.tops.setdefault(id(pending.node), self.top)
        key = (id(pending.node), pending.rule)
        old = self.findings.get(key)
        if old is None or pending.severity.rank >= old.severity.rank:
            self.findings[key] = pending

    def event(self, name: str, step: Step) -> None:
        self.events.setdefault(name, []).append(step)

    # -- downloaded files ------------------------------------------------------------------------
    def note_download(self, path: Val, step: Step, frame: Frame) -> None:
        """Network data was saved to ``path``: later runs or loads of that file are download-exec."""
        text = path.approx()
        if text == HOLE or not text.strip():
            return
        if HOLE not in text:
            self.downloads.setdefault(text, step)
        key = (_scope(frame), text)
        self.scoped_downloads[key] = step  # the latest pass knows the most
        self.download_seq[key] = self.seq

    def mark_downloaded(self, val: Val, frame: Frame, *, assignment: bool = False) -> Val:
        """``val`` with the ``downloaded`` taint when it is the path of a file downloaded earlier:
        the same fixed path anywhere, or the same partly-known path built in the same function."""
        if not (self.downloads or self.scoped_downloads) or "downloaded" in val.labels:
            return val
        text = val.approx()
        if text == HOLE:
            return val
        key = (_scope(frame), text)
        if assignment and self.download_seq.get(key, 0) > self.seq:
            return val  # assigned before the download in this scope: marked where it is used
        step = self.downloads.get(text) if HOLE not in text else None
        step = step or self.scoped_downloads.get(key)
        if step is None:
            return val
        taint = Taint("downloaded", "a file downloaded from the network", (step,))
        return replace(val, taints=merge_taints(val.taints, (taint,)))

    # -- driver ----------------------------------------------------------------------------------
    def run(self) -> None:
        for _ in range(MAX_PASSES):
            self.changed = False
            self.seq = 0
            self.events = {}
            self.globals = {}
            frame = Frame(self.globals)
            for stmt in self.module.body:
                self.top = stmt
                self.statement(stmt, frame)
            for func in list(self.all_funcs.values()):
                self.run_func(func)
            self.top = None
            self.exprs.calls.finish_pass()
            if not self.changed:
                break

    def run_func(self, func: Func) -> None:
        self.top = func.top
        local: dict[str, Val] = {}
        for i, name in enumerate(func.params):
            val = func.args.get(name) or func.defaults.get(name) or Val()
            if i == 0 and func.cls is not None and name in ("self", "cls") and not self._is_static(func.node):
                val = Val(ref=f"<self>.{func.cls}")
            local[name] = val
        frame = Frame(local, func=func, context=func.context, side_effect=func.side_effect)
        self.block(func.node.body, frame)

    @staticmethod
    def _is_static(node: cst.FunctionDef) -> bool:
        for d in node.decorators:
            if isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod":
                return True
        return False

    # -- names -----------------------------------------------------------------------------------
    def lookup(self, name: str, frame: Frame) -> Val | None:
        if name in frame.locals:
            return frame.locals[name]
        func = frame.func
        if func is not None and func.outer is not None and name in func.outer:
            return func.outer[name]
        return self.globals.get(name)

    def bind(self, name: str, val: Val, frame: Frame, node: cst.CSTNode) -> None:
        target = self.globals if name in frame.globals_decl else frame.locals
        val = self.mark_downloaded(val, frame, assignment=True)
        if val.taints:
            val = val.then(self.step(f"assigned to {name}", node))
        if frame.cond and name in target:
            val = join(target[name], val)
        target[name] = val
        if frame.cls is not None and frame.func is None:
            self.set_attr(f"{frame.cls}.{name}", val)

    def set_attr(self, key: str, val: Val) -> None:
        old = self.attrs.get(key)
        new = join(old, val) if old is not None else val
        if old is None or old.signature() != new.signature():
            self.changed = True
        self.attrs[key] = new

    # -- statements ------------------------------------------------------------------------------
    def block(self, body: cst.BaseSuite | Sequence[cst.BaseStatement], frame: Frame) -> None:
        stmts: Sequence[cst.BaseStatement] | Sequence[cst.BaseSmallStatement]
        if type(body) is cst.IndentedBlock:
            stmts = body.body
        elif type(body) is cst.SimpleStatementSuite:
            stmts = body.body
        elif isinstance(body, cst.BaseSuite):
            return
        else:
            stmts = body
        for stmt in stmts:
            self.statement(stmt, frame)

    def statement(self, stmt: cst.CSTNode, frame: Frame) -> None:
        self.steps += 1
        self.seq += 1
        if not self.steps & 0xFF:
            self.budget.check_time()
        ex = self.exprs
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                self.statement(small, frame)
        elif type(stmt) is cst.Expr:
            if not isinstance(stmt.value, cst.SimpleString | cst.ConcatenatedString):  # docstrings
                ex.eval(stmt.value, frame)
        elif type(stmt) is cst.Assign:
            val = ex.eval(stmt.value, frame)
            for target in stmt.targets:
                self.assign(target.target, val, frame, stmt)
        elif type(stmt) is cst.AnnAssign:
            if stmt.value is not None:
                self.assign(stmt.target, ex.eval(stmt.value, frame), frame, stmt)
        elif type(stmt) is cst.AugAssign:
            cur = ex.eval(stmt.target, frame)
            val = ex.binary(cur, ex.eval(stmt.value, frame), stmt.operator)
            self.assign(stmt.target, val, frame, stmt)
        elif type(stmt) is cst.Return:
            if stmt.value is not None:
                val = ex.eval(stmt.value, frame)  # also at module level: decompiled Lambda bodies
                if frame.func is not None:
                    self.returns(frame.func, self.mark_downloaded(val, frame), stmt)
        elif isinstance(stmt, cst.Import | cst.ImportFrom):
            self.imports(stmt, frame)
        elif type(stmt) is cst.FunctionDef:
            self.define_function(stmt, frame)
        elif type(stmt) is cst.ClassDef:
            self.define_class(stmt, frame)
        elif type(stmt) is cst.If:
            ex.eval(stmt.test, frame)
            frame.cond += 1
            if frame.func is None and _is_main_guard(stmt.test):
                saved = (frame.context, frame.side_effect)
                frame.context, frame.side_effect = "runs when the file is executed as a script", False
                self.block(stmt.body, frame)
                frame.context, frame.side_effect = saved
            else:
                self.block(stmt.body, frame)
            if stmt.orelse is not None:
                self.statement(stmt.orelse, frame)
            frame.cond -= 1
        elif type(stmt) is cst.Else:
            self.block(stmt.body, frame)
        elif type(stmt) is cst.For:
            self.for_loop(stmt, frame)
        elif type(stmt) is cst.While:
            test = ex.eval(stmt.test, frame)
            kind = "forever" if test.const is True or test.const == 1 else "while"
            self.loop_body(stmt.body, frame, kind)
            if stmt.orelse is not None:
                self.block(stmt.orelse.body, frame)
        elif isinstance(stmt, cst.Try | cst.TryStar):
            frame.cond += 1
            self.block(stmt.body, frame)
            for handler in stmt.handlers:
                if handler.name is not None and isinstance(handler.name.name, cst.Name):
                    frame.locals[handler.name.name.value] = Val()
                self.block(handler.body, frame)
            if stmt.orelse is not None:
                self.block(stmt.orelse.body, frame)
            frame.cond -= 1
            if stmt.finalbody is not None:
                self.block(stmt.finalbody.body, frame)
        elif type(stmt) is cst.With:
            for item in stmt.items:
                val = ex.eval(item.item, frame)
                if item.asname is not None:
                    self.assign(item.asname.name, val, frame, item)
            self.block(stmt.body, frame)
        elif isinstance(stmt, cst.Global | cst.Nonlocal):
            frame.globals_decl.update(n.name.value for n in stmt.names if isinstance(stmt, cst.Global))
        elif type(stmt) is cst.Raise:
            if stmt.exc is not None:
                ex.eval(stmt.exc, frame)
        elif type(stmt) is cst.Assert:
            ex.eval(stmt.test, frame)
        elif type(stmt) is cst.Del:
            return
        elif type(stmt) is cst.Match:
            ex.eval(stmt.subject, frame)
            for case in stmt.cases:
                self.block(case.body, frame)

    def for_loop(self, stmt: cst.For, frame: Frame) -> None:
        it = self.exprs.eval(stmt.iter, frame)
        item = self.exprs.iter_item(it)
        self.assign(stmt.target, item, frame, stmt.target)
        self.loop_body(stmt.body, frame, "walk" if it.kind == "walk" else "for")
        if stmt.orelse is not None:
            self.block(stmt.orelse.body, frame)

    def loop_body(self, body: cst.BaseSuite, frame: Frame, kind: str) -> None:
        frame.loops.append(kind)
        frame.cond += 1
        rounds = 2 if len(frame.loops) <= MAX_LOOP_NESTING else 1
        for _ in range(rounds):
            self.block(body, frame)
        frame.cond -= 1
        frame.loops.pop()

    def assign(self, target: cst.BaseExpression, val: Val, frame: Frame, node: cst.CSTNode) -> None:
        if type(target) is cst.Name:
            self.bind(target.value, val, frame, node)
        elif isinstance(target, cst.Tuple | cst.List):
            elements = [e.value for e in target.elements]
            items = val.items if val.items is not None and len(val.items) == len(elements) else None
            for i, element in enumerate(elements):
                part = items[i] if items is not None else self.exprs.iter_item(val)
                self.assign(element, part, frame, node)
        elif type(target) is cst.Attribute:
            base = self.exprs.eval(target.value, frame)
            if base.ref is not None and base.ref.startswith(("<self>.", "<local>.")):
                cls = base.ref.split(".", 1)[1]
                self.set_attr(
                    f"{cls}.{target.attr.value}", val.then(self.step(f"stored in {cls}.{target.attr.value}", node))
                )
        elif isinstance(target, cst.Subscript):
            base_node = target.value
            if isinstance(base_node, cst.Name):
                cur = self.lookup(base_node.value, frame)
                if cur is not None and val.taints:
                    merged = join(cur, val)
                    frame.locals[base_node.value] = Val(kind=cur.kind, ref=cur.ref, taints=merged.taints)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, val, frame, node)

    def returns(self, func: Func, val: Val, node: cst.CSTNode) -> None:
        val = val.then(self.step(f"returned from {func.qualname}()", node))
        new = join(func.ret, val)
        if func.ret is None or func.ret.signature() != new.signature():
            self.changed = True
        func.ret = new

    # -- definitions -----------------------------------------------------------------------------
    def imports(self, stmt: cst.Import | cst.ImportFrom, frame: Frame) -> None:
        if isinstance(stmt, cst.Import):
            for alias in stmt.names:
                full = parsing.dotted(alias.name)
                if full is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.bind(alias.asname.name.value, Val(ref=full), frame, stmt)
                else:
                    self.bind(full.split(".")[0], Val(ref=full.split(".")[0]), frame, stmt)
                self._note_import(full, alias, frame)
            return
        module = parsing.dotted(stmt.module) if stmt.module is not None else ""
        prefix = "." * len(stmt.relative) + (module or "")
        if isinstance(stmt.names, cst.ImportStar):
            return
        for alias in stmt.names:
            name = parsing.dotted(alias.name)
            if name is None:
                continue
            bound = (
                alias.asname.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                else name
            )
            self.bind(bound, Val(ref=f"{prefix}.{name}" if prefix else name), frame, stmt)
            if prefix and not stmt.relative:
                self._note_import(f"{prefix}.{name}", alias, frame)

    def _note_import(self, full: str, node: cst.CSTNode, frame: Frame) -> None:
        top = full.split(".")[0]
        if not self.embedded and top in DANGEROUS_IMPORTS and frame.func is None:
            from malhug.analyzers.scripts.findings import pending

            self.report(pending(self, RISKY_IMPORT, node, f"imports {top}", frame=frame, evidence=f"import {full}"))

    def define_function(self, node: cst.FunctionDef, frame: Frame) -> None:
        name = node.name.value
        cls = frame.cls if frame.func is None else None
        qual = f"{cls}.{name}" if cls else (f"{frame.func.qualname}.{name}" if frame.func else name)
        for dec in node.decorators:
            self.exprs.eval(dec.decorator, frame)
        func = self.all_funcs.get(id(node))
        if func is None:
            is_builder = cls is not None and self.classes.get(cls, False)
            if is_builder and name in BUILDER_METHODS:
                context, side = f"runs when the dataset is loaded: {qual}", True
            else:
                context, side = f"in {qual}()", False
            func = Func(qual, node, cls, context, side, frame.locals if frame.func is not None else None, top=self.top)
            params = node.params
            for p in (*params.posonly_params, *params.params, *params.kwonly_params):
                func.params.append(p.name.value)
                if p.default is not None:
                    func.defaults[p.name.value] = self.exprs.eval(p.default, frame)
            self.all_funcs[id(node)] = func
            self.changed = True
        func.outer = frame.locals if frame.func is not None else None
        self.funcs[qual] = func
        ref = Val(ref=f"<local>.{qual}")
        if cls is not None:
            self.attrs.setdefault(f"{cls}.{name}", ref)
        else:
            frame.locals[name] = ref

    def define_class(self, node: cst.ClassDef, frame: Frame) -> None:
        name = node.name.value
        builder = False
        for base in node.bases:
            val = self.exprs.eval(base.value, frame)
            ref = val.ref or parsing.dotted(base.value) or ""
            if any(marker in ref for marker in BUILDER_BASES) or (
                ref.startswith("<local>.") and self.classes.get(ref[8:], False)
            ):
                builder = True
        self.classes[name] = builder
        frame.locals[name] = Val(ref=f"<local>.{name}")
        inner = Frame(
            {}, func=None, cls=name, context=f"runs on import (class {name} body)", side_effect=frame.side_effect
        )
        self.block(node.body, inner)


def _scope(frame: Frame) -> str:
    return frame.func.qualname if frame.func is not None else f"<class {frame.cls}>" if frame.cls else "<module>"


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, right = test.left, test.comparisons[0].comparator
    names = {n.value for n in (left, right) if isinstance(n, cst.Name)}
    strings = {n.evaluated_value for n in (left, right) if isinstance(n, cst.SimpleString)}
    return names == {"__name__"} and strings == {"__main__"}


def analyze_code(
    code: str,
    *,
    embedded: bool = False,
    depth: int = 0,
    path: str = "<script>",
    budget: Budget | None = None,
    load_time: bool = True,
    prune: bool = True,
    survey: relevance.Survey | None = None,
) -> Result:
    """Parse (repairing syntax errors by blanking the broken statements) and analyze ``code``.

    ``load_time`` says whether loading a model or dataset runs this file (scope.py); when it does not,
    ordinary commands in functions nothing calls on import are reported as notes. ``prune=False``
    analyzes every top-level definition (relevance.py; the tests compare both).
    """
    with no_cyclic_gc():
        return _analyze_code(
            code,
            embedded=embedded,
            depth=depth,
            path=path,
            budget=budget or Budget(),
            load_time=load_time,
            prune=prune,
            survey=survey,
        )


def _analyze_code(
    code: str,
    *,
    embedded: bool,
    depth: int,
    path: str,
    budget: Budget,
    load_time: bool,
    prune: bool,
    survey: relevance.Survey | None,
) -> Result:
    parsed = parsing.parse(code, prune=prune, survey=survey, max_statements=budget.max_statements)
    if parsed.module is None:
        incomplete = parsed.errors[0][1] if parsed.too_deep else parsed.incomplete
        return Result(
            module=None,
            findings=[],
            path=path,
            syntax_errors=[] if parsed.too_deep else parsed.errors,
            incomplete=incomplete,
        )
    engine = Engine(parsed.module, embedded=embedded, depth=depth, budget=budget, load_time=load_time)
    incomplete = parsed.incomplete
    if depth <= MAX_DEPTH:
        try:
            engine.run()
        except RecursionError:
            incomplete = "expressions nested too deeply to follow; findings so far are reported"
        except BudgetExceeded as exc:
            incomplete = f"{exc}; findings so far are reported"
    return Result(
        module=parsed.module,
        findings=list(engine.findings.values()),
        tops=engine.tops,
        tree=parsed.tree,
        path=path,
        syntax_errors=parsed.errors,
        incomplete=incomplete,
    )
