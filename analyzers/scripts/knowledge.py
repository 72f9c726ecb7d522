"""Tables: which qualified names are sources, sinks and helpers of the taint analysis."""

from __future__ import annotations

# Aliases that name the same function (C modules behind os, legacy module names).
ALIASES = {
    "posix": "os",
    "nt": "os",
    "posixpath": "os.path",
    "ntpath": "os.path",
    "__builtin__": "builtins",
    "urllib2": "urllib.request",
    "six.moves.urllib.request": "urllib.request",
    "commands": "subprocess",
    "_pickle": "pickle",
    "cPickle": "pickle",
}

BUILTINS = frozenset(
    "exec eval compile open __import__ getattr setattr globals locals vars chr ord bytes bytearray str "
    "repr int float bool list tuple dict set frozenset map filter zip reversed sorted len print input "
    "breakpoint type isinstance range enumerate iter next hasattr super object format hex abs min max sum any all".split()
)

CODE_EXEC = frozenset(
    {
        "builtins.exec",
        "builtins.eval",
        "builtins.compile",
        "runpy.run_path",
        "runpy.run_module",
        "runpy._run_code",
        "runpy._run_module_code",
        "code.interact",
        "code.InteractiveInterpreter",
        "code.InteractiveConsole",
        "timeit.timeit",
        "timeit.repeat",
        "timeit.Timer",
        "cProfile.run",
        "cProfile.runctx",
        "profile.run",
        "profile.runctx",
        "trace.Trace.run",
        "pdb.run",
        "pdb.runeval",
        "pdb.runcall",
        "pdb.set_trace",
        "builtins.breakpoint",
        "types.FunctionType",
        "types.CodeType",
        "types.LambdaType",
        "marshal.loads",
        "marshal.load",
        "numpy.testing._private.utils.runstring",
        "IPython.get_ipython",
    }
)
# Code-execution callables whose first argument is Python source.
TAKES_SOURCE = frozenset(
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
DOWNLOAD_CODE = frozenset(
    {
        "torch.hub.load",
        "torch.hub.load_state_dict_from_url",
        "pip.main",
        "pip._internal.main",
        "pip._internal.cli.main.main",
    }
)

COMMANDS = frozenset(
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
EXEC_PREFIXES = ("os.exec", "os.spawn")
BROWSER = frozenset({"webbrowser.open", "webbrowser.open_new", "webbrowser.open_new_tab"})
# Commands whose output is returned.
OUTPUT_COMMANDS = frozenset(
    {
        "os.popen",
        "subprocess.check_output",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "subprocess.run",
        "subprocess.Popen",
        "platform.popen",
        "pexpect.run",
    }
)

HTTP_FUNCS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "urlopen", "urlretrieve"}
)
HTTP_MODULES = ("requests", "httpx", "urllib.request", "urllib3", "aiohttp", "http.client", "pycurl")
HTTP_SESSION = frozenset(
    {
        "requests.Session",
        "requests.session",
        "httpx.Client",
        "httpx.AsyncClient",
        "aiohttp.ClientSession",
        "urllib3.PoolManager",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
    }
)
MAIL_FTP = frozenset(
    {"smtplib.SMTP", "smtplib.SMTP_SSL", "ftplib.FTP", "ftplib.FTP_TLS", "telnetlib.Telnet", "paramiko.SSHClient"}
)
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
SYSINFO_STRONG = frozenset(
    {
        "getpass.getuser",
        "socket.gethostname",
        "socket.getfqdn",
        "uuid.getnode",
        "os.uname",
        "os.getlogin",
        "platform.node",
        "platform.uname",
        "psutil.users",
        "pwd.getpwuid",
        "pwd.getpwall",
    }
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
FILE_OPENERS = frozenset(
    {"builtins.open", "io.open", "codecs.open", "os.open", "gzip.open", "bz2.open", "lzma.open", "aiofiles.open"}
)
COPIERS = frozenset(
    {
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.move",
        "shutil.copytree",
        "os.rename",
        "os.replace",
        "os.link",
        "os.symlink",
    }
)
DELETERS = frozenset(
    {"os.remove", "os.unlink", "os.rmdir", "os.removedirs", "pathlib.Path.unlink", "pathlib.Path.rmdir"}
)
TREE_DELETERS = frozenset({"shutil.rmtree"})
WALKERS = frozenset(
    {
        "os.walk",
        "os.scandir",
        "os.listdir",
        "glob.glob",
        "glob.iglob",
        "os.fwalk",
        "pathlib.Path.rglob",
        "pathlib.Path.glob",
        "pathlib.Path.iterdir",
    }
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
# Base classes that make a class a dataset builder (its methods run when the dataset is loaded).
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
    "builtins.bytearray.fromhex": "hex",
    "zlib.decompress": "zlib",
    "gzip.decompress": "gzip",
    "lzma.decompress": "lzma",
    "bz2.decompress": "bz2",
    "codecs.decode": "codecs",
}
