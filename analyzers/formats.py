"""Format names (the ``format`` field of a file report) and which analyzer handles each.

Analyzers are looked up lazily by dotted path so that the dispatcher imports only what a file needs
and each analyzer lives in its own module.
"""

from __future__ import annotations

# Pickle family
PICKLE = "pickle"  # one or more pickle streams (protocol 0-5), incl. dill/cloudpickle and legacy stacked torch
# Containers
PYTORCH_ZIP = "pytorch-zip"  # zip with <folder>/data.pkl (or any *.pkl member) + data/
PYTORCH_TAR = "pytorch-tar"  # legacy tar: sys_info, pickle, storages, tensors
ZIP = "zip"  # any other zip (zip-in-zip, npz, unknown)
SEVEN_ZIP = "7z"
GZIP = "gzip"
BZ2 = "bz2"
XZ = "xz"
LZ4 = "lz4"
ZLIB = "zlib"
TAR = "tar"
NUMPY = "numpy"  # .npy
NPZ = "npz"  # zip of .npy
JOBLIB = "joblib"  # pickle with raw NumPy array blocks between opcodes
# Keras / TensorFlow
HDF5 = "hdf5"
KERAS_V3 = "keras-v3"  # zip with config.json + model.weights.h5 + metadata.json
SAVEDMODEL = "savedmodel-pb"  # saved_model.pb
KERAS_METADATA = "keras-metadata-pb"  # keras_metadata.pb
# Other model formats
GGUF = "gguf"
ONNX = "onnx"
SAFETENSORS = "safetensors"
# Source and text
PYTHON = "python"
JSON = "json"
JINJA = "jinja"  # a chat template on its own (chat_template.jinja)
TEXT = "text"
UNKNOWN = "unknown"

# format -> "module:function"; the function has the signature ``(ctx: ScanContext, src: ByteSource) -> None``.
ANALYZERS: dict[str, str] = {
    PICKLE: "malhug.analyzers.pickle.analyzer:analyze",
    JOBLIB: "malhug.analyzers.pickle.analyzer:analyze",
    PYTORCH_ZIP: "malhug.analyzers.containers.zipscan:analyze_pytorch_zip",
    ZIP: "malhug.analyzers.containers.zipscan:analyze_zip",
    NPZ: "malhug.analyzers.containers.zipscan:analyze_npz",
    KERAS_V3: "malhug.analyzers.keras.keras_v3:analyze",
    PYTORCH_TAR: "malhug.analyzers.containers.tarscan:analyze",
    TAR: "malhug.analyzers.containers.tarscan:analyze",
    SEVEN_ZIP: "malhug.analyzers.containers.sevenzip:analyze",
    GZIP: "malhug.analyzers.containers.compressed:analyze",
    BZ2: "malhug.analyzers.containers.compressed:analyze",
    XZ: "malhug.analyzers.containers.compressed:analyze",
    LZ4: "malhug.analyzers.containers.compressed:analyze",
    ZLIB: "malhug.analyzers.containers.compressed:analyze",
    NUMPY: "malhug.analyzers.containers.npy:analyze",
    HDF5: "malhug.analyzers.keras.hdf5:analyze",
    SAVEDMODEL: "malhug.analyzers.keras.savedmodel:analyze",
    KERAS_METADATA: "malhug.analyzers.keras.savedmodel:analyze",
    GGUF: "malhug.analyzers.modelformats.gguf:analyze",
    ONNX: "malhug.analyzers.modelformats.onnx:analyze",
    SAFETENSORS: "malhug.analyzers.modelformats.safetensors:analyze",
    PYTHON: "malhug.analyzers.scripts.analyzer:analyze",
    JSON: "malhug.analyzers.modelformats.jsonfile:analyze",
    JINJA: "malhug.analyzers.modelformats.chat_template:analyze",
}
