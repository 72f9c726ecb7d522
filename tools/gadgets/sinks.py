"""The sinks the miner looks for: canonical dotted callables and the class of harm each one does.

A call site whose callee resolves to one of these names is a sink call. ``open``-like callees are
sinks only with a constant write mode (``'w'``, ``'a'``, ``'x'``, ``'+'``); everything else here is
a sink whatever its arguments.
"""

from __future__ import annotations

CODE = "code-exec"  # evaluates Python source or code
COMMAND = "command-exec"  # starts a process
RESOLVE = "name-resolve"  # turns a string into a module or attribute (then called)
DESERIALIZE = "deserialize"  # loads pickle/marshal data again
NETWORK = "network"  # connects out
FILE_WRITE = "file-write"  # writes, copies, moves or renames a file

# Ranking for "the most dangerous sink a function reaches" and for the per-package cap.
SINK_RANK = {COMMAND: 0, CODE: 1, RESOLVE: 2, DESERIALIZE: 3, NETWORK: 4, FILE_WRITE: 5}

_CODE = (
    "builtins.eval",
    "builtins.exec",
    "builtins.execfile",
    "runpy.run_path",
    "runpy.run_module",
    "code.InteractiveInterpreter.runsource",
)
_COMMAND = (
    "os.system",
    "os.popen",
    "os.posix_spawn",
    "os.posix_spawnp",
    "pty.spawn",
    "subprocess.Popen",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "asyncio.create_subprocess_shell",
    "asyncio.create_subprocess_exec",
)
_COMMAND_PREFIXES = ("os.exec", "os.spawn")
_RESOLVE = (
    "builtins.__import__",
    "importlib.import_module",
    "importlib.__import__",
    "pydoc.locate",
    "pkgutil.resolve_name",
    "operator.attrgetter",
    "operator.methodcaller",
)
_DESERIALIZE = (
    "pickle.loads",
    "pickle.load",
    "pickle.Unpickler",
    "_pickle.loads",
    "_pickle.load",
    "marshal.loads",
    "marshal.load",
)
_NETWORK = (
    "socket.create_connection",
    "socket.socket.connect",
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    "urllib.request.OpenerDirector.open",
    "http.client.HTTPConnection",
    "http.client.HTTPSConnection",
    "http.client.HTTPConnection.request",
    "ftplib.FTP",
    "smtplib.SMTP",
    "telnetlib.Telnet",
)
_FILE_WRITE = (
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
    "os.rename",
    "os.renames",
    "os.replace",
)
# Callees that write only when given a write mode.
OPENERS = frozenset({"builtins.open", "io.open", "os.fdopen", "codecs.open", "gzip.open", "bz2.open", "lzma.open"})
_WRITE_MODE_CHARS = frozenset("wax+")

SINKS: dict[str, str] = {
    **dict.fromkeys(_CODE, CODE),
    **dict.fromkeys(_COMMAND, COMMAND),
    **dict.fromkeys(_RESOLVE, RESOLVE),
    **dict.fromkeys(_DESERIALIZE, DESERIALIZE),
    **dict.fromkeys(_NETWORK, NETWORK),
    **dict.fromkeys(_FILE_WRITE, FILE_WRITE),
}

# Modules whose own functions are the sinks: the miner does not report their internals as gadgets
# (``subprocess.run`` is the sink itself, not a gadget that reaches ``subprocess.Popen``).
SINK_MODULES = frozenset({"subprocess", "os", "posix", "pty", "pickle", "_pickle", "marshal", "socket", "shutil"})


def sink_of(callee: str) -> str | None:
    """The sink class of a resolved callee (``open`` is handled by the caller: it needs the mode)."""
    found = SINKS.get(callee)
    if found is not None:
        return found
    if callee.startswith(_COMMAND_PREFIXES) and callee.count(".") == 1:
        return COMMAND
    return None


def is_write_mode(mode: str) -> bool:
    return any(ch in _WRITE_MODE_CHARS for ch in mode)
