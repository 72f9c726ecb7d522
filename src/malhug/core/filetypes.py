"""The file names a loader opens as a model: the one list of suffixes, for Python and the VS Code client.

``tools/gen_lists.py`` (``make lists``) writes the client's copy (``client-vscode/src/generated/filetypes.ts``
and the ``workspaceContains`` activation event); ``tests/lists`` fails when that copy is stale.

Case: names are compared lower-cased. The loaders that pick a file by its name (``transformers``'
``pytorch_model.bin``, Keras's ``.keras``/``.h5`` check) compare case-sensitively, but ``torch.load``,
``pickle.load``, ``joblib.load`` and ``np.load`` open a file of any name, so ``MODEL.PKL`` can be loaded
and is scanned: a scanner errs towards reading more. The globs say the same with ``[pP]`` classes.
"""

from __future__ import annotations

# A model by its name alone: a loader of that format opens such a file, and the suffix means little else.
PICKLE = (".pkl", ".pickle", ".joblib", ".dill", ".cloudpickle")  # pickle.load, joblib.load, dill, cloudpickle
TORCH = (".bin", ".pt", ".pth", ".th", ".ckpt", ".pth.tar")  # torch.load: a zip of pickles, a legacy pickle or tar
TORCH_PACKAGED = (".mar", ".nemo")  # TorchServe model archives (zip), NeMo checkpoints (tar): pickles inside
PADDLE = (".pdparams", ".pdmodel")  # paddle.load: pickled parameters, protobuf program
NUMPY = (".npy", ".npz")  # np.load: object arrays are pickles
KERAS_HDF5 = (".h5", ".hdf5", ".keras")  # Keras load_model: HDF5 or a zip; Lambda layers carry code
TENSORFLOW = (".pb",)  # SavedModel / GraphDef protobuf (PyFunc ops, file ops)
ONNX = (".onnx",)  # protobuf graph (custom ops, external data paths)
GGUF = (".gguf",)  # llama.cpp; its metadata holds a Jinja chat template
SAFETENSORS = (".safetensors",)  # a JSON header and raw tensors: no code, but the header is parsed

MODEL_SUFFIXES = PICKLE + TORCH + TORCH_PACKAGED + PADDLE + NUMPY + KERAS_HDF5 + TENSORFLOW + ONNX + GGUF + SAFETENSORS

# Names that are a model only where models are kept: in a Hub repository such a file is there to be loaded,
# elsewhere it is usually something else (an SPSS .sav, a tokenizer's .model, a download's .zip).
AMBIGUOUS = (".sav", ".model")  # sklearn dumps (pickle); sentencepiece, gensim (pickle), xgboost
ARCHIVES = (".tar", ".tar.gz", ".tgz", ".zip", ".7z", ".gz", ".bz2", ".xz", ".lz4")  # loaders unpack, then load

# What the hub plan reads as weights: models plus what is ambiguous outside a model repository.
HUB_WEIGHT_SUFFIXES = MODEL_SUFFIXES + AMBIGUOUS + ARCHIVES
# Data files whose readers run no code: a Hub scan neither selects them by name nor sniffs their first
# bytes (``hub/sniff.py``). Any other file a Hub revision holds that the plan does not select by name is
# sniffed (one range read of its first bytes), and scanned when they show a format that can run code.
COLUMNAR = (".parquet", ".arrow", ".feather", ".orc", ".avro")  # pyarrow, fastavro: values only
TEXT_DATA = (".csv", ".tsv", ".json", ".jsonl", ".txt", ".md", ".rst")  # json.load, csv: values only
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".ico", ".svg")
AUDIO_VIDEO = (".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".mp4", ".webm", ".avi", ".mkv", ".mov")
OTHER_DATA = (".msgpack", ".pdf")  # Flax weights (msgpack values), documents
DATA_SUFFIXES = COLUMNAR + TEXT_DATA + IMAGES + AUDIO_VIDEO + OTHER_DATA
# Git's own files, in every Hub repository: read by git, never by a loader.
DATA_NAMES = (".gitattributes", ".gitignore")

# Sharded checkpoint indexes: loading opens every shard their ``weight_map`` names. The Hub plan and
# the editor's workspace scan read them (``hub/select.py``, ``server/workspace.py``).
INDEX_SUFFIXES = (".index.json",)

# What the editor watches and scans by name: models only; the start-up walk still finds the pickles,
# zips, HDF5 and GGUF files among the rest by their first bytes (``server/workspace.py``).
WATCHED_SUFFIXES = MODEL_SUFFIXES


def is_data(name: str) -> bool:
    """``name`` (a file name or path) is a data file whose reader runs no code (``DATA_SUFFIXES``,
    ``DATA_NAMES``), whatever its case: a Hub scan does not sniff it."""
    base = name.rsplit("/", 1)[-1].lower()
    return base in DATA_NAMES or base.endswith(DATA_SUFFIXES)


def has_suffix(name: str, suffixes: tuple[str, ...]) -> bool:
    """``name`` (a file name or path) ends with one of ``suffixes``, whatever its case."""
    return name.lower().endswith(suffixes)


def any_case(text: str) -> str:
    """``text`` as a glob that matches it in any case: ``pkl`` -> ``[pP][kK][lL]``."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)


def watch_glob(suffixes: tuple[str, ...] = WATCHED_SUFFIXES) -> str:
    """One glob for the files with ``suffixes`` anywhere in a folder, in any case (LSP and VS Code syntax)."""
    return "**/*.{" + ",".join(any_case(s.removeprefix(".")) for s in suffixes) + "}"
