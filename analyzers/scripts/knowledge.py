"""Tables: which qualified names are sources, sinks and helpers of the taint analysis.

The dangerous-callable families are shared with the other analyzers (``malhug.analyzers.knowledge``);
this module adds what only the taint analysis needs (sources, sessions, path builders, builders).
"""

from __future__ import annotations

from malhug.analyzers.knowledge import families as F

# Aliases that name the same function (C modules behind os, legacy module names).
ALIASES = {
    **F.MODULE_ALIASES,
    "urllib2": "urllib.request",
    "six.moves.urllib.request": "urllib.request",
    "commands": "subprocess",
}

BUILTINS = frozenset(
    "exec eval compile open __import__ getattr setattr globals locals vars chr ord bytes bytearray str "
    "repr int float bool list tuple dict set frozenset map filter zip reversed sorted len print input "
    "breakpoint type isinstance range enumerate iter next hasattr super object format hex abs min max sum any all".split()
)

CODE_EXEC = (
    F.PYTHON_SOURCE_RUNNERS
    | F.PYTHON_CODE_RUNNERS
    | F.PYTHON_FILE_RUNNERS
    | F.DEBUGGERS
    | F.CODE_BUILDERS
    | frozenset(
        {
            "code.interact",
            "code.InteractiveInterpreter",
            "code.InteractiveConsole",
            "pdb.runcall",
            "IPython.get_ipython",
        }
    )
)
# Code-execution callables whose first argument is Python source.
TAKES_SOURCE = F.PYTHON_SOURCE_RUNNERS
DESERIALIZERS = F.DESERIALIZERS
# Model loaders that can run code stored in the file (Keras Lambda layers, pickled objects).
MODEL_LOADERS = F.MODEL_LOADERS
DOWNLOAD_CODE = F.CODE_DOWNLOADERS

COMMANDS = F.PROCESS_SPAWNERS
EXEC_PREFIXES = F.PROCESS_SPAWN_PREFIXES
BROWSER = F.BROWSER_OPENERS

HTTP_FUNCS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "urlopen", "urlretrieve"}
)
HTTP_MODULES = ("requests", "httpx", "urllib.request", "urllib3", "aiohttp", "http.client", "pycurl")
HTTP_SESSION = F.HTTP_CONNECTIONS | frozenset(
    {
        "requests.Session",
        "requests.session",
        "httpx.Client",
        "httpx.AsyncClient",
        "aiohttp.ClientSession",
        "urllib3.PoolManager",
    }
)
MAIL_FTP = F.REMOTE_SESSIONS | frozenset({"ftplib.FTP_TLS", "paramiko.SSHClient"})
DNS = frozenset(
    {
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.getaddrinfo",
        "dns.resolver.resolve",
        "dns.resolver.query",
    }
)
SOCKETS = frozenset({"socket.socket", "socket.create_connection", "socket.socketpair", "ssl.wrap_socket"})

# System identity: reported as recon (MH509) when gathered, as exfiltration when sent.
SYSINFO_STRONG = F.IDENTITY_GETTERS | frozenset(
    {"socket.getfqdn", "uuid.getnode", "psutil.users", "pwd.getpwuid", "pwd.getpwall"}
)
SYSINFO_WEAK = frozenset(
    {
        "platform.platform",
        "platform.system",
        "platform.version",
        "platform.release",
        "platform.machine",
        "platform.processor",
        "platform.architecture",
        "os.getuid",
        "os.geteuid",
        "os.getcwd",
        "os.getpid",
        "sys.platform",
        "os.name",
    }
)
ENV_GET = frozenset({"os.getenv", "os.environ.get", "os.getenvb", "os.environ.pop", "os.environ.setdefault"})
# The Hugging Face token through the library (same as reading HF_TOKEN: a note unless sent elsewhere).
HF_TOKEN_GETTERS = frozenset(
    {
        "huggingface_hub.get_token",
        "huggingface_hub.HfFolder.get_token",
        "huggingface_hub.utils.get_token",
        "huggingface_hub.hf_api.HfFolder.get_token",
        "huggingface_hub.utils._auth.get_token",
    }
)
ENV_DUMP = frozenset(
    {"os.environ.copy", "os.environ.items", "os.environ.values", "os.environ.keys", "os.environ.__str__"}
)

# Calls that build a path from parts: they propagate text and do not access the file.
PATH_BUILDERS = frozenset(
    {
        "os.path.join",
        "os.path.expanduser",
        "os.path.expandvars",
        "os.path.abspath",
        "os.path.realpath",
        "os.path.normpath",
        "os.path.dirname",
        "os.path.basename",
        "os.path.splitext",
        "os.path.split",
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "pathlib.WindowsPath",
        "os.fspath",
        "builtins.str",
        "builtins.print",
        "builtins.len",
        "os.path.exists",
        "os.path.isfile",
        "os.path.isdir",
        "logging.info",
        "logging.debug",
        "logging.warning",
    }
)
FILE_OPENERS = F.FILE_OPENERS | frozenset({"gzip.open", "bz2.open", "lzma.open", "aiofiles.open"})
COPIERS = F.FILE_COPIERS | F.FILE_MOVERS
DELETERS = F.FILE_DELETERS
TREE_DELETERS = F.TREE_DELETERS
WALKERS = F.DIRECTORY_LISTERS | frozenset(
    {"os.fwalk", "pathlib.Path.rglob", "pathlib.Path.glob", "pathlib.Path.iterdir"}
)
RECURSIVE_WALKERS = frozenset({"os.walk", "os.fwalk", "pathlib.Path.rglob", "pathlib.Path.walk"})
CIPHERS = frozenset(
    {"cryptography.fernet.Fernet", "Crypto.Cipher.AES.new", "Cryptodome.Cipher.AES.new", "pyAesCrypt.encryptFile"}
)

DANGEROUS_IMPORTS = frozenset(
    {
        "subprocess",
        "socket",
        "pty",
        "ctypes",
        "marshal",
        "pickle",
        "telnetlib",
        "paramiko",
        "pexpect",
        "pyautogui",
        "pynput",
        "winreg",
        "_winreg",
        "win32api",
        "ftplib",
        "smtplib",
    }
)
# Methods through which code changes a value in place (``names.append(x)``): the engine follows the
# data into the receiver.
MUTATORS = frozenset({"append", "extend", "add", "update", "insert", "write", "writelines", "setdefault", "appendleft"})
# The `datasets` builder classes a loading script subclasses (scope.py: the signature of one).
DATASET_BUILDERS = ("GeneratorBasedBuilder", "ArrowBasedBuilder", "DatasetBuilder", "BeamBasedBuilder")
# Markers in a base class's name that make a class a dataset builder for the engine (its methods run
# when the dataset is loaded): the classes above, their configs and look-alikes, and any base taken
# from the datasets, nlp or tfds packages.
BUILDER_BASES = ("Builder", "BuilderConfig", "datasets.", "nlp.", "tfds.")
BUILDER_METHODS = frozenset(
    {
        "__init__",
        "_info",
        "_split_generators",
        "_generate_examples",
        "_generate_tables",
        "_post_process",
        "_download_and_prepare",
        "download_and_prepare",
        "_prepare_split",
        "as_dataset",
        "__post_init__",
    }
)
DECODERS = {**F.DECODERS, "builtins.bytearray.fromhex": "hex"}
