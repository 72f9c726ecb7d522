"""The pin codemod without a Hub: which calls get which argument, formatting kept, idempotent, bad input left alone.

The attack it answers: a repository poisoned after the code that loads it was written (MalHug paper,
ASE 2024, section on Hub supply-chain risks); pinning ``revision=`` to a full commit sha freezes what
is loaded.
"""

from __future__ import annotations

import json

import pytest

from malhug.analyzers.api import PinDecision, plan_notebook, plan_text, round_trip_error

SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER = "fedcba9876543210fedcba9876543210fedcba98"


def decide_all(repo_type: str, repo_id: str, revision: str | None) -> PinDecision:
    return PinDecision(SHA, safetensors=True)


def test_multiline_call_keeps_comments_trailing_comma_and_layout() -> None:
    text = (
        "from transformers import AutoModel\n"
        "\n"
        "model = AutoModel.from_pretrained(\n"
        '    "org/model",  # the base model\n'
        "    trust_remote_code=False,\n"
        ")  # end\n"
    )
    plan = plan_text(text, decide_all)
    assert plan.error is None
    assert plan.new_text == (
        "from transformers import AutoModel\n"
        "\n"
        "model = AutoModel.from_pretrained(\n"
        '    "org/model",  # the base model\n'
        "    trust_remote_code=False,\n"
        f'    revision="{SHA}",\n'
        "    use_safetensors=True,\n"
        ")  # end\n"
    )
    assert [n.message for n in plan.changes] == [
        f'model org/model: revision="{SHA}"',
        "model org/model: use_safetensors=True",
    ]
    assert plan_text(plan.new_text, decide_all).changed is False


def test_quotes_crlf_and_odd_spacing_are_kept() -> None:
    text = "from transformers import AutoTokenizer\r\ntok = AutoTokenizer.from_pretrained( 'org/model' )\r\n"
    plan = plan_text(text, decide_all)
    # A tokenizer loads no weights: revision only, in the literal's own quotes; CRLF kept.
    assert plan.new_text == (
        f"from transformers import AutoTokenizer\r\ntok = AutoTokenizer.from_pretrained( 'org/model', revision='{SHA}' )\r\n"
    )
    assert plan_text(plan.new_text, decide_all).new_text == plan.new_text


def test_loaders_get_only_what_they_accept() -> None:
    text = (
        "from datasets import load_dataset\n"
        "from transformers import pipeline\n"
        "from huggingface_hub import hf_hub_download\n"
        "ds = load_dataset('org/data', split='train')\n"
        "p = pipeline('text-generation', model='org/model')\n"
        "f = hf_hub_download('org/model', 'x.bin')\n"
    )
    new = plan_text(text, decide_all).new_text
    assert "use_safetensors" not in new
    assert f"load_dataset('org/data', split='train', revision='{SHA}')" in new
    assert f"pipeline('text-generation', model='org/model', revision='{SHA}')" in new
    assert f"hf_hub_download('org/model', 'x.bin', revision='{SHA}')" in new


def test_no_safetensors_in_the_pinned_revision_means_no_use_safetensors() -> None:
    text = "from transformers import AutoModel\nm = AutoModel.from_pretrained('org/model')\n"
    plan = plan_text(text, lambda t, r, v: PinDecision(SHA, safetensors=False))
    assert plan.new_text.endswith(f"from_pretrained('org/model', revision='{SHA}')\n")


def test_a_clean_pin_already_there_is_kept_and_a_bad_one_replaced() -> None:
    text = f"from transformers import AutoModel\nm = AutoModel.from_pretrained('org/model', revision='{OTHER}')\n"
    seen = []

    def decide(repo_type: str, repo_id: str, revision: str | None) -> PinDecision:
        seen.append((repo_type, repo_id, revision))
        return PinDecision(revision if revision == SHA else SHA)

    assert plan_text(text, decide).new_text == text.replace(OTHER, SHA)
    assert seen == [("model", "org/model", OTHER)]
    assert plan_text(text.replace(OTHER, SHA), decide).changed is False


def test_no_clean_revision_is_a_problem_and_the_call_is_left_as_is() -> None:
    text = "from transformers import AutoModel\nm = AutoModel.from_pretrained('org/evil')\n"
    plan = plan_text(text, lambda t, r, v: PinDecision(None, reason="every commit is malicious"))
    assert plan.new_text == text and not plan.changed
    assert [(n.line, n.column, n.message) for n in plan.problems] == [
        (2, 31, "model org/evil: not pinned: every commit is malicious")
    ]


def test_calls_that_cannot_be_pinned_safely_are_explained() -> None:
    text = (
        "import fsspec\n"
        "from transformers import AutoModel\n"
        "REV = get_rev()\n"
        "a = AutoModel.from_pretrained('org/a', **kwargs)\n"
        "b = AutoModel.from_pretrained('org/b', revision=REV)\n"
        "c = fsspec.open('hf://org/c/config.json')\n"
    )
    plan = plan_text(text, decide_all)
    assert plan.new_text == text
    messages = [n.message for n in plan.problems]
    assert messages == [
        "model org/a: the call passes */** arguments; revision= not set",
        "model org/b: revision= is not a constant; left as written",
        f"model org/c: pin it in the path: @{SHA}",
    ]


def test_an_hf_path_pinned_to_a_clean_sha_is_fine_and_a_bad_one_is_reported() -> None:
    text = f"import fsspec\nc = fsspec.open('hf://org/c@{SHA}/config.json')\n"
    assert plan_text(text, decide_all).problems == []
    bad = plan_text(text.replace(SHA, OTHER), decide_all)
    assert [n.message for n in bad.problems] == [
        f"model org/c: the path's revision does not scan clean; pin it in the path: @{SHA}"
    ]
    assert bad.new_text == text.replace(SHA, OTHER)


def test_torch_load_gets_weights_only_unless_given_or_ignored() -> None:
    text = (
        "import torch\n"
        "a = torch.load('a.pt')\n"
        "b = torch.load('b.pt', weights_only=False)\n"
        "c = torch.load('c.pt')  # malhug: ignore[MH701]\n"
    )
    plan = plan_text(text, decide_all)
    assert plan.new_text == text.replace("torch.load('a.pt')", "torch.load('a.pt', weights_only=True)")
    assert [n.message for n in plan.notes] == ["torch.load: weights_only is given explicitly; left as written"]


def test_nested_calls_are_both_edited() -> None:
    text = (
        "import torch\nfrom huggingface_hub import hf_hub_download\nw = torch.load(hf_hub_download('org/m', 'w.pt'))\n"
    )
    new = plan_text(text, decide_all).new_text
    assert new.endswith(f"w = torch.load(hf_hub_download('org/m', 'w.pt', revision='{SHA}'), weights_only=True)\n")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("from transformers import AutoModel\ndef f(:\n    AutoModel.from_pretrained('org/m')\n", "does not parse"),
        ("x = 1\0\n", "does not parse"),
    ],
)
def test_unparsable_text_is_left_alone(text: str, why: str) -> None:
    plan = plan_text(text, decide_all)
    assert plan.error is not None and plan.error.startswith(why)
    assert plan.new_text == text and not plan.changed


def test_round_trip_check() -> None:
    assert round_trip_error("x = (1,  # c\n     2)\n") is None
    assert round_trip_error("def f(:\n") is not None


def _notebook(cells: list[dict[str, object]], indent: int = 1) -> str:
    data = {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(data, indent=indent, ensure_ascii=False) + "\n"


def _code(*lines: str) -> dict[str, object]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": list(lines)}


def test_notebook_code_cells_are_pinned_magics_and_layout_kept() -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["AutoModel.from_pretrained('org/doc') — prose"]},
        _code(
            "%pip install transformers\n",
            "!ls models\n",
            "AutoModel?\n",
            "from transformers import AutoModel\n",
            "m = AutoModel.from_pretrained('org/m')  # é",
        ),
        _code("%%bash\n", "python -c 'import torch; torch.load(\"x.pt\")'\n"),
    ]
    text = _notebook(cells)
    plan = plan_notebook(text, decide_all)
    assert plan.error is None and plan.problems == []
    pinned = json.loads(plan.new_text)["cells"]
    assert pinned[0] == cells[0]
    assert pinned[1]["source"] == [
        "%pip install transformers\n",
        "!ls models\n",
        "AutoModel?\n",
        "from transformers import AutoModel\n",
        f"m = AutoModel.from_pretrained('org/m', revision='{SHA}', use_safetensors=True)  # é",
    ]
    assert pinned[2] == cells[2]  # a cell magic is not Python: left alone, no problem reported
    assert plan.new_text == _notebook([cells[0], {**cells[1], "source": pinned[1]["source"]}, cells[2]])
    assert [n.message for n in plan.changes][0] == f'cell 2: model org/m: revision="{SHA}"'
    assert plan_notebook(plan.new_text, decide_all).changed is False


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "not a notebook (broken JSON"),
        ('{"cells": 3}\n', "not a notebook (no cells)"),
        (
            _notebook([_code("import torch\n", "torch.load('x.pt')")], indent=2),
            "the notebook is not in nbformat's layout",
        ),
    ],
)
def test_notebooks_that_cannot_be_rewritten_exactly_are_left_alone(text: str, why: str) -> None:
    plan = plan_notebook(text, decide_all)
    assert plan.error is not None and plan.error.startswith(why)
    assert not plan.changed


def test_a_notebook_cell_that_does_not_parse_is_reported_and_left_alone() -> None:
    text = _notebook([_code("def f(:\n", "    pass"), _code("import torch\n", "torch.load('x.pt')")])
    plan = plan_notebook(text, decide_all)
    assert [n.message.split(":")[0:2] for n in plan.problems] == [["cell 1", " left untouched"]]
    cells = json.loads(plan.new_text)["cells"]
    assert cells[0]["source"] == ["def f(:\n", "    pass"]
    assert cells[1]["source"] == ["import torch\n", "torch.load('x.pt', weights_only=True)"]


def test_nothing_is_rewritten_when_libcst_does_not_give_the_text_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import libcst

    class Lossy:
        code = "something else\n"

    monkeypatch.setattr(libcst, "parse_module", lambda text: Lossy())
    text = "import torch\nx = torch.load('a.pt')\n"
    plan = plan_text(text, decide_all)
    assert plan.error == "libcst does not read it back to the same text"
    assert plan.new_text == text and not plan.changed


def test_an_edit_that_would_not_parse_is_not_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    from malhug.analyzers.usercode import pin

    monkeypatch.setattr(pin, "set_keyword", lambda call, src, name, value: [(call.span, "torch.load(")])
    text = "import torch\nx = torch.load('a.pt')\n"
    plan = plan_text(text, decide_all)
    assert plan.error is not None and plan.error.startswith("the edited text would not be valid (does not parse")
    assert plan.new_text == text and not plan.changed
