"""What calls mean: sources add taints, sinks report findings, helpers fold constants."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from malhug.analyzers.scripts import knowledge as K
from malhug.analyzers.scripts import patterns
from malhug.analyzers.scripts.decoding import fold_decoder, fold_str_method
from malhug.analyzers.scripts.findings import pending
from malhug.analyzers.scripts.rules import DYNAMIC_CODE, SECRET_ENV
from malhug.analyzers.scripts.sinks import Sinks
from malhug.analyzers.scripts.values import HOLE, Taint, Val, const, merge_taints, taints_of
from malhug.core.model import Severity

if TYPE_CHECKING:
    from malhug.analyzers.scripts.engine import Engine, Frame, Func
    from malhug.analyzers.scripts.expressions import Expressions

_KNOWN_ROOTS = frozenset(
    {
        "os",
        "subprocess",
        "builtins",
        "socket",
        "pty",
        "runpy",
        "marshal",
        "pickle",
        "webbrowser",
        "requests",
        "urllib",
        "shutil",
        "platform",
        "getpass",
        "uuid",
        "importlib",
        "types",
        "pdb",
        "timeit",
    }
)
_ALL_KNOWN = (
    K.CODE_EXEC
    | K.COMMANDS
    | K.BROWSER
    | K.DESERIALIZERS
    | K.DOWNLOAD_CODE
    | K.SYSINFO_STRONG
    | K.ENV_GET
    | K.FILE_OPENERS
    | K.COPIERS
    | K.DELETERS
    | K.TREE_DELETERS
    | frozenset(K.DECODERS)
)


def normalize(ref: str) -> str:
    for alias, real in K.ALIASES.items():
        if ref == alias or ref.startswith(alias + "."):
            ref = real + ref[len(alias) :]
            break
    if ref in _ALL_KNOWN:
        return ref
    parts = ref.split(".")
    for i in range(1, len(parts) - 1):
        if parts[i] in _KNOWN_ROOTS:
            suffix = ".".join(parts[i:])
            suffix = normalize(suffix) if parts[i] in K.ALIASES else suffix
            if suffix in _ALL_KNOWN or suffix.startswith(K.EXEC_PREFIXES):
                return suffix
    return ref


class Calls:
    def __init__(self, engine: Engine, exprs: Expressions):
        self.engine = engine
        self.exprs = exprs
        self.sinks = Sinks(engine, self)
        self.normalized: dict[str, str] = {}  # reference -> canonical name, for this analysis

    # -- data helpers ----------------------------------------------------------------------------
    def as_data(self, val: Val, node: cst.CSTNode) -> Val:
        """A value used as data: the whole ``os.environ`` becomes the environment's contents."""
        if val.ref == "os.environ":
            return Val(
                taints=(
                    Taint(
                        "environ",
                        "the whole environment (every token and key)",
                        (self.engine.step("reads os.environ", node),),
                    ),
                )
            )
        return val

    def env_read(self, name: str, node: cst.CSTNode, frame: Frame, what: str | None = None) -> Val:
        """An environment variable (or a token the library reads from one): ``what`` names it."""
        step = self.engine.step(f"reads {what}" if what else f"reads the environment variable {name}", node)
        what = what or f"the secret environment variable {name}"
        if name == "HF_DATASETS_CACHE" or not patterns.is_secret_env(name):
            return Val(text=f"${name}", taints=(Taint("env", f"the environment variable {name}", (step,)),))
        self.engine.report(pending(self.engine, SECRET_ENV, node, f"reads {what}", frame=frame))
        return Val(text=f"${name}", taints=(Taint("secret-env", what, (step,), name),))

    # -- dispatch --------------------------------------------------------------------------------
    def call(self, node: cst.Call, frame: Frame) -> Val:
        func = node.func
        base: Val | None = None
        method = ""
        if type(func) is cst.Attribute:
            base = self.exprs.eval(func.value, frame)
            method = func.attr.value
            fval = self.exprs.member(base, method, func) if base.ref is not None else Val()
        else:
            fval = self.exprs.eval(func, frame)
        args: list[Val] = []
        kwargs: dict[str, Val] = {}
        for arg in node.args:
            val = self.as_data(self.exprs.eval(arg.value, frame), arg.value)
            if arg.keyword is not None:
                kwargs[arg.keyword.value] = val
            elif arg.star:
                kwargs.setdefault("*", val)
            else:
                args.append(val)
        ref = fval.ref
        if ref is not None and ref.startswith("<local>."):
            return self.local_call(ref[8:], node, fval, args, kwargs, frame)
        if ref is not None:
            qn = self.normalized.get(ref) or self.normalized.setdefault(ref, normalize(ref))
            result = self.known(qn, node, args, kwargs, frame)
            if result is not None:
                return result
            result = self.sinks.by_name(qn, node, args, kwargs, frame)
            if result is not None:
                return result
        if base is not None and base.ref is None:
            result = self.on_value(base, method, node, args, kwargs, frame)
            if result is not None:
                return result
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and method in K.MUTATORS:
                self.mutate(func.value.value, args, frame, node)
        all_taints = merge_taints(base.taints if base else (), taints_of(args), taints_of(list(kwargs.values())))
        result_val = Val(taints=all_taints)
        if ref is None or ref.split(".")[0] not in ("builtins",) or ref in ("builtins.open",):
            result_val = self.sinks.credential_access(ref or method, node, args, kwargs, frame, result_val)
        return result_val

    def mutate(self, name: str, args: list[Val], frame: Frame, node: cst.CSTNode) -> None:
        cur = self.engine.lookup(name, frame)
        added = taints_of(args)
        if cur is None or not added:
            return
        merged = Val(
            kind=cur.kind,
            items=None,
            taints=merge_taints(cur.taints, tuple(t.then(self.engine.step(f"added to {name}", node)) for t in added)),
        )
        target = frame.locals if name in frame.locals else self.engine.globals
        target[name] = merged

    def known(self, qn: str, node: cst.Call, args: list[Val], kwargs: dict[str, Val], frame: Frame) -> Val | None:
        """Helpers that only compute values: imports, getattr, decoders, environment, paths."""
        first = args[0] if args else None
        if qn in ("builtins.__import__", "importlib.import_module", "importlib.__import__"):
            if first is not None and isinstance(first.const, str):
                name = first.const
                return Val(ref=name.split(".")[0] if qn != "importlib.import_module" else name)
            self.engine.report(
                pending(
                    self.engine,
                    DYNAMIC_CODE,
                    node,
                    "imports a module whose name is computed at run time",
                    frame=frame,
                    # Package-relative lazy imports (`import_module(f".{name}", __name__)`) are routine.
                    severity=Severity.LOW
                    if (first is not None and first.approx().startswith(".")) or "package" in kwargs or len(args) > 1
                    else self.sinks.sev_dynamic(),
                )
            )
            return Val()
        if qn == "builtins.getattr" and len(args) >= 2:
            if isinstance(args[1].const, str) and args[0].ref is not None:
                return self.exprs.member(args[0], args[1].const, node)
            return Val(taints=args[0].taints)
        if qn in ("builtins.globals", "builtins.locals", "builtins.vars") and not args:
            return Val(ref="<globals>")
        if qn in K.ENV_GET:
            if first is not None and isinstance(first.const, str):
                return self.env_read(first.const, node, frame)
            return Val(
                taints=(Taint("environ", "environment variables", (self.engine.step("reads the environment", node),)),)
            )
        if qn in K.HF_TOKEN_GETTERS:
            return self.env_read("HF_TOKEN", node, frame, what=f"the Hugging Face token ({qn}())")
        if qn in K.ENV_DUMP or (qn == "builtins.dict" and first is not None and first.ref == "os.environ"):
            return self.as_data(Val(ref="os.environ"), node)
        folded = fold_decoder(qn, args, kwargs)
        if folded is not None:
            if isinstance(folded.const, str | bytes) and not self.engine.budget.take_decoded(len(folded.const)):
                return Val(taints=folded.taints, decoded=folded.decoded)
            return folded
        if qn in K.PATH_BUILDERS:
            return self.path_value(qn, args)
        return None

    def path_value(self, qn: str, args: list[Val]) -> Val:
        taints = taints_of(args)
        if qn in ("os.path.join",):
            text = "/".join(a.approx() for a in args)
        elif qn == "os.path.expanduser":
            text = args[0].approx() if args else HOLE
        elif qn in (
            "os.path.dirname",
            "os.path.basename",
            "os.path.splitext",
            "os.path.split",
            "builtins.len",
            "builtins.print",
        ):
            return Val(taints=taints)
        elif qn.startswith("os.path.") and qn.rsplit(".", 1)[1] in ("exists", "isfile", "isdir"):
            return Val()
        elif qn.startswith("logging."):
            return Val()
        else:
            text = args[0].approx() if args else HOLE
            if qn == "builtins.str" and args and isinstance(args[0].const, str | int | float):
                return const(str(args[0].const), taints=taints)
        kind = "path" if qn.startswith(("pathlib.", "os.path.")) else None
        if args and all(isinstance(a.const, str) for a in args) and qn == "os.path.join":
            return Val(const=text, kind=kind, taints=taints)
        return Val(text=text, kind=kind, taints=taints, decoded=next((a.decoded for a in args if a.decoded), None))

    def on_value(
        self, base: Val, method: str, node: cst.Call, args: list[Val], kwargs: dict[str, Val], frame: Frame
    ) -> Val | None:
        if isinstance(base.const, str | bytes):
            folded = fold_str_method(base, method, args)
            if folded is not None:
                return folded
        if base.kind is not None:
            return self.sinks.on_object(base, method, node, args, kwargs, frame)
        return None

    # -- local functions -------------------------------------------------------------------------
    def local_call(
        self, qual: str, node: cst.Call, fval: Val, args: list[Val], kwargs: dict[str, Val], frame: Frame
    ) -> Val:
        engine = self.engine
        bound = fval.kind == "bound"
        if qual in engine.classes:
            init = engine.funcs.get(f"{qual}.__init__")
            if init is not None:
                self.bind_args(init, node, args, kwargs, bound=True, frame=frame)
            return Val(ref=f"<self>.{qual}")
        func = engine.funcs.get(qual)
        if func is None:
            return Val(taints=taints_of(args))
        self.bind_args(func, node, args, kwargs, bound=bound, frame=frame)
        return func.ret or Val()

    def bind_args(
        self, func: Func, node: cst.Call, args: list[Val], kwargs: dict[str, Val], *, bound: bool, frame: Frame
    ) -> None:
        from malhug.analyzers.scripts.values import join

        params = func.params
        start = 1 if bound and params and params[0] in ("self", "cls") else 0
        pairs: list[tuple[str, Val]] = []
        for i, val in enumerate(args):
            if start + i < len(params):
                pairs.append((params[start + i], val))
        for name, val in kwargs.items():
            if name in params:
                pairs.append((name, val))
        for name, val in pairs:
            val = val.then(self.engine.step(f"passed to {func.qualname}() as {name}", node))
            old = func.args.get(name)
            new = join(old, val)
            if old is None or old.signature() != new.signature():
                self.engine.changed = True
            func.args[name] = new
        if frame.side_effect and not func.side_effect:
            func.side_effect = True
            func.context = frame.context if ", via " in frame.context else f"{frame.context}, via {func.qualname}()"
            self.engine.changed = True

    def finish_pass(self) -> None:
        self.sinks.finish_pass()
