"""JSON files: chat templates in tokenizer_config.json, Keras configs; ordinary JSON is clean."""

from __future__ import annotations

import json

from malhug.analyzers.api import scan_bytes
from malhug.core.model import Category, Verdict
from tests.formats.templates import CHATML, LLAMA3, SSTI
from tests.keras.keraslib import lambda_b64, lambda_layer, scan, sequential


def _tokenizer_config(template: object) -> bytes:
    return json.dumps(
        {
            "add_bos_token": True,
            "bos_token": "<s>",
            "eos_token": "</s>",
            "model_max_length": 4096,
            "chat_template": template,
        }
    ).encode()


def test_tokenizer_config_with_real_template_is_clean() -> None:
    report = scan(_tokenizer_config(LLAMA3), "tokenizer_config.json")
    assert report.format == "json"
    assert report.findings == []


def test_tokenizer_config_with_ssti_template() -> None:
    report = scan(_tokenizer_config(SSTI["joiner-os"]), "tokenizer_config.json")
    [f] = report.findings
    assert f.rule == "MH401"
    assert f.category is Category.TEMPLATE_INJECTION
    assert f.location.member == "chat_template"
    assert report.verdict is Verdict.MALICIOUS


def test_named_template_list() -> None:
    templates = [{"name": "default", "template": CHATML}, {"name": "rag", "template": SSTI["map-attribute"]}]
    [f] = scan(_tokenizer_config(templates), "tokenizer_config.json").findings
    assert f.location.member == "chat_template.rag"


def test_ordinary_json_is_clean_even_with_scary_strings() -> None:
    data = json.dumps(
        {"architectures": ["LlamaForCausalLM"], "note": "os.system('id') __class__", "hidden_size": 4096}
    ).encode()
    report = scan(data, "config.json")
    assert report.format == "json"
    assert report.findings == []


def test_keras_config_json_with_lambda() -> None:
    data = json.dumps(sequential(lambda_layer([lambda_b64("os.system('echo malhug') or x"), None, None]))).encode()
    [f] = scan(data, "model.json").findings
    assert f.rule == "MH301"
    assert f.category is Category.COMMAND_EXEC


def test_json_nested_past_the_recursion_limit_is_mh902_naming_that_limit() -> None:
    import sys

    deep = b'{"auto_map": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    report = scan_bytes(deep, name="config.json")
    hits = [f for f in report.findings if f.rule == "MH902"]
    assert hits, report.findings
    assert f"recursion limit) exceeds the limit of {sys.getrecursionlimit()}" in hits[0].message
    assert report.verdict is Verdict.SUSPICIOUS
