"""The reference finder: hub ids, their exact ranges, call flags, and risky loads (MH701-MH708)."""

from __future__ import annotations

import pytest

from malhug.analyzers.usercode.references import analyze_code, normalise_id
from malhug.analyzers.usercode.spans import Span
from tests.usercode.fixtures import BENIGN, RISKY, RISKY_EXPECTED, span_of

SOURCE = """import torch as th
from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline
from peft import PeftModel
from datasets import load_dataset
from huggingface_hub import hf_hub_download, snapshot_download, HfFileSystem
from sentence_transformers import SentenceTransformer
import timm

ORG = "acme"
MODEL: str = "acme/llm"

tok = AutoTokenizer.from_pretrained(MODEL, revision="v1.0")
llm = AutoModelForCausalLM.from_pretrained(
    f"{ORG}/coder",
    trust_remote_code=True,
    use_safetensors=False,
)
lora = PeftModel.from_pretrained(llm, "acme/adapter")
gen = pipeline("text-generation", model="acme/gen")
ds = load_dataset("acme/data", split="train")
local = load_dataset("csv", data_files="x.csv")
path = hf_hub_download(repo_id="acme/ds-files", filename="a.parquet", repo_type="dataset")
snap = snapshot_download("acme/snap", revision="0123456789abcdef0123456789abcdef01234567")
space = snapshot_download("acme/space", repo_type="space")
fs = HfFileSystem()
with fs.open("datasets/acme/fsdata/train.csv") as fh:
    pass
st = SentenceTransformer("acme/embedder")
vit = timm.create_model("hf-hub:acme/vit", pretrained=True)
own = AutoModelForCausalLM.from_pretrained("./checkpoints/run1")
dyn = AutoModelForCausalLM.from_pretrained(name_from_somewhere)
"""


def test_hub_references_ids_types_and_ranges() -> None:
    result = analyze_code(SOURCE)
    assert result.syntax_error is None
    found = {(r.repo_id, r.repo_type, r.kind) for r in result.refs}
    assert found == {
        ("acme/llm", "model", "from_pretrained"),
        ("acme/coder", "model", "from_pretrained"),
        ("acme/adapter", "model", "from_pretrained"),
        ("acme/gen", "model", "pipeline"),
        ("acme/data", "dataset", "load_dataset"),
        ("acme/ds-files", "dataset", "hf_hub_download"),
        ("acme/snap", "model", "snapshot_download"),
        ("acme/fsdata", "dataset", "hf-path"),
        ("acme/embedder", "model", "sentence-transformers"),
        ("acme/vit", "model", "hf-path"),
    }
    by_id = {r.repo_id: r for r in result.refs}
    # A constant name: the range is the name at the call; an f-string: the whole f-string literal.
    assert by_id["acme/llm"].id_span == span_of(SOURCE, "MODEL", 1)
    assert by_id["acme/coder"].id_span == span_of(SOURCE, 'f"{ORG}/coder"')
    assert by_id["acme/adapter"].id_span == span_of(SOURCE, '"acme/adapter"')
    assert by_id["acme/gen"].id_span == span_of(SOURCE, '"acme/gen"')
    assert by_id["acme/vit"].id_span == span_of(SOURCE, '"hf-hub:acme/vit"')
    # Flags read from the call.
    assert by_id["acme/llm"].revision == "v1.0" and not by_id["acme/llm"].pinned
    assert by_id["acme/coder"].trust_remote_code is True and by_id["acme/coder"].use_safetensors is False
    assert by_id["acme/snap"].pinned


@pytest.mark.fires("MH701", "MH702", "MH703", "MH704", "MH705", "MH706", "MH708")
def test_risky_loads_and_their_ranges() -> None:
    text = RISKY
    assert [e[0] for e in RISKY_EXPECTED] == ["MH701", "MH701", "MH702", "MH703", "MH704", "MH705", "MH708", "MH706"]
    loads = analyze_code(text).loads
    got = [(ld.rule, ld.span, ld.severity) for ld in loads]
    assert got == [
        (rule, span_of(text, literal, occurrence), severity) for rule, literal, occurrence, severity in RISKY_EXPECTED
    ]
    assert [ld.fix for ld in loads if ld.rule in ("MH701", "MH706")] == [
        "weights_only",
        "weights_only",
        "remove_trust_remote_code",
    ]


@pytest.mark.quiet("MH702")
@pytest.mark.fires("MH701", "MH702")
def test_aliases_resolve_through_imports() -> None:
    text = "from torch import load as tl\nfrom pickle import load\nx = tl('a')\ny = load(fh)\n"
    assert [ld.rule for ld in analyze_code(text).loads] == ["MH701", "MH702"]
    # A local function that happens to be called "load" is not pickle's.
    assert analyze_code("def load(p):\n    return p\nload('x')\n").loads == []


def test_half_typed_code_falls_back_to_a_line_scan() -> None:
    text = 'NAME = "acme/llm"\nm = AutoModel.from_pretrained("acme/evil", \nt = AutoModel.from_pretrained(NAME\nx = torch.load("a.pt"\n'
    result = analyze_code(text)
    assert result.syntax_error is not None
    assert [(r.repo_id, r.id_span) for r in result.refs] == [
        ("acme/evil", span_of(text, '"acme/evil"')),
        ("acme/llm", span_of(text, "NAME", 1)),
    ]
    assert all(r.call is None for r in result.refs)
    assert [ld.rule for ld in result.loads] == ["MH701"]


def test_non_ascii_columns_are_code_points() -> None:
    text = 'x = "é"; m = AutoModel.from_pretrained("acme/m")\n'
    (ref,) = analyze_code(text).refs
    assert ref.id_span == Span(0, text.index('"acme/m"'), 0, text.index('"acme/m"') + len('"acme/m"'))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("gpt2", ("gpt2", "model")),
        ("org/name", ("org/name", "model")),
        ("hf://datasets/org/d/train/x.parquet", ("org/d", "dataset")),
        ("hf-hub:org/vit", ("org/vit", "model")),
        ("hf://spaces/org/app", None),
        ("./local/dir", None),
        ("/abs/path", None),
        ("C:\\models\\x", None),
        ("https://example.com/x", None),
        ("weights.bin", None),
        ("org/name/extra", None),
        ("", None),
    ],
)
def test_normalise_id(raw: str, expected: tuple[str, str] | None) -> None:
    assert normalise_id(raw) == expected


def test_bad_input_never_raises() -> None:
    for text in ["", "\x00\x01", "(" * 5000, "def f(:\n", "x = '" + "a" * 100000, "\r\n\r\n", "é" * 1000]:
        result = analyze_code(text)
        assert result.refs == [] or all(r.repo_id for r in result.refs)


@pytest.mark.quiet("MH701", "MH702", "MH703", "MH704", "MH705", "MH706", "MH708")
def test_safe_spellings_of_risky_loads_are_not_flagged() -> None:
    # Each look-alike calls the same library as the risky load, in a way that deserializes nothing.
    assert sorted(BENIGN) == ["MH701", "MH702", "MH703", "MH704", "MH705", "MH706", "MH708"]
    for rule, text in BENIGN.items():
        assert rule not in [ld.rule for ld in analyze_code(text).loads], rule
