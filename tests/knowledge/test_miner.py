"""The gadget miner (tools/gadgets) on small synthetic package trees written in tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tools.gadgets.callgraph import CallGraph
from tools.gadgets.mine import find_gadgets, read_tree, select


def _mine(tmp_path: Path, files: dict[str, str], depth: int = 3) -> dict[str, tuple[str, ...]]:
    for rel, source in files.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    graph = CallGraph(read_tree(tmp_path / "pkg", "pkg"))
    return {g.name: g.path for g in find_gadgets(graph, {"pkg": ("pkg", "1.0")}, depth)}


def test_two_hop_path_to_os_system_across_modules(tmp_path: Path) -> None:
    found = _mine(
        tmp_path,
        {
            "__init__.py": "from pkg.tools import run_tool\n",
            "tools.py": """
                from pkg import _shell

                def run_tool(name):
                    return _shell.call(name + " --version")
            """,
            "_shell.py": """
                import os

                def call(command):
                    cmd = command.strip()
                    return os.system(cmd)
            """,
        },
    )
    assert found["pkg.tools.run_tool"] == ("pkg.tools.run_tool", "pkg._shell.call", "os.system")
    assert found["pkg._shell.call"] == ("pkg._shell.call", "os.system")


def test_function_that_only_formats_strings_is_not_a_gadget(tmp_path: Path) -> None:
    found = _mine(
        tmp_path,
        {
            "fmt.py": """
                import os

                def describe(name, value):
                    text = "{}={}".format(name, value)
                    return os.path.join(text.upper(), "x")

                def fixed():
                    return os.system("true")  # constant argument: not fed by the caller
            """
        },
    )
    assert "pkg.fmt.describe" not in found
    assert "pkg.fmt.fixed" not in found


def test_depth_limit_is_respected(tmp_path: Path) -> None:
    files = {
        "chain.py": """
            import subprocess

            def a(x):
                return b(x)

            def b(x):
                return c(x)

            def c(x):
                return d(x)

            def d(x):
                return e(x)

            def e(x):
                return subprocess.run(x)
        """
    }
    shallow = _mine(tmp_path, files, depth=3)
    assert {"pkg.chain.b", "pkg.chain.c", "pkg.chain.d", "pkg.chain.e"} <= set(shallow)
    assert "pkg.chain.a" not in shallow  # four calls before the sink
    deep = _mine(tmp_path, files, depth=4)
    assert deep["pkg.chain.a"][-1] == "subprocess.run"


def test_methods_through_self_class_attributes_and_constructors(tmp_path: Path) -> None:
    found = _mine(
        tmp_path,
        {
            "conf.py": """
                class Base:
                    importer = staticmethod(__import__)

                    def resolve(self, name):
                        return self.importer(name)

                class Loader(Base):
                    def __init__(self, spec):
                        self.spec = spec
                        self.load(spec)

                    def load(self, spec):
                        return self.resolve(spec["()"])

                def configure(spec):
                    return Loader(spec)
            """
        },
    )
    assert found["pkg.conf.Base.resolve"] == ("pkg.conf.Base.resolve", "builtins.__import__")
    assert found["pkg.conf.Loader"][:2] == ("pkg.conf.Loader", "pkg.conf.Loader.__init__")
    assert found["pkg.conf.configure"][-1] == "builtins.__import__"


def test_open_for_writing_is_a_sink_and_reading_is_not(tmp_path: Path) -> None:
    found = _mine(
        tmp_path,
        {
            "io_.py": """
                def save(path, data):
                    with open(path, "w") as fh:
                        fh.write(data)

                def load(path):
                    with open(path) as fh:
                        return fh.read()
            """
        },
    )
    assert found["pkg.io_.save"] == ("pkg.io_.save", "builtins.open")
    assert "pkg.io_.load" not in found


def test_cap_keeps_public_names_first(tmp_path: Path) -> None:
    source = "import os\n" + "".join(f"def _p{i}(c):\n    os.system(c)\n" for i in range(5))
    source += "def public(c):\n    os.system(c)\n"
    for_graph = tmp_path / "pkg"
    for_graph.mkdir()
    (for_graph / "m.py").write_text(source, encoding="utf-8")
    graph = CallGraph(read_tree(for_graph, "pkg"))
    kept, totals = select(find_gadgets(graph, {"pkg": ("pkg", "1.0")}), cap=2)
    assert totals == {"pkg": 6}
    assert [g.name for g in kept] == ["pkg.m._p0", "pkg.m.public"]
