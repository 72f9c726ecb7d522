"""The load-time policy (docs/POLICY.md, analyzers/pickle/policy.py): allowlisted rebuilders are
clean, other classes are a note, other functions are suspicious, mined gadgets and dangerous names
handed to a call are malicious.

Fixtures follow published descriptions: the Hide-and-Seek study's gadgets (arXiv:2508.19774) and
PickleBall's per-library load policies (arXiv:2508.15987)."""

from __future__ import annotations

from pathlib import Path

import pytest

from malhug.analyzers.pickle.allowlist import ALLOWED, is_listed
from malhug.analyzers.pickle.measured import MEASURED_CALLS
from malhug.analyzers.pickle.policy import NameCache
from malhug.core.model import Category, Verdict
from tests.builders import gadget_evasions as ge
from tests.builders.pickles import Call, call, pickle_of
from tests.pickle.helpers import rules, scan, summary

SCRATCH = Path("/nonexistent-scratch")  # the gadget builders write no side files


@pytest.mark.fires("MH112")
@pytest.mark.parametrize(
    ("builder", "callee", "category"),
    [
        (ge.typing_get_type_hints, "typing.get_type_hints", Category.CODE_EXEC),
        (ge.numpy_cpuinfo_getoutput, "numpy.distutils.cpuinfo.getoutput", Category.COMMAND_EXEC),
        (ge.joblib_loky_prepare, "joblib.externals.loky.backend.spawn.prepare", Category.CODE_EXEC),
        # the source it runs is assessed: os.system in it makes the finding command-exec
        (ge.torch_fx_graph_module_code, "torch.fx.graph_module.reduce_graph_module", Category.COMMAND_EXEC),
    ],
)
def test_mined_gadget_called_is_malicious(builder, callee: str, category: Category) -> None:
    report = scan(builder(SCRATCH))
    assert report.verdict is Verdict.MALICIOUS, summary(report)
    hit = next(f for f in report.findings if f.rule == "MH112")
    assert callee in hit.message and "a gadget that reaches" in hit.message
    assert hit.category is category
    assert "mined from" in hit.message


@pytest.mark.fires("MH112")
def test_gadget_inside_an_allowed_namespace_is_still_a_gadget() -> None:
    # sklearn.* is allowed by prefix (estimator classes); a mined sklearn function is not.
    name = "sklearn.utils._show_versions._get_sys_info"
    assert not is_listed(name) and NameCache().gadget(name) is not None
    report = scan(pickle_of([call(name)], protocol=4))
    assert "MH112" in rules(report), summary(report)
    assert report.verdict is Verdict.MALICIOUS


@pytest.mark.quiet("MH112")
def test_allowlisted_name_is_never_a_gadget() -> None:
    # collections.namedtuple builds its methods with eval(); benign files call it, so the
    # allowlist wins over the mined table (the miner finds it).
    assert NameCache().gadget("collections.namedtuple") is None
    report = scan(pickle_of([call("collections.namedtuple", "Point", "x y")], protocol=4))
    assert "MH112" not in rules(report), summary(report)
    assert report.verdict is Verdict.CLEAN


@pytest.mark.quiet("MH112")
def test_no_measured_benign_call_is_a_gadget_or_dangerous() -> None:
    cache = NameCache()
    assert MEASURED_CALLS <= ALLOWED
    assert [n for n in MEASURED_CALLS if cache.gadget(n) is not None or cache.danger(n) is not None] == []
    assert "MH112" not in rules(scan(pickle_of([call("collections.OrderedDict")], protocol=4)))


@pytest.mark.fires("MH113")
@pytest.mark.parametrize(
    ("builder", "named", "category"),
    [
        (ge.logging_dictconfig_factory, "os.system", Category.COMMAND_EXEC),
        (ge.logging_dictconfig_split_name, "os.system", Category.COMMAND_EXEC),
        (ge.hydra_instantiate_target, "subprocess.Popen", Category.COMMAND_EXEC),
    ],
)
def test_dangerous_name_handed_to_a_call_is_malicious(builder, named: str, category: Category) -> None:
    report = scan(builder(SCRATCH))
    assert report.verdict is Verdict.MALICIOUS, summary(report)
    hit = next(f for f in report.findings if f.rule == "MH113")
    assert hit.message.endswith(f"with the name of {named}")
    assert hit.category is category


@pytest.mark.fires("MH113")
@pytest.mark.parametrize("name", ["os:system", "posix.system", "subprocess:check_output", "builtins.exec"])
def test_every_spelling_of_a_dangerous_name_counts(name: str) -> None:
    report = scan(pickle_of([call("somelib.resolve_and_call", name)], protocol=4))
    assert "MH113" in rules(report), summary(report)


@pytest.mark.quiet("MH113")
@pytest.mark.parametrize("builder", [ge.logging_dictconfig_lookalike, ge.hydra_instantiate_lookalike])
def test_harmless_names_handed_to_a_call_are_suspicious_not_malicious(builder) -> None:
    report = scan(builder(SCRATCH))
    assert "MH113" not in rules(report) and "MH112" not in rules(report), summary(report)
    assert report.verdict is Verdict.SUSPICIOUS
    assert "outside the load-time allowlist" in next(f for f in report.findings if f.rule == "MH106").message


@pytest.mark.quiet("MH113")
def test_dotted_text_that_names_nothing_dangerous_is_not_a_name_finding() -> None:
    args = ("os.path.join", "config.json", "model.safetensors", "torch.nn.Linear", "v1.2.3")
    report = scan(pickle_of([call("somelib.load_config", *args)], protocol=4))
    assert "MH113" not in rules(report), summary(report)


@pytest.mark.fires("MH106")
@pytest.mark.quiet("MH108")
def test_function_outside_the_allowlist_is_suspicious() -> None:
    # The policy: calling any function outside the allowlist is suspicious (MH108 was a low note).
    report = scan(pickle_of([call("somelib.utils.rebuild", 3)], protocol=4))
    assert report.verdict is Verdict.SUSPICIOUS, summary(report)
    hit = next(f for f in report.findings if f.rule == "MH106")
    assert hit.message == "pickle calls somelib.utils.rebuild, a function outside the load-time allowlist"
    assert "MH108" not in rules(report)


@pytest.mark.fires("MH108")
@pytest.mark.quiet("MH106")
def test_class_outside_the_allowlist_is_a_note() -> None:
    # The model's own classes in a whole-model save: rebuilt, not called as functions.
    report = scan(pickle_of([Call(call("mymodels.nets.TinyNet").func, ())], protocol=2))
    assert report.verdict is Verdict.CLEAN, summary(report)
    assert "MH108" in rules(report) and "MH106" not in rules(report)


def test_resolver_already_listed_keeps_its_rule() -> None:
    report = scan(ge.pkgutil_resolve_split(SCRATCH))
    assert report.verdict is Verdict.MALICIOUS, summary(report)
    assert "MH102" in rules(report)
    assert any("os.system" in f.message and f.category is Category.COMMAND_EXEC for f in report.findings)


@pytest.mark.quiet("MH112")
def test_real_torch_fx_save_runs_harmless_source_and_is_only_suspicious() -> None:
    # A benign torch.save of a traced GraphModule calls reduce_graph_module, which exec()s the
    # forward source it carries: nothing dangerous in that source, so not malicious.
    report = scan(ge.torch_fx_graph_module_benign(SCRATCH))
    assert "MH112" not in rules(report), summary(report)
    assert report.verdict is Verdict.SUSPICIOUS
    hit = next(f for f in report.findings if f.rule == "MH106")
    assert "runs the Python source the pickle carries (nothing dangerous in it)" in hit.message


@pytest.mark.fires("MH101")
def test_pager_helper_is_malicious_and_the_miner_finds_its_path() -> None:
    # pydoc's pager helpers start a shell command (published in picklescan's deny list).
    report = scan(pickle_of([call("pydoc.pipepager", "text", "echo malhug")], protocol=4))
    assert report.verdict is Verdict.MALICIOUS, summary(report)
    assert any(f.rule == "MH101" and "pydoc.pipepager" in f.message for f in report.findings)
    mined = NameCache().gadget("pydoc.pager")
    assert mined is not None and mined.path[-1] == "subprocess.Popen"


WRAPPER = b"torch.utils.data.datapipes.datapipe\n_DataPipeSerializationWrapper\n"


@pytest.mark.fires("MH112")
def test_gadget_class_built_with_state_runs_its_setstate() -> None:
    # NEWOBJ then BUILD: __setstate__ runs, and this one pickle.loads()es its state.
    data = b"\x80\x02c" + WRAPPER + b")\x81C\x05hello" + b"b."
    report = scan(data)
    assert report.verdict is Verdict.MALICIOUS, summary(report)
    hit = next(f for f in report.findings if f.rule == "MH112")
    assert "_DataPipeSerializationWrapper.__setstate__ → pickle.loads" in hit.message


@pytest.mark.quiet("MH112")
def test_gadget_class_created_without_state_runs_nothing() -> None:
    # NEWOBJ alone runs only __new__: the object exists, its __setstate__ never ran.
    report = scan(b"\x80\x02c" + WRAPPER + b")\x81.")
    assert "MH112" not in rules(report), summary(report)
    assert report.verdict is not Verdict.MALICIOUS


def test_name_finder_folds_a_shared_argument_once() -> None:
    # A stream can hand one large constant to thousands of calls: it is folded and walked once.
    from malhug.analyzers.pickle.policy import NameFinder
    from malhug.analyzers.pickle.values import Call as Node

    folded: list[int] = []

    def fold(node: object) -> object:
        folded.append(id(node))
        return tuple(f"pkg{i}.name" for i in range(2000)) + ("os:" + "system",)

    shared = Node(func=None, args=(), offset=0)
    finder = NameFinder(fold)
    for _ in range(1000):
        assert [d.name for d in finder.find(((shared,), None))] == ["os.system"]
    assert len(folded) == 1
