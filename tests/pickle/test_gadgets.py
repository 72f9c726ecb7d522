"""Dangerous callables, called directly or reached through every indirection the machine follows."""

from __future__ import annotations

import base64
import codecs
import marshal
import pickle
import zlib

import pytest

from malhug.core.model import Category, Severity, Verdict
from tests.builders.pickles import Call, Global, Writer, call, pickle_of
from tests.pickle.helpers import one, rules, s4, scan, setstate_exec, sglobal, summary

ECHO = "echo malhug"


@pytest.mark.fires("MH101")
@pytest.mark.parametrize(
    ("dotted", "args", "category"),
    [
        ("os.system", (ECHO,), Category.COMMAND_EXEC),
        ("posix.system", (ECHO,), Category.COMMAND_EXEC),
        ("nt.system", (ECHO,), Category.COMMAND_EXEC),
        ("os.popen", (ECHO,), Category.COMMAND_EXEC),
        ("os.execv", ("/bin/echo", ["/bin/echo", "x"]), Category.COMMAND_EXEC),
        ("os.spawnlp", (0, "echo", "echo", "x"), Category.COMMAND_EXEC),
        ("subprocess.check_output", (["echo", "x"],), Category.COMMAND_EXEC),
        ("subprocess.run", (ECHO,), Category.COMMAND_EXEC),
        ("pty.spawn", ("/bin/echo",), Category.COMMAND_EXEC),
        ("multiprocessing.util.spawnv_passfds", ("/bin/echo", ["/bin/echo", "x"], ()), Category.COMMAND_EXEC),
        ("distutils.spawn.spawn", (["echo", "x"],), Category.COMMAND_EXEC),
        ("setuptools._distutils.spawn.spawn", (["echo", "x"],), Category.COMMAND_EXEC),
        ("torch.utils.collect_env.run", (ECHO,), Category.COMMAND_EXEC),
        ("mailcap.findmatch", ({}, "text/plain"), Category.COMMAND_EXEC),
        ("builtins.exec", ("print('malhug')",), Category.CODE_EXEC),
        ("builtins.eval", ("print('malhug')",), Category.CODE_EXEC),
        ("__builtin__.eval", ("print('malhug')",), Category.CODE_EXEC),
        ("builtins.compile", ("print('malhug')", "<x>", "exec"), Category.CODE_EXEC),
        ("runpy._run_code", ("print('malhug')", {}), Category.CODE_EXEC),
        ("timeit.timeit", ("print('malhug')",), Category.CODE_EXEC),
        ("cProfile.run", ("print('malhug')",), Category.CODE_EXEC),
        ("profile.run", ("print('malhug')",), Category.CODE_EXEC),
        ("pdb.run", ("print('malhug')",), Category.CODE_EXEC),
        ("code.interact", ("banner",), Category.CODE_EXEC),
        ("numpy.testing._private.utils.runstring", ("print('malhug')", {}), Category.CODE_EXEC),
        ("ctypes.CDLL", ("libc.so.6",), Category.CODE_EXEC),
        ("shutil.rmtree", ("/tmp/malhug-nothing",), Category.DESTRUCTIVE),
        ("os.remove", ("/tmp/malhug-nothing",), Category.DESTRUCTIVE),
        ("builtins.open", ("/tmp/malhug-nothing", "w"), Category.FILE_WRITE),
    ],
)
def test_dangerous_callable_called_directly(dotted: str, args: tuple[object, ...], category: Category) -> None:
    report = scan(pickle_of([call(dotted, *args)], protocol=2))
    f = one(report, "MH101")
    assert report.verdict is Verdict.MALICIOUS
    assert f.severity >= Severity.HIGH
    assert f.category is category, summary(report)
    assert f.evidence.endswith(")") and "(" in f.evidence


@pytest.mark.parametrize(
    ("dotted", "args"),
    [
        ("webbrowser.open", ("https://127.0.0.1/x",)),
        ("urllib.request.urlopen", ("http://127.0.0.1/x",)),
        ("socket.create_connection", (("127.0.0.1", 4444),)),
        ("requests.get", ("http://127.0.0.1/x",)),
        ("http.client.HTTPConnection", ("127.0.0.1",)),
        ("torch.hub.load", ("owner/repo", "model")),
        ("torch.hub.load_state_dict_from_url", ("http://127.0.0.1/w.pt",)),
        ("pip.main", (["install", "malhug-nothing"],)),
        ("pydoc.locate", ("os.system",)),
        ("pkgutil.resolve_name", ("os:system",)),
        ("importlib.import_module", ("os",)),
        ("operator.attrgetter", ("system",)),
        ("builtins.__import__", ("os",)),
    ],
)
def test_network_browser_install_and_resolvers_are_malicious(dotted: str, args: tuple[object, ...]) -> None:
    report = scan(pickle_of([call(dotted, *args)], protocol=4))
    f = one(report, "MH101")
    assert report.verdict is Verdict.MALICIOUS, summary(report)
    assert f.severity >= Severity.HIGH


@pytest.mark.fires("MH102")
def test_getattr_of_import_decompiles_the_chain() -> None:
    chain = Call(call("builtins.getattr", call("builtins.__import__", "os"), "system"), (ECHO,))
    data = pickle_of([chain], protocol=2)
    report = scan(data)
    f = one(report, "MH102")
    assert f.evidence == f"getattr(__import__('os'), 'system')('{ECHO}')"
    assert f.location.offset == data.rindex(b"R")
    assert "__import__ → getattr" in f.message
    assert rules(report) == {"MH102"}  # the inner __import__ and getattr are part of this finding
    assert [step.message for step in f.trace] == [
        "__import__('os')",
        "getattr(__import__('os'), 'system')",
        f"getattr(__import__('os'), 'system')('{ECHO}')",
    ]
    assert [step.location.offset for step in f.trace] == sorted(step.location.offset or 0 for step in f.trace)


@pytest.mark.parametrize(
    ("name", "expr"),
    [
        ("getattr on a module global", Call(call("builtins.getattr", Global("posixpath", "os"), "system"), (ECHO,))),
        (
            "attrgetter",
            Call(Call(call("operator.attrgetter", "system"), (call("builtins.__import__", "os"),)), (ECHO,)),
        ),
        ("methodcaller", Call(call("operator.methodcaller", "system", ECHO), (call("builtins.__import__", "os"),))),
        ("partial", Call(call("functools.partial", Global("os", "system"), ECHO), ())),
        ("import_module", Call(call("builtins.getattr", call("importlib.import_module", "os"), "system"), (ECHO,))),
        ("pydoc.locate", Call(call("pydoc.locate", "os.system"), (ECHO,))),
        ("pkgutil.resolve_name", Call(call("pkgutil.resolve_name", "os:system"), (ECHO,))),
        (
            "sys.modules",
            Call(call("builtins.getattr", call("operator.getitem", Global("sys", "modules"), "os"), "system"), (ECHO,)),
        ),
        (
            "globals builtins",
            Call(
                call("operator.getitem", call("operator.getitem", call("builtins.globals"), "__builtins__"), "eval"),
                ("print(1)",),
            ),
        ),
        ("STACK_GLOBAL os.path.os.system", Call(Global("os", "path.os.system"), (ECHO,))),
        ("module __dict__", Call(call("operator.getitem", Global("builtins", "__dict__"), "eval"), ("print(1)",))),
        (
            "__builtins__ of a module",
            Call(call("operator.getitem", Global("torch", "__builtins__"), "eval"), ("print(1)",)),
        ),
        ("STACK_GLOBAL posixpath.os.system", Call(Global("posixpath", "os.system"), (ECHO,))),
        ("STACK_GLOBAL torch.os.system", Call(Global("torch", "os.system"), (ECHO,))),
    ],
)
def test_indirect_reach_is_mh102(name: str, expr: Call) -> None:
    report = scan(pickle_of([expr], protocol=4))
    f = one(report, "MH102")
    assert report.verdict is Verdict.MALICIOUS
    assert f.severity is Severity.CRITICAL, name
    assert "through" in f.message


def test_partial_stored_not_called_is_a_reference() -> None:
    report = scan(pickle_of([call("functools.partial", Global("os", "system"), ECHO)], protocol=4))
    f = one(report, "MH102")
    assert (f.severity, f.category) == (Severity.HIGH, Category.COMMAND_EXEC)
    assert "functools.partial" in f.message
    assert "MH109" not in rules(report)  # the os.system import is part of this finding


def test_real_functools_partial_of_system() -> None:
    import functools
    import os

    report = scan(pickle.dumps(functools.partial(os.system, ECHO), protocol=4))
    assert report.verdict is Verdict.MALICIOUS
    assert "MH102" in rules(report)


def test_subclasses_gadget() -> None:
    expr = Call(call("builtins.getattr", Global("builtins", "object"), "__subclasses__"), ())
    f = one(scan(pickle_of([expr], protocol=4)), "MH102")
    assert "__subclasses__" in f.message and f.severity >= Severity.HIGH


@pytest.mark.fires("MH109")
def test_dangerous_global_stored_but_not_called() -> None:
    w = Writer(4).header()
    w.value({"hook": Global("os", "system")})
    report = scan(bytes(w.op(b".")))
    f = one(report, "MH109")
    assert (f.severity, f.category, f.evidence) == (Severity.HIGH, Category.COMMAND_EXEC, "os.system")


def test_build_injected_setstate_calls_exec() -> None:
    """BUILD plants __setstate__ = exec in an object; the next BUILD calls it with the payload."""
    data = setstate_exec("print('malhug')")
    report = scan(data)
    f = one(report, "MH102")
    assert "BUILD __setstate__" in f.message
    assert f.location.offset == len(data) - 2


@pytest.mark.fires("MH107")
def test_build_and_setitem_on_imported_objects() -> None:
    build = b"\x80\x04" + sglobal("torch", "serialization") + b"}" + s4("load") + sglobal("builtins", "eval") + b"sb."
    f = one(scan(build), "MH107")
    assert f.severity is Severity.HIGH and f.evidence.startswith("torch.serialization.__dict__.update(")
    environ = b"\x80\x04" + sglobal("os", "environ") + s4("LD_PRELOAD") + s4("/tmp/x.so") + b"s."
    f = one(scan(environ), "MH107")
    assert f.evidence == "os.environ['LD_PRELOAD'] = '/tmp/x.so'"
    syspath = b"\x80\x04" + sglobal("sys", "path") + s4("/tmp/evil") + b"a."
    assert one(scan(syspath), "MH107").evidence == "sys.path.extend(['/tmp/evil'])"
    module = b"\x80\x04" + sglobal("builtins", "__import__") + s4("os") + b"\x85R}" + s4("sep") + s4("!") + b"sb."
    assert "MH107" in rules(scan(module))


@pytest.mark.fires("MH105")
def test_base64_payload_is_decoded_and_followed() -> None:
    code = base64.b64encode(b"import os; os.system('echo decoded')").decode()
    report = scan(pickle_of([call("builtins.exec", call("base64.b64decode", code))], protocol=2))
    f = one(report, "MH105")
    assert f.severity is Severity.CRITICAL and "b64decode" in f.evidence
    assert "\"import os; os.system('echo decoded')\"" in f.message
    assert f.category is not Category.UNSAFE_IMPORT


@pytest.mark.parametrize(
    "arg",
    [
        call("codecs.decode", codecs.encode(ECHO.encode(), "hex"), "hex"),
        call("zlib.decompress", zlib.compress(ECHO.encode())),
        call("bytes.fromhex", ECHO.encode().hex()),
    ],
)
def test_hex_and_zlib_commands_are_decoded(arg: Call) -> None:
    f = one(scan(pickle_of([call("os.system", arg)], protocol=3)), "MH105")
    assert f.category is Category.COMMAND_EXEC
    assert "decodes" in f.message


@pytest.mark.fires("MH104")
def test_nested_pickle_is_scanned_inside() -> None:
    inner = pickle_of([call("os.system", "echo inner")], protocol=2)
    data = pickle_of([call("pickle.loads", inner)], protocol=3)
    report = scan(data)
    outer = one(report, "MH104")
    nested = one(report, "MH101")
    assert outer.severity >= Severity.HIGH
    assert nested.location.member == f"pickle.loads@{data.rindex(b'R')}"
    assert nested.evidence == "os.system('echo inner')"


@pytest.mark.fires("MH103")
def test_marshal_and_function_type() -> None:
    code = marshal.dumps(compile("print('malhug')", "<x>", "exec"))
    expr = Call(call("types.FunctionType", call("marshal.loads", code), {}), ())
    report = scan(pickle_of([expr], protocol=4))
    found = [f for f in report.findings if f.rule == "MH103"]
    assert {f.category for f in found} == {Category.CODE_EXEC}
    assert any(f.evidence.startswith("types.FunctionType(marshal.loads(b") for f in found), summary(report)
    assert report.verdict is Verdict.MALICIOUS


def test_dill_function_by_value() -> None:
    dill = pytest.importorskip("dill")
    report = scan(dill.dumps(lambda x: x + 1))
    f = [f for f in report.findings if f.rule == "MH103"]
    assert f and all(x.category is Category.CODE_EXEC for x in f), summary(report)
    assert any("_create_function" in x.evidence or "_create_code" in x.evidence for x in f)
    assert report.verdict is Verdict.MALICIOUS


def test_cloudpickle_function_by_value() -> None:
    cloudpickle = pytest.importorskip("cloudpickle")
    report = scan(cloudpickle.dumps(lambda x: x + 1))
    assert any(f.rule == "MH103" and "_make_function" in f.evidence for f in report.findings), summary(report)
    assert any(f.rule == "MH103" and "_builtin_type('CodeType')" in f.evidence for f in report.findings)
    assert report.verdict is Verdict.MALICIOUS


def test_compile_then_eval_is_one_finding_with_the_code() -> None:
    expr = call("builtins.eval", call("builtins.compile", "print('malhug')", "<x>", "exec"))
    report = scan(pickle_of([expr], protocol=2))
    f = one(report, "MH101")
    assert f.evidence == """eval(compile("print('malhug')", '<x>', 'exec'))"""
    assert f.message.startswith("pickle calls eval with constant code")


def test_payload_inside_bytesio_for_torch_load() -> None:
    inner = pickle_of([call("os.system", "echo via torch")], protocol=2)
    report = scan(pickle_of([call("torch.load", call("io.BytesIO", inner))], protocol=3))
    assert one(report, "MH104").location.offset is not None
    assert one(report, "MH101").location.member is not None and one(report, "MH101").location.member.startswith(
        "torch.load@"
    )


def test_network_payload_fed_to_exec_is_download_exec() -> None:
    fetched = call("builtins.getattr", call("urllib.request.urlopen", "http://127.0.0.1/p"), "read")
    report = scan(pickle_of([call("builtins.exec", Call(fetched, ()))], protocol=4))
    exec_finding = [f for f in report.findings if "exec" in f.message]
    assert exec_finding and exec_finding[0].category is Category.DOWNLOAD_EXEC, summary(report)


@pytest.mark.quiet("MH104")
def test_torch_storage_from_bytes_is_scanned_as_a_nested_load() -> None:
    inner = pickle_of([call("os.system", "echo storage")], protocol=2)
    report = scan(pickle_of([call("torch.storage._load_from_bytes", inner)], protocol=3))
    f = one(report, "MH101")
    assert f.location.member is not None and f.location.member.startswith("torch.storage._load_from_bytes@")
    assert "MH104" not in rules(report)  # torch's own helper is not itself a finding


def test_getattr_with_a_computed_name_is_suspicious() -> None:
    computed = call("mytools.names.pick", 3)
    report = scan(pickle_of([call("builtins.getattr", Global("os", "path"), computed)], protocol=4))
    assert any(f.rule == "MH106" and "computed" in f.message for f in report.findings), summary(report)
    assert report.verdict is Verdict.SUSPICIOUS


@pytest.mark.parametrize(
    ("module", "name", "rule"),
    [
        ("sklearn.base", "np.load", "MH104"),  # allowlisted module, dangerous function behind an attribute
        ("torch.nn.modules.module", "torch.load", "MH104"),
        ("sklearn.utils._testing", "assert_run_python_script", "MH101"),  # dangerous inside an allowed package
    ],
)
def test_allowlisted_packages_do_not_cover_what_they_reach(module: str, name: str, rule: str) -> None:
    report = scan(pickle_of([Call(Global(module, name), ("/tmp/malhug-nothing",))], protocol=4))
    assert report.verdict is Verdict.MALICIOUS, summary(report)
    assert rule in rules(report) or "MH102" in rules(report)


def test_attribute_through_an_allowed_module_is_suspicious() -> None:
    report = scan(pickle_of([Call(Global("torch.nn.modules.module", "helpers.run_thing"), ("x",))], protocol=4))
    assert report.verdict is Verdict.SUSPICIOUS
    assert rules(report) == {"MH106"}


def test_calling_a_function_built_from_bytecode() -> None:
    code = marshal.dumps(compile("print('malhug')", "<x>", "exec"))
    expr = Call(call("types.FunctionType", call("marshal.loads", code), {}), ())
    data = pickle_of([expr], protocol=2)
    report = scan(data)
    called = [f for f in report.findings if f.message.startswith("pickle calls a function it built from bytecode")]
    assert len(called) == 1 and called[0].location.offset == data.rindex(b"R"), summary(report)
    assert called[0].evidence.startswith("types.FunctionType(marshal.loads(b'") and called[0].evidence.endswith("{})()")
    assert "MH106" not in rules(report)


def test_dill_import_module_is_an_importer() -> None:
    chain = Call(call("builtins.getattr", call("dill._dill._import_module", "os"), "system"), (ECHO,))
    f = one(scan(pickle_of([chain], protocol=4)), "MH102")
    assert "dill._dill._import_module → getattr" in f.message


@pytest.mark.quiet("MH103")
@pytest.mark.fires("MH103")
def test_cloudpickle_builtin_type_is_code_only_for_code_types() -> None:
    code_type = one(scan(pickle_of([call("cloudpickle.cloudpickle._builtin_type", "CodeType")], protocol=4)), "MH103")
    assert code_type.evidence == "cloudpickle.cloudpickle._builtin_type('CodeType')"
    mapping = scan(pickle_of([call("cloudpickle.cloudpickle._builtin_type", "MappingProxyType")], protocol=4))
    assert mapping.verdict is Verdict.CLEAN and rules(mapping) == {"MH108"}


def test_nested_loaders_given_a_path_or_a_text_pickle() -> None:
    path = scan(pickle_of([call("torch.load", "/tmp/malhug-other.pt")], protocol=2))
    f = one(path, "MH104")
    assert f.evidence == "torch.load('/tmp/malhug-other.pt')" and all(x.location.member is None for x in path.findings)
    text = pickle_of([call("os.system", "echo text")], protocol=0).decode("latin-1")
    nested = scan(pickle_of([call("pickle.loads", text)], protocol=0))
    assert one(nested, "MH101").location.member is not None


def test_global_name_assembled_with_plus() -> None:
    module = sglobal("operator", "add") + s4("o") + s4("s") + b"\x86R"  # 'o' + 's'
    name = sglobal("operator", "add") + s4("sys") + s4("tem") + b"\x86R"  # 'sys' + 'tem'
    data = b"\x80\x04" + module + name + b"\x93" + s4(ECHO) + b"\x85R."
    f = one(scan(data), "MH102")
    assert "computed name" in f.message and f.category is Category.COMMAND_EXEC


def test_globals_of_a_function_is_a_gadget() -> None:
    expr = call("builtins.getattr", Global("os.path", "join"), "__globals__")
    f = one(scan(pickle_of([expr], protocol=4)), "MH102")
    assert "__globals__" in f.message
