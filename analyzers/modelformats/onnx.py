"""ONNX models: walk the ModelProto wire format (no onnx runtime), skipping tensor payloads.

Checks: every TensorProto's external-data ``location`` stays inside the model folder (no absolute
paths, drive letters, ``..``), and node operator domains are ones a standard runtime implements or
functions defined in the model. Subgraphs (``If``/``Loop`` bodies, training graphs, functions) are
walked too, to a bounded depth.
"""

from __future__ import annotations

from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.shared.paths import escapes_folder
from malhug.analyzers.shared.protobuf import LEN, Field, ProtoReader
from malhug.analyzers.shared.sidefiles import follow
from malhug.analyzers.shared.source import ByteSource
from malhug.core.model import Location
from malhug.core.rules import finding

MAX_GRAPH_DEPTH = 32
MAX_TEXT = 64 * 1024
STANDARD_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training", "ai.onnx.contrib"}
)
MAX_DOMAINS = 10
MAX_SHOWN = 100


def _short(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


STANDARD_PREFIXES = ("com.microsoft", "com.ms.internal", "org.pytorch.aten", "pkg.onnxscript", "onnx_extended")


class _Walk:
    def __init__(self, ctx: ScanContext, r: ProtoReader):
        self.ctx = ctx
        self.r = r
        self.escapes: list[tuple[str, str, int]] = []
        self.external: dict[str, int] = {}  # external data files inside the folder, first offset
        self.domains: dict[str, list[str]] = {}
        self.functions: set[str] = set()

    def tensor(self, f: Field, where: str) -> None:
        name = ""
        for t in self.r.sub(f):
            if t.number == 8 and t.wire == LEN:
                name = self.r.text_of(t, MAX_TEXT)
            elif t.number == 13 and t.wire == LEN:  # external_data: StringStringEntryProto
                key = value = ""
                for e in self.r.sub(t):
                    if e.number == 1 and e.wire == LEN:
                        key = self.r.text_of(e, MAX_TEXT)
                    elif e.number == 2 and e.wire == LEN:
                        value = self.r.text_of(e, MAX_TEXT)
                if key == "location" and escapes_folder(value):
                    self.escapes.append((f"{where}/{name or '?'}", value, t.offset))
                elif key == "location" and value:
                    self.external.setdefault(value, t.offset)

    def attribute(self, f: Field, where: str, depth: int) -> None:
        for a in self.r.sub(f):
            if a.wire != LEN:
                continue
            if a.number in (5, 10):  # t, tensors
                self.tensor(a, where)
            elif a.number in (6, 11):  # g, graphs
                self.graph(a, where, depth + 1)
            elif a.number in (22, 23):  # sparse_tensor(s)
                self.sparse(a, where)

    def sparse(self, f: Field, where: str) -> None:
        for s in self.r.sub(f):
            if s.number in (1, 2) and s.wire == LEN:
                self.tensor(s, where)

    def node(self, f: Field, where: str, depth: int) -> None:
        op, domain, name = "", "", ""
        for n in self.r.sub(f):
            if n.wire != LEN:
                continue
            if n.number == 4:
                op = self.r.text_of(n, MAX_TEXT)
            elif n.number == 7:
                domain = self.r.text_of(n, MAX_TEXT)
            elif n.number == 3:
                name = self.r.text_of(n, MAX_TEXT)
            elif n.number == 5:
                self.attribute(n, f"{where}/{name or op}", depth)
        if domain not in STANDARD_DOMAINS and not domain.startswith(STANDARD_PREFIXES):
            ops = self.domains.setdefault(domain, [])
            if op not in ops and len(ops) < 10:
                ops.append(op)

    def graph(self, f: Field, where: str, depth: int) -> None:
        if depth > MAX_GRAPH_DEPTH:
            raise LimitExceeded("ONNX subgraph nesting", MAX_GRAPH_DEPTH, depth)
        self.ctx.check_time()
        name = ""
        for g in self.r.sub(f):
            if g.wire != LEN:
                continue
            if g.number == 2:
                name = self.r.text_of(g, MAX_TEXT)
            elif g.number == 1:
                self.node(g, f"{where}/{name or 'graph'}", depth)
            elif g.number == 5:
                self.tensor(g, f"{where}/{name or 'graph'}")
            elif g.number == 15:
                self.sparse(g, f"{where}/{name or 'graph'}")

    def function(self, f: Field, depth: int) -> None:
        name, domain = "", ""
        nodes = []
        for x in self.r.sub(f):
            if x.wire != LEN:
                continue
            if x.number == 1:
                name = self.r.text_of(x, MAX_TEXT)
            elif x.number == 10:
                domain = self.r.text_of(x, MAX_TEXT)
            elif x.number == 7:
                nodes.append(x)
        self.functions.add(domain)
        for n in nodes:
            self.node(n, f"function:{domain}.{name}", depth)

    def model(self) -> None:
        saw_graph = False
        for f in self.r.fields():
            if f.number == 7 and f.wire == LEN:
                saw_graph = True
                self.graph(f, "graph", 0)
            elif f.number == 20 and f.wire == LEN:  # training_info
                for t in self.r.sub(f):
                    if t.number in (1, 2) and t.wire == LEN:
                        self.graph(t, "training_info", 1)
            elif f.number == 25 and f.wire == LEN:
                self.function(f, 1)
            elif f.number in (7, 8, 14, 20, 25) and f.wire != LEN:
                raise MalformedInput(f"ONNX: field {f.number} has wire type {f.wire}", f.offset)
        if not saw_graph:
            raise MalformedInput("ONNX: ModelProto has no graph", 0)

    def report(self) -> None:
        for location, offset in self.external.items():
            # onnx.load reads them as raw tensor bytes (no code path): only whether they exist matters.
            follow(self.ctx, location, why="ONNX external data", offset=offset, analyze=False)
        if self.escapes:
            shown = "; ".join(f"{where} -> {loc!r}" for where, loc, _ in self.escapes[:5])
            more = f" and {len(self.escapes) - 5} more" if len(self.escapes) > 5 else ""
            self.ctx.add(
                finding(
                    "MH410",
                    f"ONNX external data points outside the model folder: {shown}{more}",
                    location=Location(offset=self.escapes[0][2]),
                    evidence=self.escapes[0][1],
                )
            )
        custom = {d: ops for d, ops in self.domains.items() if d not in self.functions}
        if custom:
            # Domains are attacker-chosen strings (up to MAX_TEXT each, one per node): list a few, shortened.
            names = sorted(custom)
            shown = "; ".join(
                f"{_short(d)}: {', '.join(_short(o) for o in custom[d] if o)}" for d in names[:MAX_DOMAINS]
            )
            more = f" and {len(names) - MAX_DOMAINS} more" if len(names) > MAX_DOMAINS else ""
            self.ctx.add(
                finding(
                    "MH411",
                    f"ONNX nodes use custom operator domains ({shown}{more})",
                    evidence=", ".join(_short(d) for d in names[:MAX_DOMAINS]) + more,
                )
            )


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    walk = _Walk(ctx, ProtoReader(src))
    try:
        walk.model()
    finally:
        walk.report()  # what was found before a fault still counts
