"""Which analyses a file gets: every analyzer whose loader could open it, by bytes and by name.

Loaders do not ask a sniffer. ``pickle.load``/``torch.load``/``joblib.load`` unpickle any file
handed to them, ``datasets`` imports ``<name>.py``, ``transformers`` imports the ``auto_map`` modules
and reads ``config.json``/``tokenizer_config.json``/``chat_template.jinja`` by name. So:

- the *primary* format comes from the bytes (signatures, a few KB of head, a zip's directory or a
  tar's first headers; a ``.txt`` that is a PyTorch zip is a PyTorch zip); text is classified on the
  whole text (up to ``max_source_bytes``) when the head alone says "text", so a long docstring or
  ``_CITATION`` cannot hide a module;
- a ``.py``/``.pyw`` file is always analyzed as Python, and a file with a loader's name by that
  loader's analyzer, whatever the bytes say;
- unless the bytes already are a pickle, the stream is walked from offset 0 as the C unpickler walks
  it (``pickle/reach.py``): if an opcode that imports or calls is reachable, the file also gets the
  pickle analysis (a text-looking pickle, a long string before the payload, a polyglot zip whose
  prefix ``pickle.load`` runs). A file is "not a pickle" only when the unpickler stops before.

``detect_analyses`` returns that list (primary first); ``detect_format`` the one format a container
member is handed to.
"""

from __future__ import annotations

import logging
import lzma
import struct
import tarfile
import zlib

from malhug.analyzers import formats
from malhug.analyzers.containers.layout import classify_tar, classify_zip, tar_header_ok
from malhug.analyzers.containers.sniff_pickle import PICKLE_OPCODES, looks_like_pickle
from malhug.analyzers.containers.sniff_text import classify_source
from malhug.analyzers.limits import DEFAULT_LIMITS, LimitExceeded, Limits, MalformedInput
from malhug.analyzers.pickle.reach import walk
from malhug.analyzers.shared.slices import HeadSource
from malhug.analyzers.shared.source import ByteSource

log = logging.getLogger(__name__)

WINDOW = 8192

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08PK\x03\x04")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
# joblib < 0.10 z-files: b"ZF" + hex length padded to 19 characters, then a zlib stream.
JOBLIB_ZFILE = b"ZF0x"
JOBLIB_MARKERS = (b"joblib.numpy_pickle", b"NumpyArrayWrapper")
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024
# The LZMA-alone trial decodes a few bytes only; a header may declare a 4 GiB dictionary, which
# liblzma would allocate: past this it is refused (and the header judged on its own).
LZMA_TRIAL_MEMLIMIT = 64 * 1024 * 1024
# Formats loaders open by file name (``transformers`` reads these whatever they hold).
NAMED_FORMATS = {
    "config.json": formats.JSON,
    "tokenizer_config.json": formats.JSON,
    "chat_template.json": formats.JSON,
    "processor_config.json": formats.JSON,
    "chat_template.jinja": formats.JINJA,
}
PYTHON_SUFFIXES = (".py", ".pyw")
# Primary formats a name may replace: the bytes found nothing more specific.
_TEXTUAL = frozenset({formats.TEXT, formats.UNKNOWN, formats.JSON, formats.JINJA})


def _trial(decompressor: zlib._Decompress | lzma.LZMADecompressor, data: bytes) -> bool:
    """The first bytes decompress without error (a cheap validation of a bare stream header)."""
    try:
        decompressor.decompress(data, 64)
    except (zlib.error, lzma.LZMAError, EOFError, ValueError):
        return False
    return True


def _is_zlib(head: bytes) -> bool:
    if len(head) < 2 or head[0] != 0x78 or (head[0] << 8 | head[1]) % 31 or head[1] & 0x20:
        return False
    return _trial(zlib.decompressobj(15), head[:4096])


def _is_lzma_alone(head: bytes) -> bool:
    if len(head) < 13 or head[0] > 224:
        return False
    dict_size, size = struct.unpack_from("<IQ", head, 1)
    if dict_size < 4096 or (size != 0xFFFFFFFFFFFFFFFF and size > 1 << 42):
        return False
    decompressor = lzma.LZMADecompressor(lzma.FORMAT_ALONE, memlimit=LZMA_TRIAL_MEMLIMIT)
    try:
        decompressor.decompress(head[:4096], 64)
    except lzma.LZMAError as exc:
        # Over the trial's memory limit: an LZMA header with a dictionary of the sizes encoders
        # write (2^n or 2^n + 2^(n-1)) is one; the compressed analyzer bounds the rest.
        return "memory" in str(exc).lower() and _encoder_dict_size(dict_size)
    except (EOFError, ValueError):
        return False
    return True


def _encoder_dict_size(size: int) -> bool:
    top = size.bit_length() - 1
    return size in (1 << top, (1 << top) | (1 << (top - 1)))


def _is_bz2(head: bytes) -> bool:
    return (
        len(head) >= 10
        and head[:3] == b"BZh"
        and 0x31 <= head[3] <= 0x39
        and head[4:10]
        in (
            b"1AY&SY",
            b"\x17rE8P\x90",
        )
    )


def _is_hdf5(head: bytes) -> bool:
    # The superblock is at 0 or after a user block of 512, 1024, 2048 … bytes (probed within the head).
    return any(head[offset : offset + 8] == HDF5_MAGIC for offset in (0, 512, 1024, 2048, 4096))


class _HeadFirst:
    """Serves reads inside the already-read head from memory (the protobuf probes), others from ``src``."""

    def __init__(self, src: ByteSource, head: bytes):
        self._src = src
        self._head = head

    @property
    def size(self) -> int:
        return self._src.size

    @property
    def bytes_read(self) -> int:
        return self._src.bytes_read

    def read_at(self, offset: int, length: int) -> bytes:
        if offset + length <= len(self._head) or len(self._head) >= self._src.size:
            return self._head[offset : offset + length]
        return self._src.read_at(offset, length)


def _is_safetensors(src: ByteSource, head: bytes) -> bool:
    if len(head) < 10:
        return False
    (length,) = struct.unpack_from("<Q", head, 0)
    return 2 <= length <= min(MAX_SAFETENSORS_HEADER, src.size - 8) and head[8:9] == b"{" and head[9:10] in b' "}\n\t'


def _is_gguf(head: bytes) -> bool:
    if len(head) < 8 or head[:4] != b"GGUF":
        return False
    little, big = struct.unpack_from("<I", head, 4)[0], struct.unpack_from(">I", head, 4)[0]
    return 1 <= little <= 16 or 1 <= big <= 16


def _pickle_kind(head: bytes) -> str:
    return formats.JOBLIB if any(m in head for m in JOBLIB_MARKERS) else formats.PICKLE


def _zip_kind(src: ByteSource) -> str:
    try:
        return classify_zip(src, DEFAULT_LIMITS)
    except (MalformedInput, LimitExceeded):
        return formats.ZIP  # the zip analyzer reports why


def _magic(src: ByteSource, head: bytes) -> str | None:
    """Formats recognised by a signature (validated beyond the first bytes where it is short)."""
    if head.startswith(ZIP_MAGICS):
        return _zip_kind(src)
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return formats.SEVEN_ZIP
    if head.startswith(b"\x1f\x8b\x08"):
        return formats.GZIP
    if _is_bz2(head):
        return formats.BZ2
    if head.startswith(b"\xfd7zXZ\x00"):
        return formats.XZ
    if head.startswith(b"\x04\x22\x4d\x18"):
        return formats.LZ4
    if head.startswith(b"\x93NUMPY") and len(head) > 8 and head[6] in (1, 2, 3):
        return formats.NUMPY
    if _is_gguf(head):
        return formats.GGUF
    if head[:1] == b"\x80" and len(head) > 2 and head[1] <= 5 and head[2] in PICKLE_OPCODES:
        return _pickle_kind(head)
    if head.startswith(JOBLIB_ZFILE):
        return formats.ZLIB
    if _is_zlib(head):
        return formats.ZLIB
    if _is_hdf5(head):
        return formats.HDF5
    if _is_safetensors(src, head):
        return formats.SAFETENSORS
    if tar_header_ok(head[:512]):
        try:
            return classify_tar(src)
        except (tarfile.TarError, OSError, ValueError, LimitExceeded):
            return formats.TAR  # the tar analyzer reports why
    return None


def _protobuf(src: ByteSource) -> str | None:
    from malhug.analyzers.shared import protobuf  # only files no signature identified

    if protobuf.is_onnx(src):
        return formats.ONNX
    if protobuf.is_saved_model(src):
        return formats.SAVEDMODEL
    if protobuf.is_keras_metadata(src):
        return formats.KERAS_METADATA
    return None


def _zip_at_end(src: ByteSource) -> bool:
    """An end-of-central-directory record closes the file: a zip with data before it."""
    return src.size >= 22 and src.read_at(src.size - 22, 4) == b"PK\x05\x06"


def _by_bytes(src: ByteSource, head: bytes, name: str, limits: Limits) -> str:
    """The format the bytes show (``name`` only breaks ties between text interpretations)."""
    if not head:
        return formats.TEXT
    found = _magic(src, head)
    if found is not None:
        return found
    if looks_like_pickle(head, src.size):
        return _pickle_kind(head)
    found = _protobuf(_HeadFirst(src, head))
    if found is not None:
        return found
    if _is_lzma_alone(head):
        return formats.XZ
    if _zip_at_end(src):
        return _zip_kind(src)
    # The whole text is read only when the name does not decide (a ``.py`` is Python anyway).
    named = _base_name(name).endswith(PYTHON_SUFFIXES) or _base_name(name) in NAMED_FORMATS
    return classify_source(src, head, name, limits.max_source_bytes, whole=not named)


def _base_name(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def detect_analyses(src: ByteSource, name: str = "", limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Every format ``src`` is analyzed as, the primary (the report's ``format``) first.

    Entries after the first are analyzer formats; the first may be ``text``/``unknown`` (no analyzer).
    """
    head = src.read_at(0, WINDOW)
    analyses = [_by_bytes(src, head, name, limits)]
    base = _base_name(name)
    named = formats.PYTHON if base.endswith(PYTHON_SUFFIXES) else NAMED_FORMATS.get(base)
    if named is not None and named != analyses[0]:
        if analyses[0] in _TEXTUAL:
            analyses[0] = named
        elif named == formats.PYTHON:
            analyses.append(named)  # Python imports it whatever else it is (and fails, or runs it)
    if analyses[0] not in (formats.PICKLE, formats.JOBLIB) and head:
        reach = walk(src, limits, head)
        if reach.reached is not None:
            if analyses[0] == formats.UNKNOWN:
                analyses[0] = _pickle_kind(head)
            else:
                analyses.append(formats.PICKLE)
    return analyses


def after_pickle(src: ByteSource) -> list[str]:
    """What else ``src`` is read as when bytes follow its pickle stream (the dispatcher asks after a
    pickle analysis): a zip closing it (zipfile reads a zip from its end, whatever precedes it), and
    a protobuf message (ONNX, SavedModel) that starts at offset 0, since its first fields can also be
    a complete pickle. Every other primary from the head was checked for both already."""
    found = [_zip_kind(src)] if _zip_at_end(src) else []
    proto = _protobuf(src)
    if proto is not None:
        found.append(proto)
    return found


def detect_format(src: ByteSource, name: str = "", limits: Limits = DEFAULT_LIMITS) -> str:
    """The one format a container member is handed to: the first of ``detect_analyses`` that has an
    analyzer (a text file whose bytes the unpickler runs to a call is a pickle), else the primary."""
    analyses = detect_analyses(src, name, limits)
    return next((fmt for fmt in analyses if fmt in formats.ANALYZERS), analyses[0])


# What a sniff of an unselected file looks for: formats an analyzer reads whose loaders can run code.
# Text is read as data unless its name says otherwise (``.py``, ``config.json``: selected by name).
_DATA_TEXT = frozenset({formats.PYTHON, formats.JSON, formats.JINJA, formats.TEXT, formats.UNKNOWN})


def sniff_head(head: bytes, size: int, name: str = "", limits: Limits = DEFAULT_LIMITS) -> str | None:
    """What the first bytes (``head``) of a ``size``-byte file show, for a scan that reads only those:
    the first non-text format of ``detect_analyses`` an analyzer reads (a pickle, a text-looking pickle
    the unpickler runs, a zip, NumPy, HDF5, …), or None when they show text or nothing known.

    Reads past ``head`` find nothing (a cut pickle counts as reached, ``pickle/reach.py``). When
    detection itself fails on the head, the answer is ``unknown``: the full scan reports why."""
    try:
        analyses = detect_analyses(HeadSource(head, size), name, limits)
    except (LimitExceeded, MalformedInput, RecursionError, ValueError) as exc:
        log.info("sniffing %s: %r; to be scanned whole", name, exc)
        return formats.UNKNOWN
    return next((fmt for fmt in analyses if fmt in formats.ANALYZERS and fmt not in _DATA_TEXT), None)
