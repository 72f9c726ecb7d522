"""Fuzz target: Python sniffing and the taint analysis (``scripts/*``) through the whole pipeline.

Scripts come from the fixture builders (loading scripts, modeling files, real-world payload shapes)
and are mutated line by line (duplicated, dropped, swapped, re-indented, statements spliced in) and
byte by byte. The payload-preserving mutations (a long module docstring, a coding line, odd bytes in
a comment, statements appended) keep what Python imports and runs, so the verdict must stay flagged.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import check_scan
from tests.fuzz.mutate import mutated
from tests.fuzz.seeds import malicious_script, python_seeds

NAME = "loader.py"
_STATEMENTS = st.sampled_from(
    (
        "x = 1",
        "import os",
        "from subprocess import run as r",
        "def f(a):\n    return a",
        "class C:\n    pass",
        "s = 'a' + 'b' * 3",
        "exec(s)",
        "getattr(os, 'sys' + 'tem')('echo x')",
        "data = open(__file__).read()",
        "lambda: (yield)",
        "with open('f') as h:\n    pass",
        "try:\n    pass\nexcept Exception:\n    pass",
        "x = [" * 50 + "]" * 50,
        "if True:\n" + "  " * 20 + "pass",
    )
)


@st.composite
def line_mutations(draw: st.DrawFn) -> bytes:
    lines = draw(st.sampled_from(python_seeds())).decode().split("\n")
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(("dup", "drop", "swap", "indent", "insert")))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if kind == "dup" and lines:
            lines[i:i] = [lines[i]] * draw(st.integers(1, 50))
        elif kind == "drop" and lines:
            del lines[i]
        elif kind == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "indent" and lines:
            lines[i] = " " * draw(st.integers(1, 8)) + lines[i]
        else:
            lines[i:i] = draw(_STATEMENTS).split("\n")
    return "\n".join(lines).encode()


@given(line_mutations())
def test_line_mutated_scripts_are_handled(data: bytes) -> None:
    check_scan("python", data, name=NAME)


@given(mutated(python_seeds, max_edits=3))
def test_byte_mutated_scripts_are_handled(data: bytes) -> None:
    check_scan("python", data, name=NAME)


@given(st.lists(_STATEMENTS, max_size=8), st.lists(_STATEMENTS, max_size=8))
def test_a_module_level_payload_is_found_among_any_statements(before: list[str], after: list[str]) -> None:
    source = "\n".join([*before, malicious_script(), *after]) + "\n"
    check_scan("python", source.encode(), name=NAME, must_flag=True)


@given(
    st.sampled_from(("docstring", "citation", "coding", "bad-byte", "backticks")),
    st.integers(9 * 1024, 40 * 1024),
)
def test_a_payload_is_found_whatever_the_script_starts_with(kind: str, size: int) -> None:
    body = malicious_script().encode()
    if kind == "docstring":
        data = b'"""' + b"A dataset.\n" * (size // 11) + b'"""\n' + body
    elif kind == "citation":
        data = b'_CITATION = """\\\n' + b"@article{x, title={y}}\n" * (size // 24) + b'"""\n' + body
    elif kind == "coding":
        data = b"# -*- coding: latin-1 -*-\n# \xe9t\xe9\n" + body
    elif kind == "backticks":
        data = b'"""Usage:\n```python\nload_dataset("x")\n```\n"""\n' + body
    else:
        data = b"# caf\xff\n" + body
    check_scan("python", data, name=NAME, must_flag=True)
