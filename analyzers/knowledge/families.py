"""Families of dangerous callables by canonical dotted name (``os.system``, ``builtins.exec``).

Names are canonical: C modules and legacy names are first mapped by ``MODULE_ALIASES`` (``posix`` ->
``os``). Each family is one behaviour; the analyzers compose their tables from these.
"""

from __future__ import annotations

# Aliases that name the same module (C modules behind os, legacy module names), in every analyzer.
MODULE_ALIASES = {
    "posix": "os",
    "nt": "os",
    "posixpath": "os.path",
    "ntpath": "os.path",
    "__builtin__": "builtins",
    "_pickle": "pickle",
    "cPickle": "pickle",
}

# Module names that no package reuses for a module of its own.
SYSTEM_MODULES = frozenset(
    {
        "os",
        "posix",
        "nt",
        "sys",
        "subprocess",
        "builtins",
        "__builtins__",
        "__builtin__",
        "pty",
        "runpy",
        "webbrowser",
        "_posixsubprocess",
        "shutil",
        "importlib",
        "marshal",
    }
)

# -- processes ------------------------------------------------------------------------------------
# Run an external program; the first argument is the command line or argv list.
PROCESS_SPAWNERS = frozenset(
    {
        "os.system",
        "os.popen",
        "os.popen2",
        "os.popen3",
        "os.popen4",
        "os.startfile",
        "os.posix_spawn",
        "os.posix_spawnp",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "pty.spawn",
        "asyncio.create_subprocess_shell",
        "asyncio.create_subprocess_exec",
        "platform.popen",
        "pexpect.spawn",
        "pexpect.run",
        "_posixsubprocess.fork_exec",
        "distutils.spawn.spawn",
        "setuptools._distutils.spawn.spawn",
        "sh.Command",
        "plumbum.local",
    }
)
# The os.exec*/os.spawn* families (the program is the first argument, argv follows).
PROCESS_SPAWN_PREFIXES = ("os.exec", "os.spawn")
# Launch a program on a URL.
BROWSER_OPENERS = frozenset({"webbrowser.open", "webbrowser.open_new", "webbrowser.open_new_tab"})

# -- Python code ----------------------------------------------------------------------------------
# Run Python source given as the first argument.
PYTHON_SOURCE_RUNNERS = frozenset(
    {
        "builtins.exec",
        "builtins.eval",
        "builtins.compile",
        "timeit.timeit",
        "timeit.repeat",
        "timeit.Timer",
        "cProfile.run",
        "cProfile.runctx",
        "profile.run",
        "profile.runctx",
        "pdb.run",
        "pdb.runeval",
        "code.InteractiveInterpreter.runsource",
        "numpy.testing._private.utils.runstring",
    }
)
# Run a code string or object handed over by another runner.
PYTHON_CODE_RUNNERS = frozenset({"runpy._run_code", "runpy._run_module_code", "trace.Trace.run"})
# Run a Python file or module by name.
PYTHON_FILE_RUNNERS = frozenset({"runpy.run_path", "runpy.run_module"})
# Stop the process in a debugger.
DEBUGGERS = frozenset({"pdb.set_trace", "builtins.breakpoint"})
# Build a function or code object from bytes.
CODE_BUILDERS = frozenset({"types.FunctionType", "types.CodeType", "types.LambdaType", "marshal.loads", "marshal.load"})

# -- deserialization and downloads ----------------------------------------------------------------
# Deserialize their argument (a pickle-based format can run any callable).
DESERIALIZERS = frozenset(
    {
        "pickle.loads",
        "pickle.load",
        "pickle.Unpickler",
        "dill.loads",
        "dill.load",
        "cloudpickle.loads",
        "cloudpickle.load",
        "joblib.load",
        "torch.load",
        "numpy.load",
        "yaml.load",
        "yaml.unsafe_load",
        "shelve.open",
        "jsonpickle.decode",
    }
)
# Model loaders that can run code stored in the file (Keras Lambda layers, pickled objects).
MODEL_LOADERS = frozenset(
    {
        "keras.models.load_model",
        "keras.saving.load_model",
        "tensorflow.keras.models.load_model",
        "tensorflow.keras.saving.load_model",
        "tf_keras.models.load_model",
    }
)
# Fetch code (or weights) from the network and load or install it.
CODE_DOWNLOADERS = frozenset(
    {
        "torch.hub.load",
        "torch.hub.load_state_dict_from_url",
        "pip.main",
        "pip._internal.main",
        "pip._internal.cli.main.main",
    }
)

# -- files ----------------------------------------------------------------------------------------
FILE_OPENERS = frozenset({"builtins.open", "io.open", "codecs.open", "os.open"})
# Create a copy or link of a file (the second argument is written).
FILE_COPIERS = frozenset({"shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "os.link", "os.symlink"})
# Move a file away (the source is gone afterwards).
FILE_MOVERS = frozenset({"shutil.move", "os.rename", "os.replace"})
FILE_DELETERS = frozenset(
    {"os.remove", "os.unlink", "os.rmdir", "os.removedirs", "pathlib.Path.unlink", "pathlib.Path.rmdir"}
)
TREE_DELETERS = frozenset({"shutil.rmtree"})
DIRECTORY_LISTERS = frozenset({"os.walk", "os.scandir", "os.listdir", "glob.glob", "glob.iglob"})

# -- system identity and network ------------------------------------------------------------------
IDENTITY_GETTERS = frozenset(
    {"getpass.getuser", "socket.gethostname", "os.uname", "os.getlogin", "platform.node", "platform.uname"}
)
HTTP_CONNECTIONS = frozenset({"http.client.HTTPConnection", "http.client.HTTPSConnection"})
# Connections to mail, file-transfer and terminal servers.
REMOTE_SESSIONS = frozenset({"smtplib.SMTP", "smtplib.SMTP_SSL", "ftplib.FTP", "telnetlib.Telnet"})
# Module names of HTTP clients (as a bare module reference).
HTTP_CLIENT_MODULES = frozenset({"urllib", "urllib2", "urllib3", "requests", "httpx", "http"})

# -- decoding -------------------------------------------------------------------------------------
# Decoding helpers and what they decode: a value that went through one is an encoded payload.
DECODERS = {
    "base64.b64decode": "base64",
    "base64.decodebytes": "base64",
    "base64.standard_b64decode": "base64",
    "base64.urlsafe_b64decode": "base64",
    "base64.b32decode": "base32",
    "base64.b85decode": "base85",
    "base64.a85decode": "ascii85",
    "base64.b16decode": "hex",
    "binascii.a2b_base64": "base64",
    "binascii.unhexlify": "hex",
    "binascii.a2b_hex": "hex",
    "builtins.bytes.fromhex": "hex",
    "zlib.decompress": "zlib",
    "gzip.decompress": "gzip",
    "lzma.decompress": "lzma",
    "bz2.decompress": "bz2",
    "codecs.decode": "codecs",
}


def leaves(names: frozenset[str]) -> frozenset[str]:
    """The last parts of dotted names (``os.remove`` -> ``remove``)."""
    return frozenset(name.rpartition(".")[2] for name in names)
