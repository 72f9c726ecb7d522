"""Find Hub references and risky load calls in the user's Python code.

``analyze_code(text)`` parses with ``ast`` (fast, positions exact) and falls back to a line-by-line
scan of call sites when the text does not parse, which is most of the time while someone types.
A reference's ``id_span`` is the exact range of the id literal (or of the name/f-string that
resolves to it); the ``call`` (absent in fallback mode) gives the argument ranges quick fixes edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from malhug.analyzers.usercode.blocks import BlockCache
from malhug.analyzers.usercode.callsites import Arg, CallSite, call_sites, module_scope
from malhug.analyzers.usercode.spans import Pos, SourceLines, Span

RepoType = Literal["model", "dataset"]

# The risky loads this module reports (usercode rules), each id written only here.
TORCH_LOAD = "MH701"
PICKLE_LOAD = "MH702"
JOBLIB_LOAD = "MH703"
NUMPY_PICKLE = "MH704"
KERAS_UNSAFE = "MH705"
TRUST_REMOTE_CODE = "MH706"
TORCH_HUB_LOAD = "MH708"

# A Hub repo id: "name" (legacy canonical models) or "org/name"; segments of word chars, "-", ".".
_REPO_ID = re.compile(r"^(?!-)(?!.*\.\.)[\w.-]{1,96}(/[\w.-]{1,96})?$")
# load_dataset's packaged builders, not Hub repos.
BUILTIN_DATASETS = {
    "csv",
    "json",
    "parquet",
    "text",
    "arrow",
    "pandas",
    "imagefolder",
    "audiofolder",
    "videofolder",
    "webdataset",
    "xml",
    "sql",
    "generator",
    "spark",
}
_ID_KEYWORDS = (
    "pretrained_model_name_or_path",
    "model_id",
    "repo_id",
    "pretrained_model_or_path",
    "model_name_or_path",
)
_SENTENCE = {"SentenceTransformer", "CrossEncoder", "SparseEncoder"}
_FS_METHODS = {"open", "ls", "glob", "read_text", "read_bytes", "cat", "cat_file", "get", "find", "info", "exists"}


@dataclass(frozen=True)
class HubRef:
    repo_id: str
    repo_type: RepoType
    id_span: Span
    kind: str  # from_pretrained | pipeline | load_dataset | hf_hub_download | snapshot_download | hf-path | ...
    call: CallSite | None = None  # None when found by the fallback scan
    revision: str | None = None
    trust_remote_code: bool | None = None
    use_safetensors: bool | None = None

    @property
    def pinned(self) -> bool:
        return self.revision is not None and re.fullmatch(r"[0-9a-f]{40}", self.revision) is not None


@dataclass(frozen=True)
class RiskyLoad:
    rule: str
    span: Span  # where the diagnostic goes
    message: str
    call: CallSite | None = None
    fix: str | None = None  # weights_only | remove_trust_remote_code | None
    severity: str | None = None  # overrides the rule's default when the evidence says so


@dataclass
class CodeAnalysis:
    refs: list[HubRef] = field(default_factory=list)
    loads: list[RiskyLoad] = field(default_factory=list)
    syntax_error: str | None = None


def normalise_id(raw: str) -> tuple[str, RepoType] | None:
    """``(repo_id, repo_type)`` for a string that names a Hub repo, else None (local paths, URLs)."""
    value = raw.strip()
    repo_type: RepoType = "model"
    for prefix in ("hf-hub:", "hf://"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
            parts = value.split("/")
            if parts[0] == "datasets":
                repo_type, parts = "dataset", parts[1:]
            elif parts[0] == "spaces":
                return None
            elif parts[0] == "models":
                parts = parts[1:]
            value = "/".join(parts[:2]).split("@", 1)[0]
            break
    if not value or value.startswith((".", "/", "~")) or "\\" in value or ":" in value:
        return None
    if not _REPO_ID.match(value) or value.endswith((".py", ".json", ".bin", ".pt", ".safetensors")):
        return None
    return value, repo_type


def _flag(arg: Arg | None) -> bool | None:
    if arg is None:
        return None
    return arg.value if isinstance(arg.value, bool) else None


def _id_arg(call: CallSite) -> Arg | None:
    method = call.method
    if method == "pipeline":
        return call.keyword("model") or call.positional(1)
    if method in ("load_dataset", "load_dataset_builder", "get_dataset_config_names"):
        return call.keyword("path") or call.positional(0)
    for name in _ID_KEYWORDS:
        arg = call.keyword(name)
        if arg is not None:
            return arg
    if method == "from_pretrained":
        # PeftModel.from_pretrained(base_model, "org/adapter"): the first string among the first two.
        for index in (0, 1):
            arg = call.positional(index)
            if arg is not None and isinstance(arg.value, str):
                return arg
        return None
    return call.positional(0)


def _kind(call: CallSite) -> tuple[str, RepoType] | None:
    method, parts = call.method, call.func.split(".")
    if method == "from_pretrained":
        return "from_pretrained", "model"
    if method == "pipeline":
        return "pipeline", "model"
    if method in ("load_dataset", "load_dataset_builder", "get_dataset_config_names"):
        return "load_dataset", "dataset"
    if method in ("hf_hub_download", "snapshot_download"):
        repo_type = call.keyword("repo_type")
        if repo_type is not None and repo_type.value not in ("model", "dataset", None):
            return None
        return method, "dataset" if repo_type is not None and repo_type.value == "dataset" else "model"
    if method in _SENTENCE or (len(parts) > 1 and parts[-1] in _SENTENCE):
        return "sentence-transformers", "model"
    return None


def _ref_from_call(call: CallSite) -> HubRef | None:
    kind = _kind(call)
    if kind is None:
        return None
    arg = _id_arg(call)
    if arg is None or not isinstance(arg.value, str):
        return None
    parsed = normalise_id(arg.value)
    if parsed is None:
        return None
    repo_id, repo_type = parsed
    if kind[0] == "load_dataset" and "/" not in repo_id and repo_id in BUILTIN_DATASETS:
        return None
    if not arg.value.startswith(("hf://", "hf-hub:")):
        repo_type = kind[1]
    revision = call.keyword("revision")
    return HubRef(
        repo_id=repo_id,
        repo_type=repo_type,
        id_span=arg.value_span,
        kind=kind[0],
        call=call,
        revision=revision.value if revision is not None and isinstance(revision.value, str) else None,
        trust_remote_code=_flag(call.keyword("trust_remote_code")),
        use_safetensors=_flag(call.keyword("use_safetensors")),
    )


def _path_ref(call: CallSite) -> HubRef | None:
    """``hf://`` / ``hf-hub:`` strings in any call, and paths given to an HfFileSystem."""
    on_fs = "HfFileSystem()." in call.func and call.method in _FS_METHODS
    for arg in call.args:
        if not isinstance(arg.value, str):
            continue
        value: str = arg.value
        if on_fs and not value.startswith("hf://") and arg is call.positional(0):
            value = "hf://" + value
        if value.startswith(("hf://", "hf-hub:")):
            parsed = normalise_id(value)
            if parsed is not None:
                return HubRef(repo_id=parsed[0], repo_type=parsed[1], id_span=arg.value_span, kind="hf-path", call=call)
    return None


def _risky(call: CallSite) -> list[RiskyLoad]:
    func, method = call.func, call.method
    out: list[RiskyLoad] = []
    if func == "torch.load":
        weights_only = call.keyword("weights_only")
        if weights_only is None:
            out.append(
                RiskyLoad(
                    TORCH_LOAD,
                    call.func_span,
                    "torch.load without weights_only=True: unpickles arbitrary objects on torch < 2.6",
                    call,
                    "weights_only",
                    severity="low",
                )
            )
        elif weights_only.value is not True:
            out.append(
                RiskyLoad(TORCH_LOAD, weights_only.span, "torch.load with weights_only=False", call, "weights_only")
            )
    elif func in {
        f"{m}.{f}"
        for m in ("pickle", "_pickle", "cPickle", "dill", "cloudpickle")
        for f in ("load", "loads", "Unpickler")
    } or func in ("pandas.read_pickle", "pd.read_pickle"):
        out.append(RiskyLoad(PICKLE_LOAD, call.func_span, f"{call.written}() runs any code the pickle names", call))
    elif func == "joblib.load" or func.endswith("externals.joblib.load"):
        out.append(RiskyLoad(JOBLIB_LOAD, call.func_span, "joblib.load unpickles the file", call))
    elif func in ("numpy.load", "np.load"):
        allow = call.keyword("allow_pickle")
        if allow is not None and allow.value is True:
            out.append(
                RiskyLoad(NUMPY_PICKLE, allow.span, "numpy.load with allow_pickle=True unpickles object arrays", call)
            )
    elif method == "load_model" and ("keras" in func or func.startswith("tf.")):
        safe = call.keyword("safe_mode")
        if safe is not None and safe.value is False:
            out.append(
                RiskyLoad(KERAS_UNSAFE, safe.span, "Keras load_model with safe_mode=False runs Lambda bytecode", call)
            )
    elif func in ("torch.hub.load", "torch.hub.load_state_dict_from_url") and method == "load":
        source = call.keyword("source")
        if source is None or source.value != "local":
            out.append(
                RiskyLoad(TORCH_HUB_LOAD, call.func_span, "torch.hub.load imports and runs the repo's hubconf.py", call)
            )
    trust = call.keyword("trust_remote_code")
    if trust is not None and trust.value is True:
        out.append(
            RiskyLoad(
                TRUST_REMOTE_CODE,
                trust.span,
                "trust_remote_code=True runs Python code shipped in the repository",
                call,
                "remove_trust_remote_code",
            )
        )
    return out


def analyze_code(text: str, cache: BlockCache | None = None) -> CodeAnalysis:
    """Hub references and risky loads of ``text``; never raises on bad input.

    ``cache`` (one per document) makes re-analysis after an edit cost about one block's parse.
    """
    from malhug.analyzers.usercode.fallback import scan_lines  # the fallback builds on this module's types

    src = SourceLines(text)
    blocks = (cache or BlockCache()).blocks(src.lines)
    result = CodeAnalysis()
    scope = module_scope(blocks)
    for call in call_sites(blocks, scope):
        ref = _ref_from_call(call) or _path_ref(call)
        if ref is not None:
            result.refs.append(ref)
        result.loads.extend(_risky(call))
    for block in blocks:
        if block.info.broken:
            known = {k: v for k, v in scope.constants.items() if isinstance(v, str)}
            partial = scan_lines(block.info.src, line_offset=block.start, known=known)
            result.refs.extend(partial.refs)
            result.loads.extend(partial.loads)
            result.syntax_error = result.syntax_error or f"syntax error in the block at line {block.start + 1}"
    result.refs.sort(key=lambda r: (r.id_span.line, r.id_span.col))
    result.loads.sort(key=lambda r: (r.span.line, r.span.col, r.rule))
    return result


def ref_at(refs: list[HubRef], line: int, col: int) -> HubRef | None:
    for ref in refs:
        if ref.id_span.contains(Pos(line, col)):
            return ref
    return None
