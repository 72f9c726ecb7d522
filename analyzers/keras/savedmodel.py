"""TensorFlow SavedModel protobufs: ``saved_model.pb`` and ``keras_metadata.pb``, read as wire format.

``saved_model.pb``: the op of every NodeDef in each MetaGraphDef's GraphDef and function library is
checked for file-system and Python-calling ops; Keras metadata JSON kept in the object graph
(TensorFlow <= 2.4) gets the Keras config walk. ``keras_metadata.pb``: every node's metadata JSON
gets the Keras config walk (Lambda bytecode lives there). No TensorFlow involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from malhug.analyzers import formats
from malhug.analyzers.context import ScanContext
from malhug.analyzers.keras.config import KerasConfigScanner
from malhug.analyzers.limits import MalformedInput
from malhug.analyzers.shared.paths import escapes_folder
from malhug.analyzers.shared.protobuf import LEN, VARINT, Field, ProtoReader
from malhug.analyzers.shared.source import ByteSource
from malhug.core.model import Category, Location, Severity
from malhug.core.rules import finding

MAX_TEXT = 64 * 1024
MAX_ATTR_STRINGS = 16
MAX_EXAMPLES = 5

# op -> (rule, severity or None for the rule's default)
RISKY_OPS: dict[str, tuple[str, Severity | None]] = {
    "ReadFile": ("MH310", None),
    "MatchingFiles": ("MH310", Severity.MEDIUM),
    "WriteFile": ("MH311", None),
    "PyFunc": ("MH312", None),
    "PyFuncStateless": ("MH312", None),
    "EagerPyFunc": ("MH312", None),
    "ImmutableConst": ("MH313", None),
    "DebugIdentity": ("MH313", None),
    "DebugIdentityV2": ("MH313", None),
    "DebugNanCount": ("MH313", None),
    "DebugNumericSummary": ("MH313", None),
}
SENSITIVE_PATHS = (".ssh", ".aws", ".netrc", ".git-credentials", "/etc/shadow", "/etc/passwd", "environ", "token")


@dataclass
class _Node:
    name: str = ""
    op: str = ""
    inputs: list[str] = field(default_factory=list)
    attrs: dict[str, list[str]] = field(default_factory=dict)
    offset: int = 0


@dataclass
class _Hit:
    rule: str
    severity: Severity | None
    places: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    offset: int = 0
    sensitive: bool = False


def _strings_of_attr(r: ProtoReader, f: Field) -> list[str]:
    """The first few short string payloads of an AttrValue (s, list.s, tensor.string_val).

    Vocabulary constants can hold many or long strings: only paths and URLs matter here.
    """
    candidates: list[Field] = []
    for a in r.sub(f):
        if a.number == 2 and a.wire == LEN:  # s
            candidates.append(a)
        elif a.number in (1, 8) and a.wire == LEN:  # list (its s = 2), tensor (its string_val = 8)
            inner = 2 if a.number == 1 else 8
            for x in r.sub(a):
                if x.number == inner and x.wire == LEN:
                    candidates.append(x)
                if len(candidates) >= MAX_ATTR_STRINGS:
                    break
        if len(candidates) >= MAX_ATTR_STRINGS:
            break
    return [r.text_of(c, MAX_TEXT) for c in candidates if c.value <= MAX_TEXT]


def _node(r: ProtoReader, f: Field) -> _Node:
    node = _Node(offset=f.offset)
    for x in r.sub(f):
        if x.wire != LEN:
            continue
        if x.number == 1:
            node.name = r.text_of(x)
        elif x.number == 2:
            node.op = r.text_of(x)
        elif x.number == 3:
            node.inputs.append(r.text_of(x))
        elif x.number == 5:
            key, value = "", None
            for e in r.sub(x):
                if e.number == 1 and e.wire == LEN:
                    key = r.text_of(e)
                elif e.number == 2 and e.wire == LEN:
                    value = e
            if value is not None and key in {"value", "output_stream", "memory_region_name", "debug_urls", "token"}:
                node.attrs[key] = _strings_of_attr(r, value)
    return node


class _SavedModel:
    def __init__(self, ctx: ScanContext, r: ProtoReader):
        self.ctx = ctx
        self.r = r
        self.hits: dict[str, _Hit] = {}
        self.seen_code: set[bytes] = set()

    def graph_nodes(self, nodes: list[_Node], scope: str) -> None:
        consts = {n.name: n.attrs.get("value", []) for n in nodes if n.op == "Const"}
        for n in nodes:
            risky = RISKY_OPS.get(n.op)
            if n.op == "PrintV2" and any(s.startswith("file://") for s in n.attrs.get("output_stream", [])):
                risky = ("MH311", Severity.MEDIUM)
            if risky is None:
                continue
            hit = self.hits.setdefault(n.op, _Hit(risky[0], risky[1], offset=n.offset))
            if len(hit.places) < MAX_EXAMPLES:
                hit.places.append(f"{scope}/{n.name}")
            for inp in n.inputs[:2]:
                for value in consts.get(inp.lstrip("^").split(":")[0], []):
                    hit.details.append(value[:200])
                    hit.sensitive |= any(p in value for p in SENSITIVE_PATHS)
            for key in ("output_stream", "memory_region_name", "debug_urls"):
                hit.details.extend(v[:200] for v in n.attrs.get(key, []))

    def graph_def(self, f: Field, scope: str) -> None:
        nodes: list[_Node] = []
        for g in self.r.sub(f):
            if g.number == 1 and g.wire == LEN:
                nodes.append(_node(self.r, g))
            elif g.number == 2 and g.wire == LEN:  # FunctionDefLibrary
                for fn in self.r.sub(g):
                    if fn.number == 1 and fn.wire == LEN:
                        self.function_def(fn, scope)
        self.graph_nodes(nodes, scope)
        self.ctx.check_time()

    def function_def(self, f: Field, scope: str) -> None:
        name = "?"
        nodes: list[_Node] = []
        for x in self.r.sub(f):
            if x.number == 1 and x.wire == LEN:  # OpDef signature
                for s in self.r.sub(x):
                    if s.number == 1 and s.wire == LEN:
                        name = self.r.text_of(s)
            elif x.number == 3 and x.wire == LEN:
                nodes.append(_node(self.r, x))
        self.graph_nodes(nodes, f"{scope}/function:{name}")

    def object_graph(self, f: Field) -> None:
        for i, obj in enumerate(o for o in self.r.sub(f) if o.number == 1 and o.wire == LEN):
            for x in self.r.sub(obj):
                if x.number == 4 and x.wire == LEN:  # SavedUserObject
                    for u in self.r.sub(x):
                        if u.number == 3 and u.wire == LEN and u.value:
                            self.keras_json(
                                self.r.bytes_of(u, self.ctx.limits.max_stream_bytes), f"object_graph.nodes[{i}]"
                            )

    def asset(self, f: Field, scope: str) -> None:
        """AssetFileDef{tensor_info=1, filename=2}: the file must stay inside ``assets/``."""
        for x in self.r.sub(f):
            if x.number == 2 and x.wire == LEN:
                name = self.r.text_of(x, MAX_TEXT)
                if escapes_folder(name):
                    self.ctx.add(
                        finding(
                            "MH314",
                            f"{scope} asset file {name!r} is outside the SavedModel's assets folder",
                            location=Location(offset=x.offset),
                            evidence=name,
                        )
                    )

    def keras_json(self, data: bytes, member: str) -> None:
        scanner = KerasConfigScanner(self.ctx, member=member, seen_code=self.seen_code)
        scanner.scan_text(data, what=f"Keras metadata of {member}")

    def saved_model(self) -> None:
        metas = 0
        for f in self.r.fields():
            if f.number == 1 and f.wire == VARINT:
                continue
            if f.number != 2 or f.wire != LEN:
                raise MalformedInput(f"saved_model.pb: unexpected field {f.number} (wire {f.wire})", f.offset)
            for m in self.r.sub(f):
                if m.number == 2 and m.wire == LEN:
                    self.graph_def(m, f"meta_graphs[{metas}]")
                elif m.number == 6 and m.wire == LEN:
                    self.asset(m, f"meta_graphs[{metas}]")
                elif m.number == 7 and m.wire == LEN:
                    self.object_graph(m)
            metas += 1
        if metas == 0:
            raise MalformedInput("saved_model.pb holds no MetaGraphDef", 0)
        self.report()

    def keras_metadata(self) -> None:
        count = 0
        for f in self.r.fields():
            if f.number != 1 or f.wire != LEN:
                raise MalformedInput(f"keras_metadata.pb: unexpected field {f.number} (wire {f.wire})", f.offset)
            path, metadata = f"nodes[{count}]", None
            for x in self.r.sub(f):
                if x.number == 3 and x.wire == LEN:
                    path = self.r.text_of(x) or path
                elif x.number == 5 and x.wire == LEN:
                    metadata = x
            if metadata is not None and metadata.value:
                self.keras_json(self.r.bytes_of(metadata, self.ctx.limits.max_stream_bytes), path)
            count += 1
            if count % 256 == 0:
                self.ctx.check_time()

    def report(self) -> None:
        for op, hit in self.hits.items():
            details = list(dict.fromkeys(hit.details))[:MAX_EXAMPLES]
            message = f"graph uses {op} ({', '.join(hit.places)})"
            if details:
                message += f" on {', '.join(repr(d) for d in details)}"
            severity, category = hit.severity, None
            if hit.sensitive:
                severity, category = Severity.CRITICAL, Category.CREDENTIAL_THEFT
            self.ctx.add(
                finding(
                    hit.rule,
                    message,
                    location=Location(offset=hit.offset),
                    evidence=f"{op}: " + "; ".join(details or hit.places),
                    severity=severity,
                    category=category,
                )
            )


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    model = _SavedModel(ctx, ProtoReader(src))
    fmt = ctx.formats[-1] if ctx.formats else formats.SAVEDMODEL
    if fmt == formats.KERAS_METADATA:
        model.keras_metadata()
    else:
        model.saved_model()
