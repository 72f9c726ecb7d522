"""Line-by-line scan of call sites for text that does not parse (half-typed code).

Less precise than the ``ast`` path: one line at a time, string literals only, no argument
structure (so no quick fixes other than "ignore"), but it keeps diagnostics on screen while the
user types an unclosed parenthesis.
"""

from __future__ import annotations

import re

from malhug.analyzers.usercode.references import (
    BUILTIN_DATASETS,
    JOBLIB_LOAD,
    PICKLE_LOAD,
    TORCH_LOAD,
    TRUST_REMOTE_CODE,
    CodeAnalysis,
    HubRef,
    RiskyLoad,
    normalise_id,
)
from malhug.analyzers.usercode.spans import SourceLines, Span

_STRING = r"""(?P<q>['"])(?P<id>[^'"\n]{1,200})(?P=q)"""
_HUB_CALL = re.compile(
    r"(?P<func>(?:\w+\.)*(?:from_pretrained|load_dataset|hf_hub_download|snapshot_download|SentenceTransformer|CrossEncoder))"
    r"\s*\(\s*(?:(?:pretrained_model_name_or_path|model_id|repo_id|path)\s*=\s*)?[rRbBuU]?" + _STRING
)
_PIPELINE = re.compile(r"\bpipeline\s*\([^#\n]*?\bmodel\s*=\s*" + _STRING)
_HF_PATH = re.compile(r"""(?P<q>['"])(?P<id>hf(?:://|-hub:)[^'"\n]{1,200})(?P=q)""")
_TORCH_LOAD = re.compile(r"\btorch\.load\s*\(")
_PICKLE = re.compile(r"\b(?:pickle|dill|cloudpickle|_pickle)\.loads?\s*\(")
_JOBLIB = re.compile(r"\bjoblib\.load\s*\(")
_TRUST = re.compile(r"\btrust_remote_code\s*=\s*True\b")
_COMMENT = re.compile(r"""#[^'"]*$""")
_CONSTANT = re.compile(r"""^(?P<name>[A-Za-z_]\w*)\s*(?::[^=]+)?=\s*(?P<q>['"])(?P<value>[^'"\n]{1,200})(?P=q)\s*$""")
_NAME_CALL = re.compile(
    r"(?P<func>(?:\w+\.)*(?:from_pretrained|load_dataset|hf_hub_download|snapshot_download|SentenceTransformer))"
    r"\s*\(\s*(?P<name>[A-Za-z_]\w*)\s*(?:[,)]|$)"
)


def _add_ref(out: CodeAnalysis, span: Span, raw: str, kind: str) -> None:
    parsed = normalise_id(raw)
    if parsed is None:
        return
    repo_type = parsed[1]
    if kind.endswith("load_dataset"):
        if "/" not in parsed[0] and parsed[0] in BUILTIN_DATASETS:
            return
        repo_type = "dataset"
    if any(r.id_span == span for r in out.refs):
        return
    out.refs.append(HubRef(repo_id=parsed[0], repo_type=repo_type, id_span=span, kind=kind.rsplit(".", 1)[-1]))


def _literal(line: int, match: re.Match[str]) -> Span:
    return Span(line, match.start("q"), line, match.end("id") + 1)


def scan_lines(src: SourceLines, line_offset: int = 0, known: dict[str, str] | None = None) -> CodeAnalysis:
    """Scan ``src`` line by line; ``known`` are string constants of the rest of the module."""
    out = CodeAnalysis()
    constants: dict[str, str] = dict(known or {})
    for raw in src.lines:
        m = _CONSTANT.match(raw)
        if m:
            constants[m.group("name")] = m.group("value")
    for number, raw in enumerate(src.lines, start=line_offset):
        line = _COMMENT.sub("", raw) if "#" in raw else raw
        if "(" not in line and "hf" not in line:
            continue
        for m in _HUB_CALL.finditer(line):
            _add_ref(out, _literal(number, m), m.group("id"), m.group("func"))
        for m in _NAME_CALL.finditer(line):
            if m.group("name") in constants:
                span = Span(number, m.start("name"), number, m.end("name"))
                _add_ref(out, span, constants[m.group("name")], m.group("func"))
        for m in _PIPELINE.finditer(line):
            _add_ref(out, _literal(number, m), m.group("id"), "pipeline")
        for m in _HF_PATH.finditer(line):
            _add_ref(out, _literal(number, m), m.group("id"), "hf-path")
        for m in _TORCH_LOAD.finditer(line):
            if "weights_only=True" not in line.replace(" ", ""):
                span = Span(number, m.start(), number, m.end() - 1)
                out.loads.append(RiskyLoad(TORCH_LOAD, span, "torch.load without weights_only=True", severity="low"))
        for m in _PICKLE.finditer(line):
            out.loads.append(
                RiskyLoad(
                    PICKLE_LOAD, Span(number, m.start(), number, m.end() - 1), "pickle load runs any code it names"
                )
            )
        for m in _JOBLIB.finditer(line):
            out.loads.append(
                RiskyLoad(JOBLIB_LOAD, Span(number, m.start(), number, m.end() - 1), "joblib.load unpickles the file")
            )
        for m in _TRUST.finditer(line):
            out.loads.append(
                RiskyLoad(
                    TRUST_REMOTE_CODE,
                    Span(number, m.start(), number, m.end()),
                    "trust_remote_code=True runs Python code shipped in the repository",
                )
            )
    out.refs.sort(key=lambda r: (r.id_span.line, r.id_span.col))
    return out
