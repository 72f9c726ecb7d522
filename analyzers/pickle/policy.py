"""What the names a pickle imports mean: allowed, dangerous (and how), or unknown.

Names are canonicalised first (``posix.system`` -> ``os.system``, ``torch.os.system`` -> ``os.system``
reached through a module attribute chain), then looked up exactly, then by prefix.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

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


_KIND_CATEGORY = {
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


@dataclass(frozen=True)
class Danger:
    name: str
    kind: Kind

    @property
    def category(self) -> Category:
        return _KIND_CATEGORY[self.kind]


def _names(kind: Kind, *names: str) -> dict[str, Kind]:
    return dict.fromkeys(names, kind)


DANGEROUS: dict[str, Kind] = {
    **_names(
        Kind.SHELL,
        "os.system",
        "os.popen",
        "os.popen2",
        "os.popen3",
        "os.popen4",
        "os.startfile",
        "os.fork",
        "os.forkpty",
        "pty.spawn",
        "pty.fork",
        "_posixsubprocess.fork_exec",
        "multiprocessing.util.spawnv_passfds",
        "distutils.spawn.spawn",
        "distutils.util.execute",
        "setuptools._distutils.spawn.spawn",
        "setuptools._distutils.util.execute",
        "torch.utils.collect_env.run",
        "torch.utils.collect_env.run_and_read_all",
        "torch.utils.collect_env.run_and_parse_first_match",
        "torch.utils.collect_env.run_and_return_first_line",
        "mailcap.findmatch",
        "commands.getoutput",
        "commands.getstatusoutput",
        "platform.popen",
        "asyncio.create_subprocess_shell",
        "asyncio.create_subprocess_exec",
        "IPython.utils.process.system",
        "IPython.utils.process.getoutput",
        "imaplib.IMAP4_stream",
        "uuid._get_command_stdout",
        "pydoc.pipepager",
        "pydoc.tempfilepager",
        "pydoc.pager",
        "torch._inductor.codecache.compile_file",
    ),
    **_names(Kind.BROWSER, "webbrowser.open", "webbrowser.open_new", "webbrowser.open_new_tab", "webbrowser.get"),
    **_names(
        Kind.PYTHON,
        "builtins.exec",
        "builtins.eval",
        "builtins.compile",
        "builtins.execfile",
        "builtins.breakpoint",
        "builtins.input",
        "runpy._run_code",
        "runpy._run_module_code",
        "cProfile.run",
        "cProfile.runctx",
        "profile.run",
        "profile.runctx",
        "numpy.testing._private.utils.runstring",
        "numpy.testing.utils.runstring",
        "numpy.testing.runstring",
        "numpy.f2py.compile",
        "sklearn.utils._testing.assert_run_python_script_without_output",
        "sklearn.utils._testing.assert_run_python_script",
        "trace.Trace.runctx",
        "trace.Trace.run",
        "lib2to3.pgen2.pgen.ParserGenerator.make_label",
        "torch._dynamo.guards.GuardBuilder.get",
        "torch.fx.experimental.symbolic_shapes.ShapeEnv.evaluate_guards_expression",
        "torch.jit.unsupported_tensor_ops.execWrapper",
    ),
    **_names(
        Kind.PYFILE,
        "runpy.run_path",
        "runpy.run_module",
        "torch.package.PackageImporter",
        "torch.package.package_importer.PackageImporter",
    ),
    **_names(
        Kind.NESTED,
        "pickle.loads",
        "pickle.load",
        "pickle._loads",
        "pickle._load",
        "pickle.Unpickler",
        "pickle._Unpickler",
        "dill.loads",
        "dill.load",
        "dill._dill.loads",
        "dill._dill.load",
        "cloudpickle.loads",
        "cloudpickle.load",
        "torch.load",
        "torch.serialization.load",
        "numpy.load",
        "numpy.lib.npyio.load",
        "joblib.load",
        "joblib.numpy_pickle.load",
        "pandas.read_pickle",
        "shelve.open",
        "yaml.load",
        "yaml.unsafe_load",
        "jsonpickle.decode",
        "lib2to3.pgen2.grammar.Grammar.loads",
        "lib2to3.pgen2.grammar.Grammar.load",
        "torch.serialization._load",
        "torch.serialization._legacy_load",
        "torch.jit.load",
        "torch.jit._serialization.load",
        "numpy.lib.format.read_array",
        "numpy.lib.npyio.NpzFile",
        "keras.models.load_model",
        "keras.saving.load_model",
        "tensorflow.keras.models.load_model",
        "torch.utils._config_module.ConfigModule.load_config",
        "torch.utils.data.datapipes.utils.decoder.basichandlers",
    ),
    **_names(
        Kind.CODE_OBJECT,
        "types.FunctionType",
        "types.CodeType",
        "types.LambdaType",
        "types.MethodType",
        "marshal.loads",
        "marshal.load",
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
        "torch.hub.load",
        "torch.hub.load_state_dict_from_url",
        "torch.hub.download_url_to_file",
        "torch.utils.model_zoo.load_url",
        "urllib.request.urlretrieve",
        "urllib.urlretrieve",
        "tensorflow.keras.utils.get_file",
        "keras.utils.get_file",
        "huggingface_hub.hf_hub_download",
        "huggingface_hub.snapshot_download",
        "pip.main",
        "pip._internal.main",
        "pip._internal.cli.main.main",
    ),
    **_names(
        Kind.NETWORK,
        "urllib.request.urlopen",
        "urllib.request.Request",
        "urllib.request.build_opener",
        "urllib.urlopen",
        "urllib2.urlopen",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
        "httplib.HTTPConnection",
        "httplib.HTTPSConnection",
        "ftplib.FTP",
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
        "telnetlib.Telnet",
        "pandas.read_csv",
        "pandas.read_json",
        "pandas.read_html",
        "pandas.read_parquet",
        "xmlrpc.client.ServerProxy",
    ),
    **_names(Kind.OPEN, "builtins.open", "io.open", "io.FileIO", "codecs.open", "os.open", "os.fdopen"),
    **_names(
        Kind.FILE_WRITE,
        "os.mkdir",
        "os.makedirs",
        "os.chmod",
        "os.chown",
        "os.symlink",
        "os.link",
        "os.write",
        "os.putenv",
        "os.chdir",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
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
        "os.remove",
        "os.unlink",
        "os.rmdir",
        "os.removedirs",
        "os.rename",
        "os.renames",
        "os.replace",
        "os.truncate",
        "os.kill",
        "os.killpg",
        "os._exit",
        "shutil.rmtree",
        "shutil.move",
        "pathlib.Path.unlink",
        "pathlib.Path.rmdir",
        "pathlib.Path.rename",
        "pathlib.Path.replace",
    ),
    **_names(
        Kind.RECON,
        "os.getenv",
        "os.environ",
        "os.getlogin",
        "os.uname",
        "os.listdir",
        "os.walk",
        "os.scandir",
        "os.getcwd",
        "getpass.getuser",
        "getpass.getpass",
        "socket.gethostname",
        "socket.gethostbyname",
        "glob.glob",
        "glob.iglob",
        "platform.uname",
        "platform.node",
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

# Getter factories: the object they build is harmless unless the attribute it fetches is one of the
# dangerous names (the application itself is followed by the resolver and judged where it is called).
GETTER_FACTORIES = frozenset({"operator.attrgetter", "operator.methodcaller"})
DANGEROUS_LEAVES = frozenset(name.rpartition(".")[2] for name in DANGEROUS) | frozenset(DANGEROUS_METHODS)

# Higher-order helpers that only matter when called: stored in an object (a reducer kept as an
# attribute), they are a note, not a dangerous reference.
HARMLESS_WHEN_STORED = frozenset({"functools.reduce"})

# Where the payload sits when it is not the first argument (the index counts every argument).
PAYLOAD_ARG: dict[str, int] = {
    "torch._inductor.codecache.compile_file": 2,  # (input_path, output_path, cmd)
    "torch.utils.data.datapipes.utils.decoder.basichandlers": 1,  # (extension, data)
    "pydoc.pipepager": 1,  # (text, cmd)
    "pydoc.tempfilepager": 1,
    "_pyrepl.pager.pipe_pager": 1,
    "_pyrepl.pager.tempfile_pager": 1,
    "lib2to3.pgen2.pgen.ParserGenerator.make_label": 2,  # (self, c, label): eval(label)
    "_interpreters.run_string": 1,  # (interpreter id, code)
    "_interpreters.exec": 1,
    "_xxsubinterpreters.run_string": 1,
    "_xxsubinterpreters.exec": 1,
    "asyncio.base_events.BaseEventLoop.subprocess_shell": 2,  # (loop, protocol_factory, cmd)
    "asyncio.base_events.BaseEventLoop.subprocess_exec": 2,
    "asyncio.events.AbstractEventLoop.subprocess_shell": 2,
    "asyncio.events.AbstractEventLoop.subprocess_exec": 2,
}


def payload_index(name: str) -> int:
    """The argument a dangerous callable acts on: an unbound method called through its class
    (``trace.Trace.run(tracer, code)``) takes the instance first."""
    index = PAYLOAD_ARG.get(name)
    if index is not None:
        return index
    parent = name.rpartition(".")[0]
    return 1 if parent and looks_like_class(parent) else 0


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

# Names of modules that other modules hold as attributes: reaching one of them through a dotted chain
# (``posixpath.os``, ``torch.os``) switches the name to that module.
MODULE_TOKENS = SYSTEM_MODULES | frozenset(
    {
        "socket",
        "pickle",
        "_pickle",
        "ctypes",
        "urllib",
        "requests",
        "pdb",
        "timeit",
        "cProfile",
        "getpass",
        "pydoc",
        "pkgutil",
        "multiprocessing",
        "dill",
        "torch",
        "numpy",
        "np",
        "joblib",
        "yaml",
        "pandas",
        "pd",
    }
)

ALIASES = {
    "np": "numpy",
    "pd": "pandas",
    "posix": "os",
    "nt": "os",
    "__builtin__": "builtins",
    "__builtins__": "builtins",
    "exceptions": "builtins",
    "_pickle": "pickle",
    "cPickle": "pickle",
    "copy_reg": "copyreg",
    "_io": "io",
    "_operator": "operator",
    "_functools": "functools",
    "_codecs": "codecs",
    "posixpath": "os.path",
    "ntpath": "os.path",
    "cloudpickle.cloudpickle_fast": "cloudpickle.cloudpickle",
    "numpy._core": "numpy.core",
    "setuptools._distutils": "distutils",
}

# Exact names that benign checkpoints use; calling or importing them is fine.
ALLOWED = frozenset(
    {
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.deque",
        "collections.Counter",
        "torch.serialization._get_layout",
        "torch.Size",
        "torch.device",
        "torch.dtype",
        "torch.layout",
        "torch.memory_format",
        "torch.strided",
        "torch.sparse_coo",
        "torch.sparse_csr",
        "torch.contiguous_format",
        "torch.channels_last",
        "torch.preserve_format",
        "torch.Tensor",
        "torch._tensor.Tensor",
        "torch.nn.parameter.Parameter",
        "torch.nn.parameter.Buffer",
        "torch.nn.parameter.UninitializedParameter",
        "torch.storage.UntypedStorage",
        "torch.storage.TypedStorage",
        "torch._tensor._rebuild_from_type",
        "torch._tensor._rebuild_from_type_v2",
        "torch.storage._load_from_bytes",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy.dtype",
        "numpy.ndarray",
        "numpy.matrix",
        "numpy.ma.core._mareconstruct",
        "numpy.ma.core.MaskedArray",
        "numpy.ma.MaskedArray",
        "torch.per_tensor_affine",
        "torch.per_channel_affine",
        "torch.per_tensor_symmetric",
        "torch.per_channel_symmetric",
        "torch.per_channel_affine_float_qparams",
        "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random._pickle.__generator_ctor",
        "codecs.encode",
        "copyreg._reconstructor",
        "copyreg.__newobj__",
        "copyreg.__newobj_ex__",
        "joblib.numpy_pickle.NumpyArrayWrapper",
        "joblib.numpy_pickle_compat.NDArrayWrapper",
        "joblib.numpy_pickle_compat.ZNDArrayWrapper",
        "argparse.Namespace",
        "pathlib.Path",
        "pathlib.PosixPath",
        "pathlib.WindowsPath",
        "pathlib.PurePath",
        "pathlib.PurePosixPath",
        "pathlib.PureWindowsPath",
        "builtins.set",
        "builtins.frozenset",
        "builtins.slice",
        "builtins.complex",
        "builtins.bytearray",
        "builtins.bytes",
        "builtins.range",
        "builtins.list",
        "builtins.dict",
        "builtins.tuple",
        "builtins.int",
        "builtins.float",
        "builtins.str",
        "builtins.bool",
        "builtins.object",
        "builtins.type",
        "builtins.NoneType",
        "builtins.Ellipsis",
        "builtins.NotImplemented",
        "builtins.getattr",
        "logging.getLogger",
        "datetime.datetime",
        "datetime.date",
        "datetime.time",
        "datetime.timedelta",
        "datetime.timezone",
        "decimal.Decimal",
        "fractions.Fraction",
        "uuid.UUID",
        "re._compile",
        "re.compile",
        "re.Pattern",
        "functools.partial",
        "enum.Enum",
        "types.SimpleNamespace",
        "collections.namedtuple",
    }
)

ALLOWED_PREFIXES = (
    "torch._utils._rebuild_",
    "torch.nn.modules.",
    "torch.distributions.",
    "torch.optim.",
    "numpy.dtypes.",
    "numpy.random._",
    "numpy.random.bit_generator.",
    "sklearn.",
    "scipy.sparse.",
    "datetime.",
    "zoneinfo.ZoneInfo",
)

# Things in the ``torch`` and ``numpy`` top levels that are data types, not functions.
_DTYPE_WORDS = (
    "float",
    "double",
    "half",
    "bfloat16",
    "int",
    "uint",
    "long",
    "short",
    "bool",
    "complex",
    "cfloat",
    "cdouble",
    "chalf",
    "byte",
    "char",
    "qint",
    "quint",
    "str_",
    "bytes_",
    "object_",
    "void",
    "datetime64",
    "timedelta64",
    "longlong",
    "ulonglong",
    "intc",
    "uintc",
    "intp",
    "uintp",
    "single",
    "longdouble",
    "clongdouble",
    "csingle",
)

_DTYPE_NAME = re.compile(r"[a-z]+[0-9a-z_]*")

# Decoding helpers: a value that went through one of these is an encoded payload.
DECODERS = frozenset(
    {
        "base64.b64decode",
        "base64.standard_b64decode",
        "base64.urlsafe_b64decode",
        "base64.b32decode",
        "base64.b16decode",
        "base64.a85decode",
        "base64.b85decode",
        "base64.decodebytes",
        "binascii.unhexlify",
        "binascii.a2b_hex",
        "binascii.a2b_base64",
        "codecs.decode",
        "zlib.decompress",
        "bz2.decompress",
        "lzma.decompress",
        "gzip.decompress",
        "bytes.fromhex",
        "builtins.bytes.fromhex",
    }
)

# Pure helpers whose calls the folder evaluates (decoding, joining); they run nothing by themselves.
HELPERS = DECODERS | frozenset(
    {
        "codecs.encode",
        "builtins.bytes.decode",
        "builtins.str.join",
        "builtins.str.encode",
        "builtins.str.format",
        "builtins.chr",
        "builtins.ord",
        "builtins.reversed",
        "builtins.repr",
        "builtins.len",
        "operator.add",
        "operator.concat",
        "operator.getitem",
        "operator.itemgetter",
        "io.BytesIO",
        "io.StringIO",
    }
)


def canonical(module: str, name: str) -> tuple[str, bool]:
    """The canonical dotted name for ``module`` + qualname ``name`` and whether a chain was followed.

    ``("posixpath", "os.system")`` -> ``("os.system", True)``; ``("posix", "system")`` ->
    ``("os.system", False)``. Only the qualname is an attribute chain: the module part is an import
    path (``tests.pickle.models`` is a package of its own, not the ``pickle`` module).
    """
    mod_parts = [p for p in module.split(".") if p]
    name_parts = [p for p in name.split(".") if p]
    chained = False
    # A module reached as an attribute of another module: restart the name there (``timeit.timeit``
    # is the function named like its module, not the module again).
    for i in range(len(name_parts) - 1, -1, -1):
        before = name_parts[i - 1] if i else (mod_parts[-1] if mod_parts else "")
        if name_parts[i] in MODULE_TOKENS and name_parts[i] != before and (i or mod_parts):
            mod_parts, name_parts = [], name_parts[i:]
            chained = True
            break
    if not chained and any(not looks_like_class(part) for part in name_parts[:-1]):
        # ``sklearn.base`` + ``np.load``: the qualname passes through a lowercase attribute (a module
        # or an object), not through nested classes; allowlists of the module do not cover it.
        chained = True
    if not chained and len(mod_parts) > 1 and mod_parts[-1] in SYSTEM_MODULES:
        # ``torch.os`` + ``system``: a loader that resolves the module path by attribute lookup
        # lands on the os module; no package names its own module like these.
        mod_parts, chained = mod_parts[-1:], True
    dotted = ".".join(mod_parts + name_parts)
    for alias, real in ALIASES.items():
        if dotted == alias or dotted.startswith(alias + "."):
            dotted = real + dotted[len(alias) :]
            break
    return dotted, chained


def danger_of(name: str) -> Danger | None:
    kind = DANGEROUS.get(name)
    if kind is None:
        for prefix, pkind in DANGEROUS_PREFIXES:
            if name.startswith(prefix):
                kind = pkind
                break
    return Danger(name, kind) if kind is not None else None


def is_allowed(name: str) -> bool:
    if name in ALLOWED:
        return True
    if name.startswith(ALLOWED_PREFIXES):
        return True
    head, _, leaf = name.rpartition(".")
    if head in ("torch", "numpy", "torch.cuda") and (
        leaf.endswith("Storage") or leaf.startswith(_DTYPE_WORDS) and _DTYPE_NAME.fullmatch(leaf) is not None
    ):
        return True
    return head == "numpy.core.multiarray" and leaf in ("_reconstruct", "scalar")


class NameCache:
    """``danger_of``/``is_allowed`` memoised for one analysis (a stream repeats a few names a lot)."""

    def __init__(self) -> None:
        self._danger: dict[str, Danger | None] = {}
        self._allowed: dict[str, bool] = {}

    def danger(self, name: str) -> Danger | None:
        if name not in self._danger:
            self._danger[name] = danger_of(name)
        return self._danger[name]

    def allowed(self, name: str) -> bool:
        if name not in self._allowed:
            self._allowed[name] = is_allowed(name)
        return self._allowed[name]


def looks_like_class(name: str) -> bool:
    """A CapWords leaf (``MyModel``, ``_Private``) is a class that pickle rebuilds, not a function."""
    leaf = name.rpartition(".")[2].lstrip("_")
    return bool(leaf) and leaf[0].isupper() and not leaf.isupper()
