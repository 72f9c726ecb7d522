"""Turn a machine trace into findings: decide each call, import and mutation by its semantics."""

from __future__ import annotations

import dataclasses
from typing import Any

from malhug.analyzers.context import ScanContext
from malhug.analyzers.knowledge.callables import DANGEROUS_METHODS, Kind
from malhug.analyzers.limits import LimitExceeded
from malhug.analyzers.pickle.allowlist import HELPERS
from malhug.analyzers.pickle.fold import NOT_CONST, Folder
from malhug.analyzers.pickle.loadpolicy import (
    MAX_EVIDENCE,
    UNKNOWN_NAME,
    UNKNOWN_USED,
    LoadPolicy,
    call_finding,
    evidence_of,
)
from malhug.analyzers.pickle.machine import Trace
from malhug.analyzers.pickle.policy import (
    DANGEROUS_LEAVES,
    GETTER_FACTORIES,
    HARMLESS_WHEN_STORED,
    Danger,
    NameCache,
    NameFinder,
    looks_like_class,
    payload_index,
)
from malhug.analyzers.pickle.resolve import APPLIERS, GADGETS, GETATTRS, MODULE_PRODUCERS, Ref, Resolver, Target
from malhug.analyzers.pickle.values import Call, Global, render, short_name
from malhug.analyzers.shared.embedded import CodeAssessment
from malhug.core import failures
from malhug.core.model import Category, Finding, Location, Severity, TraceStep
from malhug.core.rules import finding

# The rules the judge emits, each id written only here (docs/RULES.md, "fires in").
CALLS_DANGER = "MH101"
REACHES_DANGER = "MH102"
CODE_BY_VALUE = "MH103"
NESTED_LOAD = "MH104"
DECODED_PAYLOAD = "MH105"
MODIFIES_IMPORT = "MH107"
IMPORTS_DANGER = "MH109"
EXTENSION_CODE = "MH110"

MAX_STEPS = 16  # steps of a reaching chain shown in a finding's trace
MAX_SAME = 50  # identical call findings listed before the rest are counted
_CRITICAL_KINDS = {
    Kind.SHELL,
    Kind.PYTHON,
    Kind.PYFILE,
    Kind.NETWORK,
    Kind.DOWNLOAD,
    Kind.BROWSER,
    Kind.NESTED,
    Kind.DESTRUCTIVE,
    Kind.FILE_WRITE,
    Kind.OPEN,
}
# Allowed callables whose calls still need resolving (their arguments decide).
_SPECIAL = frozenset(
    {
        "builtins.getattr",
        "functools.partial",
        "copyreg._reconstructor",
        "copyreg.__newobj__",
        "copyreg.__newobj_ex__",
        "torch.storage._load_from_bytes",
        *APPLIERS,
    }
)
_CODE_TYPES = {(t,) for t in ("CodeType", "FunctionType", "LambdaType", "MethodType", "CellType", "ModuleType")}
_PICKLE_LOADERS = ("pickle.", "dill.", "cloudpickle.", "_pickle.")
_WHAT = {
    Kind.SHELL: "a constant command",
    Kind.PYTHON: "constant code",
    Kind.PYFILE: "a constant target",
    Kind.NESTED: "constant serialized data",
}


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return None


class Judge:
    def __init__(self, ctx: ScanContext, trace: Trace, roots: list[Any], folder: Folder):
        self.ctx = ctx
        self.trace = trace
        self.roots = roots
        self.folder = folder
        self.resolver = Resolver(folder, ctx.limits.max_expression_depth, _registered_extensions(trace, folder))
        self.names = NameCache()
        self.named = NameFinder(lambda v: self.folder.fold(v)[0])
        self.consumed: set[int] = set()  # Globals reached as (part of) a callee
        self.absorbed_args: set[int] = set()  # calls whose payload a later call reported (compile → eval)
        self.assessed: dict[tuple[bool, str], CodeAssessment] = {}
        self._fed: dict[int, bool] = {}  # node id -> a network call is reachable below it
        self._entered: set[int] = set()
        self._fed_work = 0
        self._fed_next_check = 65536
        self.policy = LoadPolicy(ctx, folder, self.names, self.named, self._assess)

    # -- entry -----------------------------------------------------------------------------------

    def run(self) -> None:
        decided: list[tuple[Call, Finding]] = []
        absorbed: set[int] = set()
        try:
            self._judge_calls(decided, absorbed)
        finally:
            # Reported even when the time limit stops the judging part-way.
            absorbed |= self.absorbed_args
            self._report(decided, absorbed)
        self._imports()
        self._mutations()
        self.policy.discarded(self.roots)
        self.policy.report_notes()

    def _report(self, decided: list[tuple[Call, Finding]], absorbed: set[int]) -> None:
        """Add the call findings; one callable reported more than MAX_SAME times is summarised."""
        seen: dict[tuple[str, str], int] = {}
        excess: dict[tuple[str, str], Finding] = {}
        for call, result in decided:
            if id(call) in absorbed:
                continue
            key = (result.rule, result.message)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] <= MAX_SAME:
                self.ctx.add(result)
            elif key not in excess:
                excess[key] = result
        for key, result in excess.items():
            more = seen[key] - MAX_SAME
            self.ctx.add(
                dataclasses.replace(result, message=f"{result.message} (this and {more - 1} more calls like it)")
            )

    def _judge_calls(self, decided: list[tuple[Call, Finding]], absorbed: set[int]) -> None:
        plain: dict[int, bool] = {}  # Global id -> an allowed callable with no special semantics
        for i, call in enumerate(self.trace.calls):
            if i % 2048 == 0:
                self.ctx.check_time()
            func = call.func
            if type(func) is Global and call.kind != "setstate":
                ok = plain.get(id(func))
                if ok is None:
                    name, chained = func.canon
                    ok = plain[id(func)] = (
                        not chained
                        and not func.dynamic
                        and self.names.allowed(name)
                        and name not in _SPECIAL
                        and self.names.danger(name) is None
                        and self.names.gadget(name) is None
                    )
                if ok:
                    self.consumed.add(id(func))
                    continue
            try:
                tgt = self.resolver.target(call)
                for glob in tgt.fn.roots:
                    self.consumed.add(id(glob))
                result = self._decide(call, tgt)
            except LimitExceeded as exc:
                # This call is too deep to follow; the others are still judged.
                result = failures.over_limit(f"pickle: {exc}", location=Location(offset=call.offset), evidence=str(exc))
                tgt = Target(Ref("unknown"), (), {})
            if result is not None:
                decided.append((call, result))
                if result.severity >= Severity.HIGH:
                    self._absorb(absorbed, tgt.fn.inner)

    def _absorb(self, absorbed: set[int], calls: tuple[Call, ...]) -> None:
        """Mark the calls that built a reported reference, and the calls that built theirs (a
        reference keeps only its latest calls: the chain is followed back through them, each call
        once)."""
        todo = list(calls)
        while todo:
            call = todo.pop()
            if id(call) in absorbed:
                continue
            absorbed.add(id(call))
            ref = self.resolver.result_of(call)
            if ref is not None:
                todo.extend(ref.inner)

    # -- calls -----------------------------------------------------------------------------------

    def _decide(self, call: Call, tgt: Target) -> Finding | None:
        fn = tgt.fn
        if fn.kind == "name":
            danger = self.names.danger(fn.name)
            if (
                danger is not None
                and call.kind == "newobj"
                and looks_like_class(fn.name)
                and danger.kind is not Kind.CODE_OBJECT
            ):
                # NEWOBJ runs cls.__new__ only: the object exists, its __init__ (the command) never ran.
                return self.policy.note(
                    UNKNOWN_USED,
                    fn.name,
                    f"pickle creates a {fn.name} object without running it (NEWOBJ)",
                    call.offset,
                    call,
                )
            if danger is not None:
                return self._dangerous(call, tgt, danger)
            if self.names.gadget(fn.name) is not None:  # inside an allowed namespace, still a gadget
                return self.policy.unknown(call, tgt, fn.name)
            if fn.name in GETATTRS or (
                (fn.name in HELPERS or self.names.allowed(fn.name)) and "attribute chain" not in fn.via
            ):
                return self._allowed_result(call)
            return self.policy.unknown(call, tgt, fn.name)
        if fn.kind == "method" and fn.base is not None:
            kind = DANGEROUS_METHODS.get(fn.name)
            if kind is not None and fn.base.kind != "const":
                return self._dangerous(call, tgt, Danger(f"{fn.base.name}.{fn.name}", kind))
            if fn.base.kind == "const" or (
                fn.base.kind in ("namespace", "module") and fn.name in ("get", "__getitem__", "pop")
            ):
                return None
            if fn.base.kind == "object" and self.names.allowed(fn.base.name):
                return None
            return self.policy.unknown(call, tgt, f"{fn.base.name}.{fn.name}")
        if fn.kind == "gadget":
            return call_finding(
                call,
                REACHES_DANGER,
                f"pickle calls {fn.name}, an interpreter-internals attribute reached through {' → '.join(fn.via) or 'a chain'}",
            )
        if fn.kind in ("attrgetter", "itemgetter"):
            return None
        built = self.names.danger(fn.name) if fn.kind == "object" else None
        if built is not None and built.kind is Kind.CODE_OBJECT:
            return call_finding(
                call,
                CODE_BY_VALUE,
                f"pickle calls a function it built from bytecode ({built.name})",
            )
        if fn.name.startswith("extension code"):
            return call_finding(
                call,
                EXTENSION_CODE,
                f"pickle calls the copyreg {fn.name}",
            )
        return call_finding(
            call,
            UNKNOWN_USED,
            f"pickle calls a computed value ({fn.kind} {fn.name or '?'})",
        )

    def _allowed_result(self, call: Call) -> Finding | None:
        """An allowed helper (getattr, partial) may still produce a dangerous reference."""
        func = call.func
        name = func.canon[0] if isinstance(func, Global) else ""
        if name == "torch.storage._load_from_bytes":
            # How torch pickles a storage outside torch.save: a whole torch.load of these bytes.
            data = self.folder.fold(call.args[0] if isinstance(call.args, tuple) and call.args else None)[0]
            if isinstance(data, (bytes, bytearray)):
                self._scan_nested(bytes(data), name, call.offset)
            return None
        if name not in GETATTRS and name != "functools.partial":
            return None
        ref = self.resolver.value(call)
        self.consumed.update(id(g) for g in ref.roots)  # reported here, not again as a bare import
        if ref.kind == "unknown":
            return self.policy.note(
                UNKNOWN_USED,
                "builtins.getattr",
                "pickle looks up an attribute whose name is computed while loading",
                call.offset,
                call,
            )
        target = ref.base if ref.kind == "partial" and ref.base is not None else ref
        if ref.kind == "gadget":
            return call_finding(
                call,
                REACHES_DANGER,
                f"pickle looks up {ref.name}, an interpreter-internals attribute",
            )
        danger = self.names.danger(target.name) if target.kind == "name" else None
        if danger is not None and target.name not in HARMLESS_WHEN_STORED:
            how = "functools.partial" if ref.kind == "partial" else "getattr"
            return call_finding(
                call,
                REACHES_DANGER,
                f"pickle builds a reference to {danger.name} through {how} (callable later)",
                category=danger.category,
                severity=Severity.HIGH,
            )
        if target.kind in ("name", "module") and target.via and not self.names.allowed(target.name):
            return self.policy.note(
                UNKNOWN_USED,
                target.name,
                f"pickle reaches {target.name} through {' → '.join(target.via)}",
                call.offset,
                call,
            )
        return None

    def _dangerous(self, call: Call, tgt: Target, danger: Danger) -> Finding | None:
        kind = danger.kind
        if danger.name in GETTER_FACTORIES and not self._fetches_danger(tgt):
            return None  # attrgetter('weight'): a plain getter object; applying it is judged where it is called
        payload, decoded = self._payload(kind, tgt, payload_index(danger.name))
        if danger.name.endswith("._builtin_type") and isinstance(payload, tuple) and payload[:1] not in _CODE_TYPES:
            # cloudpickle names builtin types this way; only the function/code types build code
            return self.policy.note(
                UNKNOWN_NAME, danger.name, f"pickle rebuilds the builtin type {payload[0]!r}", call.offset, call
            )
        display = danger.name.removeprefix("builtins.")
        origin = f"{display}@{call.offset}"
        assessment: CodeAssessment | None = None
        if isinstance(payload, str) and kind in (Kind.SHELL, Kind.PYTHON):
            assessment = self._assess(kind, payload, origin)
        elif kind not in (Kind.CODE_OBJECT, Kind.RESOLVER):
            source = self._as_python(danger.name, tgt)
            if source is not None:
                assessment = self._assess(Kind.PYTHON, source, origin)
        if kind is Kind.NESTED and isinstance(payload, (bytes, bytearray)):
            self._scan_nested(bytes(payload), danger.name, call.offset)
        elif kind is Kind.NESTED and isinstance(payload, str) and danger.name.startswith(_PICKLE_LOADERS):
            # pickle.loads of a protocol-0/1 STRING: the text holds the pickle bytes (a path otherwise)
            self._scan_nested(payload.encode("latin-1", "replace"), danger.name, call.offset)
        category = (
            assessment.category if assessment is not None and assessment.category is not None else danger.category
        )
        if (
            (assessment is None or assessment.category is None)
            and kind in (Kind.PYTHON, Kind.NESTED, Kind.SHELL, Kind.PYFILE)
            and self._network_fed(tgt.args)
        ):
            category = Category.DOWNLOAD_EXEC
        if kind is Kind.OPEN:
            mode = self._open_mode(tgt)
            if mode is not None and not any(c in mode for c in "wax+") and category is Category.FILE_WRITE:
                return call_finding(
                    call,
                    UNKNOWN_USED,
                    f"pickle opens a file for reading ({display})",
                )
        indirect = tgt.fn.via or call.kind == "setstate"
        if decoded and payload is not None:
            rule = DECODED_PAYLOAD
        elif kind is Kind.NESTED:
            rule = NESTED_LOAD
        elif kind is Kind.CODE_OBJECT:
            rule = CODE_BY_VALUE
        else:
            rule = REACHES_DANGER if indirect else CALLS_DANGER
        if rule == DECODED_PAYLOAD and (assessment is None or assessment.category is None):
            category = Category.OBFUSCATION  # nothing more specific visible after decoding
        constant = payload is not None
        severity = (
            Severity.CRITICAL if (constant and kind in _CRITICAL_KINDS) or rule == DECODED_PAYLOAD else Severity.HIGH
        )
        what = _WHAT.get(kind, "constant arguments") if constant else "computed arguments"
        if not constant and not tgt.args and not tgt.kwargs:
            what = "no arguments"
        if rule == DECODED_PAYLOAD:
            what = "a payload it decodes first"
        message = f"pickle calls {display} with {what}"
        if indirect:
            via = list(tgt.fn.via) + (["BUILD __setstate__"] if call.kind == "setstate" else [])
            message = f"pickle reaches {display} through {' → '.join(via)} and calls it with {what}"
        if rule == DECODED_PAYLOAD and isinstance(payload, str):
            shown = payload if len(payload) <= 200 else payload[:199] + "…"
            message += f": {shown!r}"
        if assessment is not None and assessment.indicators:
            message += f" ({'; '.join(assessment.indicators[:3])})"
        # The chain that reached the callable (__import__, getattr, partial…), in execution order.
        steps = sorted({id(c): c for c in tgt.fn.inner}.values(), key=lambda c: c.offset)
        if len(steps) > MAX_STEPS:  # the first steps and the last ones, which reach the callable
            steps = steps[: MAX_STEPS // 2] + steps[len(steps) - MAX_STEPS // 2 :]
        trace = [TraceStep(evidence_of(inner), Location(offset=inner.offset)) for inner in steps]
        if trace:
            trace.append(TraceStep(evidence_of(call), Location(offset=call.offset)))
        return call_finding(
            call,
            rule,
            message,
            severity=severity,
            category=category,
            trace=trace,
        )

    def _fetches_danger(self, tgt: Target) -> bool:
        """Whether a getter factory's constant attribute path names something dangerous."""
        path = self.folder.fold(tgt.args[0])[0] if tgt.args else None
        if not isinstance(path, str):
            return True
        return any(part in DANGEROUS_LEAVES or part in GADGETS for part in path.split("."))

    def _assess(self, kind: Kind, text: str, origin: str) -> CodeAssessment:
        """``_assess`` once per distinct payload (a stream may repeat one payload many times)."""
        key = (kind is Kind.SHELL, text)
        if key not in self.assessed:
            self.assessed[key] = self.ctx.seams.assess_code(
                text, shell=kind is Kind.SHELL, origin=origin, depth=self.ctx.depth
            )
        return self.assessed[key]

    def _payload(self, kind: Kind, tgt: Target, index: int = 0) -> tuple[Any, bool]:
        """The constant payload a dangerous call acts on (text for commands and code), if any;
        ``index`` is the argument that holds it."""
        args, kwargs = tgt.args[index:], tgt.kwargs
        first = args[0] if args else kwargs.get("args", kwargs.get("source", kwargs.get("stmt", kwargs.get("cmd"))))
        if first is None:
            return (
                (None, False) if kind in (Kind.SHELL, Kind.PYTHON, Kind.PYFILE, Kind.NESTED) else self._all_const(tgt)
            )
        if kind is Kind.PYTHON and isinstance(first, Call):
            # eval(compile(code, …)): the code is compile's argument; that compile is part of this call
            inner = self.resolver.target(first)
            if inner.fn.kind == "name" and inner.fn.name == "builtins.compile" and inner.args:
                self.absorbed_args.add(id(first))
                first = inner.args[0]
        value, decoded = self.folder.fold(first)
        if value is NOT_CONST:
            return None, False
        if kind is Kind.SHELL:
            if isinstance(value, (list, tuple)):
                parts = [_text(v) for v in value]
                return " ".join(p for p in parts if p is not None), decoded
            if isinstance(value, int) and len(args) > 1:  # os.spawn*(mode, path, args)
                rest, dec = self.folder.fold(args[1:])
                if rest is not NOT_CONST:
                    flat = [p for v in rest for p in (v if isinstance(v, (list, tuple)) else (v,))]
                    return " ".join(t for t in map(_text, flat) if t is not None), decoded or dec
            text = _text(value)
            return (text, decoded) if text is not None else (None, False)
        if kind in (Kind.PYTHON, Kind.PYFILE):
            text = _text(value)
            return (text, decoded) if text is not None else (None, False)
        if kind is Kind.NESTED:
            return (value, decoded) if isinstance(value, (str, bytes, bytearray)) else (None, False)
        return self._all_const(tgt)

    def _all_const(self, tgt: Target) -> tuple[Any, bool]:
        value, decoded = self.folder.fold(tgt.args)
        if value is NOT_CONST or not value:
            return None, False
        return value, decoded

    def _as_python(self, name: str, tgt: Target) -> str | None:
        """The call as Python source, for the embedded-code assessment (constant arguments only)."""
        args, _ = self.folder.fold(tgt.args)
        if args is NOT_CONST or not isinstance(args, tuple):
            return None
        module = name.rpartition(".")[0]
        head = "" if module in ("", "builtins") else f"import {module}\n"
        text = f"{head}{name.removeprefix('builtins.')}({', '.join(repr(a) for a in args)})\n"
        return text if len(text) <= 1_000_000 else None

    def _open_mode(self, tgt: Target) -> str | None:
        raw = tgt.args[1] if len(tgt.args) > 1 else tgt.kwargs.get("mode", "r")
        mode = self.folder.fold(raw)[0]
        return mode if isinstance(mode, str) else None

    def _network_fed(self, args: Any) -> bool:
        """Whether an argument expression contains a network call (``exec(urlopen(u).read())``).

        Memoized per node over the whole trace: N nested calls share their subtrees, and walking
        each call's subtree again made judging them quadratic in N."""
        memo = self._fed
        todo: list[tuple[Any, bool]] = [(args, False)]
        while todo:
            value, expanded = todo.pop()
            key = id(value)
            if key in memo:
                continue
            children: Any
            if isinstance(value, Call):
                children = (value.func, value.args)
            elif isinstance(value, (tuple, list)):
                children = value
            else:
                continue
            if expanded:
                memo[key] = any(memo.get(id(c), False) for c in children)
                continue
            if key in self._entered:
                continue  # a cycle through a memoized list: its own answer is being computed
            self._entered.add(key)
            self._fed_work += 1 + len(children)
            if self._fed_work >= self._fed_next_check:
                self._fed_next_check += 65536
                self.ctx.check_time()
            if isinstance(value, Call):
                ref = self.resolver.target(value).fn
                danger = self.names.danger(ref.name) if ref.kind == "name" else None
                if danger is not None and danger.kind in (Kind.NETWORK, Kind.DOWNLOAD):
                    memo[key] = True
                    continue
            todo.append((value, True))
            todo.extend((c, False) for c in children if isinstance(c, (Call, tuple, list)))
        return memo.get(id(args), False)

    def _scan_nested(self, data: bytes, name: str, offset: int) -> None:
        hint = "pickle" if name.startswith(_PICKLE_LOADERS) else None
        try:
            self.ctx.scan_nested(data, f"{name}@{offset}", format_hint=hint)
        except LimitExceeded as exc:
            self.ctx.add(
                failures.over_limit(
                    f"nested payload of {name} not analyzed: {exc}",
                    location=Location(offset=offset),
                    evidence=str(exc),
                )
            )

    # -- imports, mutations, discarded results ---------------------------------------------------

    def _imports(self) -> None:
        for i, glob in enumerate(self.trace.globals):
            if i % 4096 == 0:
                self.ctx.check_time()
            if id(glob) in self.consumed:
                continue
            ref = self.resolver.value(glob)
            if ref.name.startswith("extension code"):
                self.ctx.add(
                    finding(
                        EXTENSION_CODE,
                        f"pickle imports the copyreg {ref.name}",
                        location=Location(offset=glob.offset),
                        evidence=short_name(glob),
                    )
                )
                continue
            danger = self.names.danger(ref.name)
            if danger is not None and ref.name in HARMLESS_WHEN_STORED:
                self.policy.note(
                    UNKNOWN_USED, ref.name, f"pickle stores {ref.name} in an object", glob.offset, short_name(glob)
                )
            elif danger is not None:
                self.ctx.add(
                    finding(
                        IMPORTS_DANGER,
                        f"pickle imports {ref.name} without calling it while loading",
                        location=Location(offset=glob.offset),
                        evidence=short_name(glob),
                        category=danger.category,
                    )
                )
            elif ref.via and not self.names.allowed(ref.name):
                self.policy.note(
                    UNKNOWN_USED,
                    ref.name,
                    f"pickle imports {ref.name} through {' → '.join(ref.via)}",
                    glob.offset,
                    short_name(glob),
                )
            elif not self.names.allowed(ref.name) and ref.name not in HELPERS:
                self.policy.note(
                    UNKNOWN_NAME, ref.name, f"pickle imports the unknown name {ref.name}", glob.offset, short_name(glob)
                )

    def _mutations(self) -> None:
        for mut in self.trace.mutations:
            shown = short_name(mut.target)
            if mut.how == "BUILD":
                evidence = f"{shown}.__dict__.update({render(mut.value, 6)})"
            elif mut.how.startswith("SETITEM"):
                evidence = "; ".join(f"{shown}[{render(k, 4)}] = {render(v, 4)}" for k, v in mut.value[:4])
            else:
                evidence = f"{shown}.extend({render(mut.value, 5)})"
            self.ctx.add(
                finding(
                    MODIFIES_IMPORT,
                    f"pickle modifies the imported object {mut.target.canon[0]} ({mut.how})",
                    location=Location(offset=mut.offset),
                    evidence=evidence[:MAX_EVIDENCE],
                )
            )
        for call in self.trace.calls:
            if not call.state or (type(call.func) is Global and call.func.canon[0] not in MODULE_PRODUCERS):
                continue
            if self.resolver.value(call).kind == "module":
                evidence = f"{render(call, 6)}.__dict__.update({render(call.state[-1], 5)})"
                self.ctx.add(
                    finding(
                        MODIFIES_IMPORT,
                        "pickle sets attributes on a module it imported",
                        location=Location(offset=call.offset),
                        evidence=evidence[:MAX_EVIDENCE],
                    )
                )


def _registered_extensions(trace: Trace, folder: Folder) -> dict[int, tuple[str, str]]:
    """Extension codes the stream registers itself (``copyreg.add_extension(module, name, code)``)
    before an EXT opcode uses them."""
    found: dict[int, tuple[str, str]] = {}
    for call in trace.calls:
        func = call.func
        if type(func) is not Global or func.canon[0] != "copyreg.add_extension":
            continue
        args = folder.fold(call.args)[0]
        if isinstance(args, tuple) and len(args) == 3 and isinstance(args[2], int):
            module, name, code = args
            if isinstance(module, str) and isinstance(name, str):
                found[code] = (module, name)
    return found


__all__ = ["Judge", "Ref"]
