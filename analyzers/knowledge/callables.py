"""The catalogue of dangerous callables: canonical dotted name -> what it does (``Kind``) and the
attack category that follows from it (docs/CATEGORIES.md: process spawning is ``command-exec``,
Python execution ``code-exec``, network sends ``exfiltration``, network loads of code
``download-exec``, file writes ``file-write``, deletes ``destructive``).

Built from the behaviour families in ``families``; looked up exactly, then by module prefix.
"""

from __future__ import annotations

import enum

from malhug.analyzers.knowledge.families import (
    BROWSER_OPENERS,
    CODE_BUILDERS,
    CODE_DOWNLOADERS,
    DEBUGGERS,
    DESERIALIZERS,
    DIRECTORY_LISTERS,
    FILE_COPIERS,
    FILE_DELETERS,
    FILE_MOVERS,
    FILE_OPENERS,
    HTTP_CONNECTIONS,
    IDENTITY_GETTERS,
    MODEL_LOADERS,
    PROCESS_SPAWNERS,
    PYTHON_CODE_RUNNERS,
    PYTHON_FILE_RUNNERS,
    PYTHON_SOURCE_RUNNERS,
    REMOTE_SESSIONS,
    TREE_DELETERS,
)
from malhug.core.model import Category


class Kind(enum.Enum):
    """How a dangerous callable uses its arguments (decides which payload is assessed)."""

    SHELL = "shell"  # arg 0 is a command line or argv list
    PYTHON = "python"  # arg 0 is Python source (or a code object)
    PYFILE = "pyfile"  # runs a Python file or module by name
    BROWSER = "browser"  # launches a program on a URL
    NETWORK = "network"  # talks to the network
    DOWNLOAD = "download"  # loads code or models from the network
    NESTED = "nested"  # deserializes its argument again
    CODE_OBJECT = "code-object"  # builds a function or code object from bytes
    RESOLVER = "resolver"  # turns a string into a module or attribute (import chains)
    OPEN = "open"  # opens a file (mode decides)
    FILE_READ = "file-read"  # reads an arbitrary file (its name decides: a credential store is theft)
    FILE_WRITE = "file-write"
    DESTRUCTIVE = "destructive"
    RECON = "recon"
    PROCESS = "process"  # signals, exits, tracing hooks, interpreter state
    ATTRIBUTE = "attribute"  # setattr/delattr on arbitrary objects


KIND_CATEGORY = {
    Kind.SHELL: Category.COMMAND_EXEC,
    Kind.PYTHON: Category.CODE_EXEC,
    Kind.PYFILE: Category.CODE_EXEC,
    Kind.BROWSER: Category.COMMAND_EXEC,
    Kind.NETWORK: Category.EXFILTRATION,
    Kind.DOWNLOAD: Category.DOWNLOAD_EXEC,
    Kind.NESTED: Category.CODE_EXEC,
    Kind.CODE_OBJECT: Category.CODE_EXEC,
    Kind.RESOLVER: Category.CODE_EXEC,
    Kind.OPEN: Category.FILE_WRITE,
    Kind.FILE_READ: Category.RECON,
    Kind.FILE_WRITE: Category.FILE_WRITE,
    Kind.DESTRUCTIVE: Category.DESTRUCTIVE,
    Kind.RECON: Category.RECON,
    Kind.PROCESS: Category.CODE_EXEC,
    Kind.ATTRIBUTE: Category.CODE_EXEC,
}


def _names(kind: Kind, *groups: frozenset[str] | str) -> dict[str, Kind]:
    names: list[str] = []
    for group in groups:
        names.extend(sorted(group) if isinstance(group, frozenset) else [group])
    return dict.fromkeys(names, kind)


DANGEROUS: dict[str, Kind] = {
    **_names(
        Kind.SHELL,
        PROCESS_SPAWNERS,
        "os.fork",
        "os.forkpty",
        "pty.fork",
        "multiprocessing.util.spawnv_passfds",
        "distutils.util.execute",
        "setuptools._distutils.util.execute",
        "torch.utils.collect_env.run",
        "torch.utils.collect_env.run_and_read_all",
        "torch.utils.collect_env.run_and_parse_first_match",
        "torch.utils.collect_env.run_and_return_first_line",
        "mailcap.findmatch",
        "commands.getoutput",
        "commands.getstatusoutput",
        "IPython.utils.process.system",
        "IPython.utils.process.getoutput",
        "imaplib.IMAP4_stream",
        "uuid._get_command_stdout",
        "pydoc.pipepager",
        "pydoc.tempfilepager",
        "pydoc.pager",
        "torch._inductor.codecache.compile_file",
    ),
    **_names(Kind.BROWSER, BROWSER_OPENERS, "webbrowser.get"),
    **_names(
        Kind.PYTHON,
        PYTHON_SOURCE_RUNNERS,
        PYTHON_CODE_RUNNERS,
        DEBUGGERS,
        "builtins.execfile",
        "builtins.input",
        "numpy.testing.utils.runstring",
        "numpy.testing.runstring",
        "numpy.f2py.compile",
        "sklearn.utils._testing.assert_run_python_script_without_output",
        "sklearn.utils._testing.assert_run_python_script",
        "trace.Trace.runctx",
        "lib2to3.pgen2.pgen.ParserGenerator.make_label",
        "torch._dynamo.guards.GuardBuilder.get",
        "torch.fx.experimental.symbolic_shapes.ShapeEnv.evaluate_guards_expression",
        "torch.jit.unsupported_tensor_ops.execWrapper",
    ),
    **_names(
        Kind.PYFILE,
        PYTHON_FILE_RUNNERS,
        "torch.package.PackageImporter",
        "torch.package.package_importer.PackageImporter",
    ),
    **_names(
        Kind.NESTED,
        DESERIALIZERS,
        MODEL_LOADERS,
        "pickle._loads",
        "pickle._load",
        "pickle._Unpickler",
        "dill._dill.loads",
        "dill._dill.load",
        "torch.serialization.load",
        "numpy.lib.npyio.load",
        "joblib.numpy_pickle.load",
        "pandas.read_pickle",
        "lib2to3.pgen2.grammar.Grammar.loads",
        "lib2to3.pgen2.grammar.Grammar.load",
        "torch.serialization._load",
        "torch.serialization._legacy_load",
        "torch.jit.load",
        "torch.jit._serialization.load",
        "numpy.lib.format.read_array",
        "numpy.lib.npyio.NpzFile",
        "torch.utils._config_module.ConfigModule.load_config",
        "torch.utils.data.datapipes.utils.decoder.basichandlers",
    ),
    **_names(
        Kind.CODE_OBJECT,
        CODE_BUILDERS,
        "types.MethodType",
        "dill._dill._create_function",
        "dill._dill._create_code",
        "dill._dill._load_type",
        "dill._dill._create_type",
        "dill._dill._create_cell",
        "cloudpickle.cloudpickle._make_function",
        "cloudpickle.cloudpickle._make_skeleton_class",
        "cloudpickle.cloudpickle._make_skeleton_enum",
        "cloudpickle.cloudpickle._builtin_type",
        "cloudpickle.cloudpickle._function_setstate",
        "cloudpickle.cloudpickle_fast._make_function",
        "cloudpickle.cloudpickle_fast._function_setstate",
        "cloudpickle.cloudpickle_fast._builtin_type",
        "cloudpickle.cloudpickle_fast._make_skeleton_class",
    ),
    **_names(
        Kind.RESOLVER,
        "builtins.__import__",
        "dill._dill._import_module",
        "pkgutil.resolve_name",
        "pydoc.locate",
        "operator.attrgetter",
        "operator.methodcaller",
        "builtins.globals",
        "builtins.locals",
        "builtins.vars",
        "sys.modules",
        "sys._getframe",
        "functools.reduce",
        "copyreg.add_extension",
    ),
    **_names(
        Kind.DOWNLOAD,
        CODE_DOWNLOADERS,
        "torch.hub.download_url_to_file",
        "torch.utils.model_zoo.load_url",
        "urllib.request.urlretrieve",
        "urllib.urlretrieve",
        "tensorflow.keras.utils.get_file",
        "keras.utils.get_file",
        "huggingface_hub.hf_hub_download",
        "huggingface_hub.snapshot_download",
    ),
    **_names(
        Kind.NETWORK,
        HTTP_CONNECTIONS,
        REMOTE_SESSIONS,
        "urllib.request.urlopen",
        "urllib.request.Request",
        "urllib.request.build_opener",
        "urllib.urlopen",
        "urllib2.urlopen",
        "httplib.HTTPConnection",
        "httplib.HTTPSConnection",
        "pandas.read_csv",
        "pandas.read_json",
        "pandas.read_html",
        "pandas.read_parquet",
        "xmlrpc.client.ServerProxy",
        # Sample-data fetchers: a request to a fixed host on load (named in nltk PR 3757).
        "scipy.datasets.face",
        "scipy.datasets.ascent",
        "scipy.datasets.electrocardiogram",
        "scipy.datasets.download_all",
    ),
    **_names(
        Kind.OPEN,
        FILE_OPENERS,
        "io.FileIO",
        "os.fdopen",
        # The compressed-file openers take (filename, mode) like open (named in modelaudit PR 1059).
        "bz2.open",
        "bz2.BZ2File",
        "gzip.open",
        "gzip.GzipFile",
        "lzma.open",
        "lzma.LZMAFile",
    ),
    **_names(
        Kind.FILE_WRITE,
        FILE_COPIERS,
        "os.mkdir",
        "os.makedirs",
        "os.chmod",
        "os.chown",
        "os.write",
        "os.putenv",
        "os.chdir",
        "shutil.copyfileobj",
        "shutil.unpack_archive",
        "shutil.make_archive",
        "tempfile.mkstemp",
        "tempfile.NamedTemporaryFile",
        "zipfile.ZipFile",
        "tarfile.open",
        "pathlib.Path.write_text",
        "pathlib.Path.write_bytes",
        "pathlib.Path.touch",
        "pathlib.Path.mkdir",
        "logging.FileHandler",
        "logging.basicConfig",
        # Array writers: a path and what to write there (scipy's named in nltk PR 3757).
        "numpy.save",
        "numpy.savez",
        "numpy.savez_compressed",
        "scipy.sparse.save_npz",
        "scipy.sparse._matrix_io.save_npz",
    ),
    **_names(
        Kind.FILE_READ,
        "linecache.getline",
        "linecache.getlines",
        "linecache.updatecache",
        "linecache.lazycache",
        "pathlib.Path.read_text",
        "pathlib.Path.read_bytes",
    ),
    **_names(
        Kind.DESTRUCTIVE,
        FILE_DELETERS,
        TREE_DELETERS,
        FILE_MOVERS,
        "os.renames",
        "os.truncate",
        "os.kill",
        "os.killpg",
        "os._exit",
        "pathlib.Path.rename",
        "pathlib.Path.replace",
    ),
    **_names(
        Kind.RECON,
        IDENTITY_GETTERS,
        DIRECTORY_LISTERS,
        "os.getenv",
        "os.environ",
        "os.getcwd",
        "getpass.getpass",
        "socket.gethostbyname",
        "platform.system",
        "platform.platform",
    ),
    **_names(
        Kind.PROCESS,
        "sys.exit",
        "builtins.exit",
        "builtins.quit",
        "sys.settrace",
        "sys.setprofile",
        "numpy.ctypeslib.load_library",
        "sys.addaudithook",
        "threading.Thread",
        "multiprocessing.Process",
        "signal.signal",
        "atexit.register",
        "gc.get_objects",
        "gc.get_referrers",
    ),
    **_names(
        Kind.ATTRIBUTE, "builtins.setattr", "builtins.delattr", "object.__setattr__", "builtins.object.__setattr__"
    ),
}

# Whole modules (or module families) whose every attribute is dangerous; the kind is the module's use.
DANGEROUS_PREFIXES: tuple[tuple[str, Kind], ...] = (
    ("subprocess.", Kind.SHELL),
    ("os.exec", Kind.SHELL),
    ("os.spawn", Kind.SHELL),
    ("os.posix_spawn", Kind.SHELL),
    ("popen2.", Kind.SHELL),
    ("_posixsubprocess.", Kind.SHELL),
    ("pty.", Kind.SHELL),
    ("code.", Kind.PYTHON),
    ("codeop.", Kind.PYTHON),
    ("timeit.", Kind.PYTHON),
    ("pdb.", Kind.PYTHON),
    ("bdb.", Kind.PYTHON),
    ("profile.", Kind.PYTHON),
    ("cProfile.", Kind.PYTHON),
    ("trace.", Kind.PYTHON),
    ("doctest.", Kind.PYTHON),
    ("idlelib.", Kind.PYTHON),
    ("lib2to3.", Kind.PYTHON),
    ("numpy.f2py.", Kind.PYTHON),
    ("numpy.testing.", Kind.PYTHON),
    ("torch.utils.bottleneck.", Kind.PYTHON),
    ("_interpreters.", Kind.PYTHON),
    ("_xxsubinterpreters.", Kind.PYTHON),
    ("concurrent.interpreters.", Kind.PYTHON),
    ("site.", Kind.PYFILE),
    ("unittest.mock._importer", Kind.RESOLVER),
    ("unittest.mock._dot_lookup", Kind.RESOLVER),
    ("test.support.import_helper.", Kind.RESOLVER),
    ("_osx_support.", Kind.SHELL),
    ("_aix_support.", Kind.SHELL),
    ("_pyrepl.", Kind.SHELL),
    ("test.support.", Kind.SHELL),
    ("venv.", Kind.SHELL),
    ("ensurepip.", Kind.DOWNLOAD),
    ("asyncio.subprocess.", Kind.SHELL),
    ("asyncio.unix_events.", Kind.SHELL),
    ("asyncio.windows_events.", Kind.SHELL),
    ("asyncio.base_subprocess.", Kind.SHELL),
    ("asyncio.base_events.BaseEventLoop.subprocess_", Kind.SHELL),
    ("asyncio.events.AbstractEventLoop.subprocess_", Kind.SHELL),
    ("asyncio.", Kind.PROCESS),
    ("pydoc.", Kind.RESOLVER),
    ("distutils.file_util.", Kind.FILE_WRITE),
    ("distutils.dir_util.", Kind.FILE_WRITE),
    ("logging.handlers.", Kind.FILE_WRITE),
    ("linecache.", Kind.FILE_READ),
    ("runpy.", Kind.PYFILE),
    ("pip.", Kind.DOWNLOAD),
    ("ctypes.", Kind.PROCESS),
    ("_ctypes.", Kind.PROCESS),
    ("cffi.", Kind.PROCESS),
    ("dill._dill._create", Kind.CODE_OBJECT),
    ("importlib.", Kind.RESOLVER),
    ("imp.", Kind.RESOLVER),
    ("zipimport.", Kind.RESOLVER),
    ("socket.", Kind.NETWORK),
    ("_socket.", Kind.NETWORK),
    ("ssl.", Kind.NETWORK),
    ("requests.", Kind.NETWORK),
    ("httpx.", Kind.NETWORK),
    ("aiohttp.", Kind.NETWORK),
    ("urllib3.", Kind.NETWORK),
    ("http.client.", Kind.NETWORK),
    ("urllib.request.", Kind.NETWORK),
    ("torch.hub.", Kind.DOWNLOAD),
    ("shutil.", Kind.FILE_WRITE),
    ("webbrowser.", Kind.BROWSER),
    ("pickle.", Kind.NESTED),
    ("_pickle.", Kind.NESTED),
    ("marshal.", Kind.CODE_OBJECT),
    ("multiprocessing.", Kind.SHELL),
    ("torch.utils.collect_env.", Kind.SHELL),
)

# Methods that act on the world when called on an ordinary object (a pathlib path, a socket, a file).
DANGEROUS_METHODS: dict[str, Kind] = {
    **_names(
        Kind.FILE_WRITE, "write_text", "write_bytes", "touch", "mkdir", "symlink_to", "hardlink_to", "chmod", "write"
    ),
    **_names(Kind.DESTRUCTIVE, "unlink", "rmdir", "rename", "replace"),
    **_names(Kind.SHELL, "system", "popen", "spawn", "Popen"),
    **_names(Kind.PYTHON, "runsource", "runcode", "exec", "eval", "run"),
    **_names(Kind.NETWORK, "connect", "send", "sendall", "urlopen"),
}


_ANY_DANGEROUS_PREFIX = tuple(prefix for prefix, _ in DANGEROUS_PREFIXES)


def kind_of(name: str) -> Kind | None:
    """What the canonical ``name`` does, if it is dangerous: exact entry first, then module prefix."""
    kind = DANGEROUS.get(name)
    if kind is not None:
        return kind
    if not name.startswith(_ANY_DANGEROUS_PREFIX):  # one test for the usual case: no prefix at all
        return None
    for prefix, pkind in DANGEROUS_PREFIXES:
        if name.startswith(prefix):
            return pkind
    return None


def category_of(kind: Kind) -> Category:
    return KIND_CATEGORY[kind]
