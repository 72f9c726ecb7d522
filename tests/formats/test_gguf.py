"""GGUF: metadata parsing (v1-v3, both byte orders), chat templates, bounds."""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import numpy as np
import pytest

from malhug.analyzers.api import scan_bytes, scan_file
from malhug.core.model import Category, Severity, Verdict
from tests.formats.templates import LLAMA3, SSTI


def _write(path: Path, template: str | list[dict[str, str]] | None) -> Path:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("malhug-test")
    writer.add_context_length(2048)
    writer.add_token_list(["<s>", "</s>", "hello", "world"])
    writer.add_token_scores([0.0, 0.0, -1.0, -2.0])
    if template is not None:
        writer.add_chat_template(template)
    writer.add_tensor("tok_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_llama3_template_is_clean(tmp_path: Path) -> None:
    report = scan_file(_write(tmp_path / "m.gguf", LLAMA3))
    assert report.format == "gguf"
    assert report.findings == []
    assert report.verdict is Verdict.CLEAN


@pytest.mark.fires("MH401")
def test_ssti_template_is_malicious(tmp_path: Path) -> None:
    report = scan_file(_write(tmp_path / "m.gguf", SSTI["self-globals"]))
    [f] = report.findings
    assert f.rule == "MH401"
    assert f.category is Category.TEMPLATE_INJECTION
    assert f.severity is Severity.CRITICAL
    assert f.location.member == "tokenizer.chat_template"
    assert "__globals__" in f.message
    assert report.verdict is Verdict.MALICIOUS


def test_named_templates_are_checked(tmp_path: Path) -> None:
    templates = [{"name": "default", "template": LLAMA3}, {"name": "tool_use", "template": SSTI["attr-concat"]}]
    report = scan_file(_write(tmp_path / "m.gguf", templates))
    [f] = report.findings
    assert f.location.member == "tokenizer.chat_template.tool_use"


def _kv_string(key: str, value: str, wide: bool, endian: str) -> bytes:
    n = "Q" if wide else "I"
    k, v = key.encode(), value.encode()
    return struct.pack(endian + n, len(k)) + k + struct.pack(endian + "I", 8) + struct.pack(endian + n, len(v)) + v


def _hand_gguf(version: int, endian: str, kvs: list[bytes], tensors: int = 0) -> bytes:
    wide = version >= 2
    n = "Q" if wide else "I"
    return b"GGUF" + struct.pack(endian + "I", version) + struct.pack(endian + n + n, tensors, len(kvs)) + b"".join(kvs)


def test_version_1_and_big_endian_files_are_parsed() -> None:
    for version, endian in ((1, "<"), (3, ">")):
        kv = [
            _kv_string("general.name", "x", version >= 2, endian),
            _kv_string("tokenizer.chat_template", SSTI["mro-subclasses"], version >= 2, endian),
        ]
        report = scan_bytes(_hand_gguf(version, endian, kv))
        assert report.format == "gguf", (version, endian)
        assert [f.rule for f in report.findings] == ["MH401"], (version, endian)


def test_truncated_metadata_is_malformed() -> None:
    kv = [_kv_string("tokenizer.chat_template", LLAMA3, True, "<")]
    report = scan_bytes(_hand_gguf(3, "<", kv)[:-20])
    assert [f.rule for f in report.findings] == ["MH901"]
    assert report.verdict is Verdict.SUSPICIOUS


def test_absurd_counts_hit_limits_without_allocation() -> None:
    report = scan_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2**60))
    assert [f.rule for f in report.findings] == ["MH902"]
    huge_string = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2**62)
    assert [f.rule for f in scan_bytes(huge_string).findings] == ["MH901"]
    array = struct.pack("<Q", 1) + b"a" + struct.pack("<IIQ", 9, 8, 2**40)
    assert [f.rule for f in scan_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + array).findings] == ["MH901"]


def test_template_after_a_large_vocabulary_is_found(tmp_path: Path) -> None:
    path = tmp_path / "vocab.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_token_list([f"tok{i}" * (1 + i % 7) for i in range(60_000)])
    writer.add_token_merges([f"a{i} b{i}" for i in range(60_000)])
    writer.add_chat_template(SSTI["set-reverse"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    report = scan_file(path)
    assert [f.rule for f in report.findings] == ["MH401"]
    truncated = path.read_bytes()[:700_000]
    assert [f.rule for f in scan_bytes(truncated).findings] == ["MH901"]
