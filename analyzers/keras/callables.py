"""Which Python names and modules are dangerous when a Keras model references or calls them.

Used for the names of Lambda bytecode (``co_names``) and for module/function references in Keras
configs (``"module": "os"``). The category of a callable follows docs/CATEGORIES.md: process
spawning is ``command-exec``, Python execution ``code-exec``, network sends ``exfiltration``, file
writes ``file-write``, deletes ``destructive``, identity lookups ``recon``. Module and callable
families shared with the other analyzers come from ``malhug.analyzers.knowledge``.
"""

from __future__ import annotations

from malhug.analyzers.knowledge.families import (
    FILE_DELETERS,
    HTTP_CLIENT_MODULES,
    HTTP_CONNECTIONS,
    SYSTEM_MODULES,
    TREE_DELETERS,
    leaves,
)
from malhug.core.model import Category

COMMAND_NAMES = frozenset(
    {
        "system",
        "popen",
        "Popen",
        "popen2",
        "popen3",
        "popen4",
        "spawnl",
        "spawnle",
        "spawnlp",
        "spawnlpe",
        "spawnv",
        "spawnve",
        "spawnvp",
        "spawnvpe",
        "posix_spawn",
        "posix_spawnp",
        "execl",
        "execle",
        "execlp",
        "execlpe",
        "execv",
        "execve",
        "execvp",
        "execvpe",
        "check_output",
        "check_call",
        "getoutput",
        "getstatusoutput",
        "subprocess",
        "_posixsubprocess",
        "fork_exec",
        "startfile",
        "webbrowser",
        "pty",
        "commands",
    }
)
CODE_NAMES = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "execfile",
        "__import__",
        "import_module",
        "runpy",
        "run_path",
        "run_module",
        "_run_code",
        "marshal",
        "FunctionType",
        "CodeType",
        "LambdaType",
        "pickle",
        "dill",
        "cloudpickle",
        "ctypes",
        "CDLL",
        "cdll",
        "pdb",
        "set_trace",
        "timeit",
        "cProfile",
        "locate",
        "__builtins__",
        "builtins",
        "globals",
        "importlib",
    }
)
NETWORK_NAMES = (
    HTTP_CLIENT_MODULES
    | leaves(HTTP_CONNECTIONS)
    | frozenset({"socket", "create_connection", "urlopen", "urlretrieve", "ftplib", "smtplib", "telnetlib", "paramiko"})
)
DESTRUCTIVE_NAMES = leaves(FILE_DELETERS | TREE_DELETERS) | {"truncate"}
RECON_NAMES = frozenset({"getuser", "gethostname", "getlogin", "uname", "getpass", "platform", "getfqdn"})
FILE_WRITE_NAMES = frozenset({"write", "writelines", "write_text", "write_bytes", "chmod", "copyfile", "symlink"})

# Names of Lambda bytecode that mean "this code does more than tensor math".
DANGEROUS_NAMES = COMMAND_NAMES | CODE_NAMES | NETWORK_NAMES | DESTRUCTIVE_NAMES | RECON_NAMES | FILE_WRITE_NAMES

# Modules a Keras config may never make the loader import or call into.
DANGEROUS_MODULES = (
    SYSTEM_MODULES
    | HTTP_CLIENT_MODULES
    | frozenset(
        {
            "posixpath",
            "ntpath",
            "socket",
            "pickle",
            "_pickle",
            "dill",
            "cloudpickle",
            "code",
            "codeop",
            "httplib",
            "ctypes",
            "pdb",
            "bdb",
            "timeit",
            "cProfile",
            "profile",
            "pydoc",
            "commands",
            "platform",
            "getpass",
            "pathlib",
            "io",
            "operator",
            "functools",
            "types",
            "inspect",
            "multiprocessing",
            "asyncio",
            "signal",
            "glob",
            "tempfile",
            "pip",
            "setuptools",
            "distutils",
            "numpy.testing",
        }
    )
)

# Keras' own namespace (and the libraries a Keras model legitimately references).
KERAS_MODULE_ROOTS = frozenset(
    {
        "keras",
        "tensorflow",
        "tf_keras",
        "keras_nlp",
        "keras_cv",
        "keras_hub",
        "tensorflow_hub",
        "tensorflow_text",
        "tensorflow_addons",
        "tensorflow_probability",
        "tf",
        "numpy",
    }
)


def categories_of_names(names: set[str] | frozenset[str]) -> set[Category]:
    """Attack categories that a set of referenced names (functions, modules) implies on its own."""
    cats: set[Category] = set()
    network = bool(names & NETWORK_NAMES)
    command = bool(names & COMMAND_NAMES)
    code = bool(names & CODE_NAMES)
    if names & {"socket", "create_connection"} and names & {"dup2", "spawn", "pty"}:
        cats.add(Category.REVERSE_SHELL)
    if network and (command or code):
        cats.add(Category.DOWNLOAD_EXEC)
    if network:
        cats.add(Category.EXFILTRATION)
    if names & DESTRUCTIVE_NAMES:
        cats.add(Category.DESTRUCTIVE)
    if names & RECON_NAMES:
        cats.add(Category.RECON)
    if names & FILE_WRITE_NAMES:
        cats.add(Category.FILE_WRITE)
    if command:
        cats.add(Category.COMMAND_EXEC)
    if code:
        cats.add(Category.CODE_EXEC)
    return cats


def module_root(module: str) -> str:
    return module.split(".", 1)[0]


def is_keras_module(module: str) -> bool:
    return module_root(module) in KERAS_MODULE_ROOTS


def is_dangerous_module(module: str) -> bool:
    return module in DANGEROUS_MODULES or module_root(module) in DANGEROUS_MODULES
