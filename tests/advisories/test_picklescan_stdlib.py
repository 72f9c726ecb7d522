"""picklescan advisories: standard-library callables missing from its deny-list.

Each test rebuilds the advisory's technique from opcodes (protocol 4, so dotted qualnames such as
``Trace.run`` resolve as the unpickler resolves them) and checks that MalHug names the callable.
Advisory ids come from https://github.com/mmaitre314/picklescan/security/advisories and the fix
commits that list them.
"""

from __future__ import annotations

from malhug.core.model import Category, Severity
from tests.advisories.helpers import CODE, ECHO, caught
from tests.builders.pickles import Call, Global, call, pickle_of


def _method(module: str, qualname: str, self_arg: object, *args: object) -> bytes:
    """``module.Class.method(instance, *args)``: an unbound method reached through its class."""
    return pickle_of([Call(Global(module, qualname), (self_arg, *args))], protocol=4)


def _instance(dotted: str) -> Call:
    return call(dotted)


def test_ghsa_5qwp_399c_mjwf_trace_run() -> None:
    """GHSA-5qwp-399c-mjwf: trace.Trace.run(tracer, code) executes its code string."""
    f = caught(
        _method("trace", "Trace.run", _instance("trace.Trace"), CODE), "MH101", Category.CODE_EXEC, "trace.Trace.run"
    )
    assert f.severity is Severity.CRITICAL and "constant code" in f.message


def test_ghsa_g344_hcph_8vgg_trace_runctx() -> None:
    """GHSA-g344-hcph-8vgg: trace.Trace.runctx(tracer, code, globals, locals) executes its code."""
    data = _method("trace", "Trace.runctx", _instance("trace.Trace"), CODE, {}, {})
    caught(data, "MH101", Category.CODE_EXEC, "trace.Trace.runctx")


def test_ghsa_x696_vm39_cp64_profile_profile_run() -> None:
    """GHSA-x696-vm39-cp64: profile.Profile.run(profiler, code) executes its code."""
    data = _method("profile", "Profile.run", _instance("profile.Profile"), CODE)
    caught(data, "MH101", Category.CODE_EXEC, "profile.Profile.run")


def test_ghsa_6vqj_c2q5_j97w_profile_profile_runctx() -> None:
    """GHSA-6vqj-c2q5-j97w: profile.Profile.runctx(profiler, code, globals, locals)."""
    data = _method("profile", "Profile.runctx", _instance("profile.Profile"), CODE, {}, {})
    caught(data, "MH101", Category.CODE_EXEC, "profile.Profile.runctx")


def test_ghsa_7wx9_6375_f5wh_profile_run() -> None:
    """GHSA-7wx9-6375-f5wh: module-level profile.run(code) executes its code."""
    caught(pickle_of([call("profile.run", CODE)], protocol=2), "MH101", Category.CODE_EXEC, "profile.run")


def test_ghsa_49gj_c84q_6qm9_cprofile_run() -> None:
    """GHSA-49gj-c84q-6qm9: cProfile.run(code)."""
    caught(pickle_of([call("cProfile.run", CODE)], protocol=2), "MH101", Category.CODE_EXEC, "cProfile.run")


def test_ghsa_9w88_8rmg_7g2p_cprofile_runctx() -> None:
    """GHSA-9w88-8rmg-7g2p: cProfile.runctx(code, globals, locals)."""
    data = pickle_of([call("cProfile.runctx", CODE, {}, {})], protocol=2)
    caught(data, "MH101", Category.CODE_EXEC, "cProfile.runctx")


def test_bdb_run_unbound_method() -> None:
    """picklescan deny-list entry `bdb` (commit 62e76cf): bdb.Bdb.run(debugger, code) executes code."""
    caught(_method("bdb", "Bdb.run", _instance("bdb.Bdb"), CODE), "MH101", Category.CODE_EXEC, "bdb.Bdb.run")


def test_ghsa_cj3c_v495_4xqh_code_interactive_interpreter_runcode() -> None:
    """GHSA-cj3c-v495-4xqh: code.InteractiveInterpreter.runcode(interp, code)."""
    data = _method("code", "InteractiveInterpreter.runcode", _instance("code.InteractiveInterpreter"), CODE)
    caught(data, "MH101", Category.CODE_EXEC, "code.InteractiveInterpreter.runcode")


def test_ghsa_fqq6_7vqf_w3fg_doctest_debug_script() -> None:
    """GHSA-fqq6-7vqf-w3fg: doctest.debug_script(source) runs the source under pdb."""
    data = pickle_of([call("doctest.debug_script", CODE)], protocol=2)
    caught(data, "MH101", Category.CODE_EXEC, "doctest.debug_script")


def test_ghsa_m869_42cg_3xwr_idlelib_run_executive_runcode() -> None:
    """GHSA-m869-42cg-3xwr: idlelib.run.Executive.runcode(executive, code)."""
    caught(_method("idlelib.run", "Executive.runcode", None, CODE), "MH101", Category.CODE_EXEC, "Executive.runcode")


def test_ghsa_j343_8v2j_ff7w_idlelib_pyshell_runcommand() -> None:
    """GHSA-j343-8v2j-ff7w: idlelib.pyshell.ModifiedInterpreter.runcommand(interp, code)."""
    data = _method("idlelib.pyshell", "ModifiedInterpreter.runcommand", None, CODE)
    caught(data, "MH101", Category.CODE_EXEC, "ModifiedInterpreter.runcommand")


def test_ghsa_3gf5_cxq9_w223_idlelib_pyshell_runcode() -> None:
    """GHSA-3gf5-cxq9-w223: idlelib.pyshell.ModifiedInterpreter.runcode(interp, code)."""
    data = _method("idlelib.pyshell", "ModifiedInterpreter.runcode", None, CODE)
    caught(data, "MH101", Category.CODE_EXEC, "ModifiedInterpreter.runcode")


def test_ghsa_3vg9_h568_4w9m_idlelib_debugobj_settext() -> None:
    """GHSA-3vg9-h568-4w9m: idlelib.debugobj.ObjectTreeItem.SetText(item, text) evals the text."""
    data = _method("idlelib.debugobj", "ObjectTreeItem.SetText", None, CODE)
    caught(data, "MH101", Category.CODE_EXEC, "ObjectTreeItem.SetText")


def test_ghsa_6w4w_5w54_rjvr_idlelib_autocomplete_get_entity() -> None:
    """GHSA-6w4w-5w54-rjvr: idlelib.autocomplete.AutoComplete.get_entity(ac, name) evals the name."""
    data = _method("idlelib.autocomplete", "AutoComplete.get_entity", None, CODE)
    caught(data, "MH101", Category.CODE_EXEC, "AutoComplete.get_entity")


def test_ghsa_7cq8_mj8x_j263_idlelib_autocomplete_fetch_completions() -> None:
    """GHSA-7cq8-mj8x-j263: idlelib.autocomplete.AutoComplete.fetch_completions(ac, what, mode)."""
    data = _method("idlelib.autocomplete", "AutoComplete.fetch_completions", None, CODE, 1)
    caught(data, "MH101", Category.CODE_EXEC, "AutoComplete.fetch_completions")


def test_ghsa_8r4j_24qv_fmq9_idlelib_calltip_fetch_tip() -> None:
    """GHSA-8r4j-24qv-fmq9: idlelib.calltip.Calltip.fetch_tip(tip, expression) evals it."""
    caught(_method("idlelib.calltip", "Calltip.fetch_tip", None, CODE), "MH101", Category.CODE_EXEC, "fetch_tip")


def test_ghsa_9xph_j2h6_g47v_idlelib_calltip_get_entity() -> None:
    """GHSA-9xph-j2h6-g47v: idlelib.calltip.get_entity(expression) evals it."""
    data = pickle_of([call("idlelib.calltip.get_entity", CODE)], protocol=2)
    caught(data, "MH101", Category.CODE_EXEC, "idlelib.calltip.get_entity")


def test_ghsa_p9w7_82w4_7q8m_lib2to3_make_label() -> None:
    """GHSA-p9w7-82w4-7q8m: lib2to3 ParserGenerator.make_label(gen, c, label) evals the label (3rd arg)."""
    data = _method("lib2to3.pgen2.pgen", "ParserGenerator.make_label", None, None, CODE)
    f = caught(data, "MH101", Category.CODE_EXEC, "ParserGenerator.make_label")
    assert "constant code" in f.message  # the payload is found in the third argument


def test_ghsa_f54q_57x4_jg88_lib2to3_grammar_loads() -> None:
    """GHSA-f54q-57x4-jg88: lib2to3 Grammar.loads(grammar, data) unpickles its bytes."""
    inner = pickle_of([call("posix.system", ECHO)], protocol=2)
    data = _method("lib2to3.pgen2.grammar", "Grammar.loads", None, inner)
    caught(data, "MH104", Category.CODE_EXEC, "Grammar.loads")
    nested = caught(data, "MH101", Category.COMMAND_EXEC, "os.system", evidence=ECHO)
    assert nested.location.member is not None and nested.location.member.startswith("lib2to3.pgen2.grammar.Grammar")


def test_ghsa_xp4f_hrf8_rxw7_ensurepip_run_pip() -> None:
    """GHSA-xp4f-hrf8-rxw7: ensurepip._run_pip(args) runs pip (installs a package)."""
    data = pickle_of([call("ensurepip._run_pip", ["install", "malhug-nothing"])], protocol=2)
    caught(data, "MH101", Category.DOWNLOAD_EXEC, "ensurepip._run_pip")


def test_cve_2025_1716_pip_main() -> None:
    """CVE-2025-1716 (picklescan < 0.0.21): pip.main(['install', ...]) was not on the deny-list."""
    data = pickle_of([call("pip.main", ["install", "--index-url", "http://127.0.0.1/simple", "x"])], protocol=2)
    caught(data, "MH101", Category.DOWNLOAD_EXEC, "pip.main")


def test_pip_internal_main() -> None:
    """picklescan `pip` wildcard (commit 78ce704): pip._internal.cli.main.main is the same installer."""
    data = pickle_of([call("pip._internal.cli.main.main", ["install", "malhug-nothing"])], protocol=2)
    caught(data, "MH101", Category.DOWNLOAD_EXEC, "pip._internal.cli.main.main")


def test_ghsa_q77w_mwjj_7mqx_asyncio_subprocess_transport_start() -> None:
    """GHSA-q77w-mwjj-7mqx / GHSA-jgw4-cr84-mqxg: asyncio _UnixSubprocessTransport._start(t, args, shell, ...)."""
    data = _method("asyncio.unix_events", "_UnixSubprocessTransport._start", None, ECHO, True, None, None, None, 0)
    f = caught(data, "MH101", Category.COMMAND_EXEC, "_UnixSubprocessTransport._start")
    assert "constant command" in f.message


def test_ghsa_m273_6v24_x4m4_distutils_write_file() -> None:
    """GHSA-m273-6v24-x4m4: distutils.file_util.write_file(path, lines) writes any file."""
    data = pickle_of([call("distutils.file_util.write_file", "/tmp/malhug-sentinel-w", ["x"])], protocol=2)
    caught(data, "MH101", Category.FILE_WRITE, "distutils.file_util.write_file")


def test_ghsa_4675_36f9_wf6r_ctypes_cdll() -> None:
    """GHSA-4675-36f9-wf6r: ctypes.CDLL(None).system(cmd) calls libc directly."""
    expr = Call(call("builtins.getattr", call("ctypes.CDLL", None), "system"), (ECHO.encode(),))
    f = caught(pickle_of([expr], protocol=4), "MH102", Category.COMMAND_EXEC, "ctypes.CDLL.system")
    assert "getattr" in f.message


def test_ghsa_84r2_jw7c_4r5q_pydoc_locate_methodcaller() -> None:
    """GHSA-84r2-jw7c-4r5q: pydoc.locate('os') then operator.methodcaller('system', cmd)."""
    expr = Call(call("operator.methodcaller", "system", ECHO), (call("pydoc.locate", "os"),))
    f = caught(pickle_of([expr], protocol=4), "MH102", Category.COMMAND_EXEC, "os.system", evidence="methodcaller")
    assert "pydoc.locate" in f.message


def test_ghsa_vqmv_47xg_9wpr_pty_spawn() -> None:
    """GHSA-vqmv-47xg-9wpr: pty.spawn(argv) runs a program."""
    caught(pickle_of([call("pty.spawn", ["/bin/echo", "x"])], protocol=2), "MH101", Category.COMMAND_EXEC, "pty.spawn")


def test_ghsa_r8g5_cgf2_4m4m_numpy_f2py_getlincoef() -> None:
    """GHSA-r8g5-cgf2-4m4m: numpy.f2py.crackfortran.getlincoef(expr, vars) evals the expression."""
    data = pickle_of([call("numpy.f2py.crackfortran.getlincoef", "__import__('os').system('echo x')", {})], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "numpy.f2py.crackfortran.getlincoef")


def test_ghsa_955r_x9j8_7rhh_underscore_operator_methodcaller() -> None:
    """GHSA-955r-x9j8-7rhh: _operator.methodcaller (the C module name) with __import__('os')."""
    expr = Call(call("_operator.methodcaller", "system", ECHO), (call("builtins.__import__", "os"),))
    caught(pickle_of([expr], protocol=2), "MH102", Category.COMMAND_EXEC, "os.system", evidence="methodcaller")


def test_ghsa_46h3_79wf_xr6c_underscore_operator_attrgetter() -> None:
    """GHSA-46h3-79wf-xr6c: _operator.attrgetter('system')(__import__('os'))(cmd)."""
    getter = Call(call("_operator.attrgetter", "system"), (call("builtins.__import__", "os"),))
    caught(pickle_of([Call(getter, (ECHO,))], protocol=2), "MH102", Category.COMMAND_EXEC, "os.system")


def test_operator_itemgetter_on_sys_modules() -> None:
    """picklescan PR #53 (operator itemgetter added): itemgetter('os')(sys.modules) then getattr system."""
    module = Call(call("operator.itemgetter", "os"), (Global("sys", "modules"),))
    expr = Call(call("builtins.getattr", module, "system"), (ECHO,))
    f = caught(pickle_of([expr], protocol=4), "MH102", Category.COMMAND_EXEC, "os.system")
    assert "itemgetter" in f.message


def test_ghsa_vvpj_8cmc_gx39_pkgutil_resolve_name() -> None:
    """GHSA-vvpj-8cmc-gx39: pkgutil.resolve_name('os:system') reaches any callable."""
    expr = Call(call("pkgutil.resolve_name", "os:system"), (ECHO,))
    f = caught(pickle_of([expr], protocol=2), "MH102", Category.COMMAND_EXEC, "os.system", evidence="resolve_name")
    assert "pkgutil.resolve_name" in f.message


def test_ghsa_g38g_8gr9_h9xp_uuid_get_command_stdout() -> None:
    """GHSA-g38g-8gr9-h9xp (uuid): uuid._get_command_stdout(cmd, *args) runs a program."""
    data = pickle_of([call("uuid._get_command_stdout", "echo", "malhug")], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "uuid._get_command_stdout")


def test_ghsa_g38g_8gr9_h9xp_osx_support_read_output() -> None:
    """GHSA-g38g-8gr9-h9xp (_osx_support): _read_output(cmd) runs a shell command."""
    data = pickle_of([call("_osx_support._read_output", ECHO)], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "_osx_support._read_output")


def test_ghsa_g38g_8gr9_h9xp_osx_support_find_build_tool() -> None:
    """GHSA-g38g-8gr9-h9xp (_osx_support): _find_build_tool(name) interpolates the name into a shell command."""
    data = pickle_of([call("_osx_support._find_build_tool", "x; echo malhug")], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "_osx_support._find_build_tool")


def test_ghsa_g38g_8gr9_h9xp_aix_support_read_cmd_output() -> None:
    """GHSA-g38g-8gr9-h9xp (_aix_support): _read_cmd_output(cmd) runs a shell command."""
    data = pickle_of([call("_aix_support._read_cmd_output", ECHO)], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "_aix_support._read_cmd_output")


def test_ghsa_g38g_8gr9_h9xp_imaplib_imap4_stream() -> None:
    """GHSA-g38g-8gr9-h9xp (imaplib): IMAP4_stream(command) starts the command with a shell."""
    data = pickle_of([call("imaplib.IMAP4_stream", ECHO)], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "imaplib.IMAP4_stream")


def test_ghsa_g38g_8gr9_h9xp_pyrepl_pipe_pager() -> None:
    """GHSA-g38g-8gr9-h9xp (_pyrepl): _pyrepl.pager.pipe_pager(text, cmd) pipes into a command (2nd arg)."""
    f = caught(
        pickle_of([call("_pyrepl.pager.pipe_pager", "text", ECHO)], protocol=4),
        "MH101",
        Category.COMMAND_EXEC,
        "_pyrepl.pager.pipe_pager",
    )
    assert "constant command" in f.message


def test_ghsa_g38g_8gr9_h9xp_test_support_assert_python_ok() -> None:
    """GHSA-g38g-8gr9-h9xp (test): test.support.script_helper.assert_python_ok('-c', code) spawns Python."""
    data = pickle_of([call("test.support.script_helper.assert_python_ok", "-c", CODE)], protocol=4)
    caught(data, "MH101", Category.COMMAND_EXEC, "test.support.script_helper.assert_python_ok")


def test_pydoc_pipepager() -> None:
    """picklescan commit 93764d6: pydoc.pipepager(text, cmd) runs the pager command (2nd arg)."""
    f = caught(
        pickle_of([call("pydoc.pipepager", "help", ECHO)], protocol=2), "MH101", Category.COMMAND_EXEC, "pipepager"
    )
    assert "constant command" in f.message


def test_venv_create() -> None:
    """picklescan `venv` wildcard (commit 93764d6): venv.create(dir, with_pip=True) runs ensurepip."""
    data = pickle_of([call("venv.create", "/tmp/malhug-sentinel-venv", False, False, False, True)], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "venv.create")


def test_ghsa_m7j5_r2p5_c39r_logging_file_handler() -> None:
    """GHSA-m7j5-r2p5-c39r: logging.FileHandler(path) creates the file (a class, called by REDUCE)."""
    data = pickle_of([call("logging.FileHandler", "/tmp/malhug-sentinel-log")], protocol=2)
    caught(data, "MH101", Category.FILE_WRITE, "logging.FileHandler")


def test_ghsa_9726_w42j_3qjr_io_fileio() -> None:
    """GHSA-9726-w42j-3qjr: _io.FileIO('/etc/passwd') reads a file past a builtins.open deny-list."""
    f = caught(
        pickle_of([call("_io.FileIO", "/etc/passwd")], protocol=2), "MH101", Category.CREDENTIAL_THEFT, "io.FileIO"
    )
    assert "/etc/passwd" in f.evidence


def test_ghsa_9726_w42j_3qjr_urllib_request_urlopen() -> None:
    """GHSA-9726-w42j-3qjr: urllib.request.urlopen(url) at load time (SSRF / exfiltration)."""
    data = pickle_of([call("urllib.request.urlopen", "http://127.0.0.1:9/x")], protocol=2)
    caught(data, "MH101", Category.EXFILTRATION, "urllib.request.urlopen")


def test_ghsa_v7x6_rv5q_mhwc_timeit() -> None:
    """GHSA-v7x6-rv5q-mhwc: timeit.timeit(stmt) compiles and runs the statement."""
    caught(pickle_of([call("timeit.timeit", CODE)], protocol=2), "MH101", Category.CODE_EXEC, "timeit.timeit")


def test_numpy_testing_runstring() -> None:
    """picklescan commit 62e76cf (numpy.testing._private.utils): runstring(code, dict) is exec."""
    data = pickle_of([call("numpy.testing._private.utils.runstring", CODE, {})], protocol=2)
    caught(data, "MH101", Category.CODE_EXEC, "runstring")


def test_ssl_get_server_certificate() -> None:
    """picklescan commit 62e76cf (`ssl`: DNS exfiltration): ssl.get_server_certificate((host, port))."""
    data = pickle_of([call("ssl.get_server_certificate", ("127.0.0.1", 443))], protocol=2)
    caught(data, "MH101", Category.EXFILTRATION, "ssl.get_server_certificate")


def test_aiohttp_client_request() -> None:
    """picklescan PR #50 (`aiohttp.client` widened to `aiohttp`): aiohttp.request at load time."""
    data = pickle_of([call("aiohttp.client.request", "GET", "http://127.0.0.1:9/x")], protocol=2)
    caught(data, "MH101", Category.EXFILTRATION, "aiohttp.client.request")


def test_cve_2025_10157_asyncio_submodule_event_loop_subprocess() -> None:
    """CVE-2025-10157 (JFrog, picklescan): a dangerous module's submodule/class escaped an exact-module
    deny-list; BaseEventLoop.subprocess_shell(loop, factory, cmd) starts a shell (3rd arg)."""
    qual = "BaseEventLoop.subprocess_shell"
    data = pickle_of([Call(Global("asyncio.base_events", qual), (None, None, ECHO))], protocol=4)
    f = caught(data, "MH101", Category.COMMAND_EXEC, qual)
    assert "constant command" in f.message
