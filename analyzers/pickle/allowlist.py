"""Names that benign checkpoints import and call (rebuilders of tensors, arrays, containers), and the
pure helpers (decoders, joins) whose calls the folder evaluates.

The allowlist of the load-time policy (docs/POLICY.md) is ``ALLOWED`` (exact names: the vetted base
below plus ``measured.MEASURED_CALLS``, every function that the benign files of the benchmark and
of ``tools/gadgets/benign_extra.py`` call, measured by ``tools/gadgets/allowlist.py``) and
``ALLOWED_PREFIXES`` (whole namespaces of classes: ``torch.nn.modules.``, ``sklearn.``). A name
admitted only by a prefix is not trusted over the mined gadget table (``is_listed``).
"""

from __future__ import annotations

import re

from malhug.analyzers.knowledge.families import DECODERS as _DECODING
from malhug.analyzers.pickle.measured import MEASURED_CALLS

# Exact names that benign checkpoints use; calling or importing them is fine.
_VETTED = frozenset(
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

ALLOWED = _VETTED | MEASURED_CALLS

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

# Functions inside an allowed namespace that read or write a file by path (np.load/np.savez, which
# the gadget miner does not see as file sinks): a checkpoint never calls them while loading.
_PREFIX_EXCLUDED = frozenset(
    {
        "scipy.sparse.load_npz",
        "scipy.sparse.save_npz",
        "scipy.sparse._matrix_io.load_npz",
        "scipy.sparse._matrix_io.save_npz",
    }
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
DECODERS = frozenset(_DECODING) | {"bytes.fromhex"}

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


def is_listed(name: str) -> bool:
    """Named exactly by the allowlist (not only covered by a prefix or a dtype pattern)."""
    return name in ALLOWED


def is_allowed(name: str) -> bool:
    if name in ALLOWED:
        return True
    if name.startswith(ALLOWED_PREFIXES):
        return name not in _PREFIX_EXCLUDED
    head, _, leaf = name.rpartition(".")
    if head in ("torch", "numpy", "torch.cuda") and (
        leaf.endswith("Storage") or leaf.startswith(_DTYPE_WORDS) and _DTYPE_NAME.fullmatch(leaf) is not None
    ):
        return True
    return head == "numpy.core.multiarray" and leaf in ("_reconstruct", "scalar")
