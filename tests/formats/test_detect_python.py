"""Fail-closed detection, Python: what Python imports is analyzed as Python, whatever its first bytes.

``datasets`` imports ``<name>.py``, ``transformers`` the ``auto_map`` modules; neither asks a sniffer.
Each module below imports fine in CPython and ends with a defanged payload at module level.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from malhug.analyzers import formats
from malhug.analyzers.api import scan_bytes, scan_path
from malhug.analyzers.detect import WINDOW, detect_analyses
from malhug.analyzers.shared.source import BytesSource
from malhug.analyzers.shared.text import decode_python
from malhug.core.model import Category, FileReport, Verdict

PAYLOAD = b'\nimport os\nos.system("echo malhug")\n'
LONG = 2 * WINDOW

MODULES: dict[str, bytes] = {
    "long module docstring": b'"""' + b"A dataset of many things. " * (LONG // 26) + b'"""\n' + PAYLOAD,
    "long _CITATION": b'_CITATION = """\\\n@article{x,\n'
    + b"  title={A long title},\n" * (LONG // 24)
    + b'}\n"""\n'
    + PAYLOAD,
    "triple backtick in a docstring": b'"""Usage:\n\n```python\nload_dataset("x")\n```\n"""\n' + PAYLOAD,
    "chat template literal": b"TEMPLATE = \"{% for message in messages %}{{ message['content'] }}"
    b'{% endfor %}{% if add_generation_prompt %}{{ bos_token }}{% endif %}"\n' + PAYLOAD,
    "latin-1 coding cookie": b"# -*- coding: latin-1 -*-\n" + b'NAME = "caf\xe9"\n' + PAYLOAD,
    "invalid UTF-8 byte in a comment": b"# r\xe9sum\xe9 of the data\nVERSION = 1\n" + PAYLOAD,
    "BOM": b"\xef\xbb\xbf" + b'"""doc"""\n' + PAYLOAD,
    # Found by tests/fuzz/test_fuzz_detection.py: the latin-1 fallback kept the BOM as text ("\xef\xbb\xbf"
    # -> "ï»¿"), a syntax error on line 1 that hid the payload.
    "BOM and a stray byte": b'\xef\xbb\xbf"""```python\n# odd byte \xff\nx = 1\n```\n"""\n_CITATION = """\\\n'
    + b"@article{x, title={T}}\n" * 9
    + b'"""\n'
    + PAYLOAD,
    "long leading comment block": b"# " + b"x" * 70 + b"\n" * 1 + (b"# " + b"y" * 70 + b"\n") * (LONG // 72) + PAYLOAD,
}


def _assert_payload_found(report: FileReport) -> None:
    hits = [f for f in report.findings if f.rule == "MH505"]
    assert hits, report.findings
    assert hits[0].category is Category.COMMAND_EXEC
    assert "echo malhug" in hits[0].evidence or "echo" in hits[0].message
    assert report.verdict is Verdict.MALICIOUS


@pytest.mark.parametrize("name", sorted(MODULES))
def test_py_file_is_always_python(name: str) -> None:
    data = MODULES[name]
    assert detect_analyses(BytesSource(data), "my_dataset.py")[0] == formats.PYTHON
    report = scan_bytes(data, name="my_dataset.py")
    assert report.format == formats.PYTHON
    _assert_payload_found(report)


@pytest.mark.parametrize(
    "name",
    [
        "long module docstring",
        "long _CITATION",
        "triple backtick in a docstring",
        "chat template literal",
        "latin-1 coding cookie",
        "invalid UTF-8 byte in a comment",
        "BOM",
        "BOM and a stray byte",
        "long leading comment block",
    ],
)
def test_python_by_bytes_when_the_name_gives_no_hint(name: str) -> None:
    # Classified on the whole text (up to max_source_bytes), read as Python reads a source.
    data = MODULES[name]
    assert detect_analyses(BytesSource(data), "blob")[0] == formats.PYTHON
    _assert_payload_found(scan_bytes(data, name="blob"))


def test_binary_named_py_is_still_analyzed_as_python() -> None:
    data = b"\x89HDF\r\n\x1a\n" + b"\0" * 64
    analyses = detect_analyses(BytesSource(data), "weird.py")
    assert analyses[0] == formats.HDF5 and formats.PYTHON in analyses


def test_auto_map_module_with_a_long_docstring_reaches_the_script_analyzer(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "modeling_x.MyModel"}}))
    (tmp_path / "modeling_x.py").write_bytes(MODULES["long module docstring"])
    reports = {Path(r.path).name: r for r in scan_path(tmp_path)}
    module = reports["modeling_x.py"]
    assert module.format == formats.PYTHON
    _assert_payload_found(module)
    assert reports["config.json"].verdict is Verdict.CLEAN


def test_dataset_script_with_latin1_cookie_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "squadish.py").write_bytes(MODULES["latin-1 coding cookie"])
    (report,) = scan_path(tmp_path)
    assert report.format == formats.PYTHON
    _assert_payload_found(report)


def test_loader_files_by_name_get_their_analyzer() -> None:
    # Leading whitespace longer than the head: the head alone says "text".
    config = b" " * LONG + json.dumps({"chat_template": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}).encode()
    assert detect_analyses(BytesSource(config), "blob") == [formats.TEXT]
    assert detect_analyses(BytesSource(config), "tokenizer_config.json") == [formats.JSON]
    report = scan_bytes(config, name="tokenizer_config.json")
    assert report.format == formats.JSON
    assert report.verdict is not Verdict.CLEAN
    template = b"{{ ''.__class__.__mro__[1].__subclasses__() }}\n"
    assert detect_analyses(BytesSource(template), "chat_template.jinja") == [formats.JINJA]
    assert scan_bytes(template, name="chat_template.jinja").verdict is not Verdict.CLEAN
    assert detect_analyses(BytesSource(b"{}"), "sub/config.json") == [formats.JSON]


BENIGN_TEXT = {
    "prose": b"This model was trained on a large corpus.\n" * 400,
    "markdown": b"# Title\n\n" + b"Some words here, more words there.\n" * 400 + b"```\ncode\n```\n",
    "latin-1 prose": "Caf\xe9 cr\xe8me br\xfbl\xe9e.\n".encode("latin-1") * 400,
    "vocab": b"\n".join(b"word%d" % i for i in range(5000)),
}


@pytest.mark.parametrize("name", sorted(BENIGN_TEXT))
def test_long_text_stays_text(name: str) -> None:
    analyses = detect_analyses(BytesSource(BENIGN_TEXT[name]), "notes.txt")
    assert analyses[0] in (formats.TEXT, formats.UNKNOWN) and len(analyses) == 1
    assert scan_bytes(BENIGN_TEXT[name], name="notes.txt").verdict is Verdict.CLEAN


def test_decode_python_follows_pep263_and_tolerates_a_stray_byte() -> None:
    assert decode_python(b"# coding: latin-1\nx = '\xe9'\n") == "# coding: latin-1\nx = '\xe9'\n"
    assert decode_python(b"x = 1  # \xff\n") == "x = 1  # \ufffd\n"
    assert decode_python(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"
    assert decode_python(b"\x00\x01binary") is None
    assert decode_python(bytes(range(128, 256)) * 4) is None


@pytest.mark.parametrize("cookie", [b"rot13", b"zlib_codec", b"utf-16", b"no-such-codec", b"cp1252", b"utf-8-sig"])
def test_odd_coding_cookies_never_stop_the_analysis(cookie: bytes) -> None:
    source = b"# -*- coding: " + cookie + b" -*-\n# caf\xe9\n" + PAYLOAD
    report = scan_bytes(source, name="odd.py")
    assert report.format == formats.PYTHON
    assert "MH903" not in {f.rule for f in report.findings}
    _assert_payload_found(report)
