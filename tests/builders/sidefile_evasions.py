"""Evasions where the scanned file is innocent and what loading runs is elsewhere: in a side file the
loader opens, or in bytes a linear reader (``pickletools``) sees as data. Built from the published
descriptions:

- joblib < 0.10 (``joblib.numpy_pickle_compat``): ``NDArrayWrapper`` makes ``joblib.load`` call
  ``np.load(<folder>/<filename>, allow_pickle=True)`` on the array file beside the pickle;
- sharded checkpoints (transformers' ``pytorch_model.bin.index.json``): ``from_pretrained`` loads
  every shard ``weight_map`` names;
- CPython gh-154848: a FRAME whose declared length disagrees with its opcodes; an older C unpickler
  loading the file runs opcodes ``pickletools`` shows inside a byte string (also where only one
  combination of frames read as blocks or through the buffer runs the call, and where a second
  ``pickle.load`` starts after the frame the first one stopped in);
- Keras HDF5 (h5py "External links"): reading the model makes libhdf5 open the file an external
  link names; that file's Lambda layer runs the command.

``SIDEFILE_EVASIONS`` and ``SIDEFILE_LOOKALIKES`` map a case name to a builder taking a scratch folder
and returning the files of the case, ``{relative path: bytes}``, the file a user scans first. Nothing
is ever loaded.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from pathlib import Path

from tests.builders.pickles import call, pickle_of
from tests.builders.torchfiles import poisoned_torch_zip, small_state_dict, torch_save_bytes

ECHO = "echo malhug-sidefile"
Files = dict[str, bytes]


def _npy(descr: str, shape: tuple[int, ...], body: bytes) -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin-1") + body


def legacy_joblib_pickle(*filenames: str) -> bytes:
    """joblib 0.9's pickle: a list of NDArrayWrapper objects naming their array files."""
    out = b"\x80\x02]("
    for name in filenames:
        raw = name.encode()
        out += b"cjoblib.numpy_pickle\nNDArrayWrapper\n)\x81}("
        out += b"X\x08\x00\x00\x00filename" + b"X" + len(raw).to_bytes(4, "little") + raw
        out += b"X\x08\x00\x00\x00subclasscnumpy\nndarray\nX\n\x00\x00\x00allow_mmap\x89ub"
    return out + b"e."


def joblib_legacy_array(_: Path) -> Files:
    payload = pickle_of([call("posix.system", ECHO)], protocol=2)
    return {"model.pkl": legacy_joblib_pickle("model.pkl_01.npy"), "model.pkl_01.npy": _npy("|O", (1,), payload)}


def _index(*shards: str) -> bytes:
    return json.dumps(
        {"metadata": {"total_size": 64}, "weight_map": {f"w{i}": s for i, s in enumerate(shards)}}
    ).encode()


def sharded_index_poisoned_shard(_: Path) -> Files:
    return {
        "pytorch_model.bin.index.json": _index("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"),
        "pytorch_model-00001-of-00002.bin": torch_save_bytes(small_state_dict()),
        "pytorch_model-00002-of-00002.bin": poisoned_torch_zip("archive", [call("posix.system", ECHO)]),
    }


_FRAMED_CALL = b"\x8c\x05posix\x8c\x06system\x93\x8c" + bytes([len(ECHO)]) + ECHO.encode() + b"\x85R."


def _frame(size: int) -> bytes:
    return b"\x95" + struct.pack("<Q", size)


def frame_straddling_bytes(_: Path) -> Files:
    """gh-154848: BINBYTES whose data runs past its frame; pickletools sees two byte strings."""
    body = b"B" + struct.pack("<I", 16) + b"\x00" * 5
    block = b"A" * 11 + b"B" + struct.pack("<I", len(_FRAMED_CALL) - 1)
    return {"model.pkl": b"\x80\x04" + _frame(len(body)) + body + block + _FRAMED_CALL}


def frame_nested_overlong(_: Path) -> Files:
    """A FRAME inside a frame and longer than it: the block reader starts it at the outer frame's end."""
    tail = b"B" + struct.pack("<I", len(_FRAMED_CALL) - 1)
    inner = _frame(len(_FRAMED_CALL))
    return {"model.pkl": b"\x80\x04" + _frame(len(inner) + len(tail)) + inner + tail + _FRAMED_CALL}


def _string_gadget(m: int, hidden: bytes, lead: int = 8) -> bytes:
    """A SHORT_BINUNICODE with ``m`` bytes before a block's end: a block reader drops them and runs
    ``hidden``; a linear reader swallows ``hidden`` in a SHORT_BINBYTES."""
    return (
        b"\x8c"
        + bytes([m + lead])
        + b"_" * m
        + b"x" * lead
        + b"C"
        + bytes([m - 2 + len(hidden)])
        + b"z" * (m - 2)
        + hidden
    )


def frame_mixed_readings(_: Path) -> Files:
    """Two disagreeing frames; the call runs only when the first is read through the unpickler's
    buffer and the second as a block (a buffered file whose second frame crosses the buffer)."""
    call_ops = _FRAMED_CALL[:-1]
    second = _frame(4) + _string_gadget(2, call_ops)
    body = b"\x8c" + bytes([2 + len(second)]) + b"_" * len(second)
    return {"model.pkl": b"\x80\x04" + _frame(len(body)) + body + b"xx" + second + b"."}


def frame_stop_inside(_: Path) -> Files:
    """The first pickle stops inside its frame: a second ``pickle.load`` on the file starts after the
    frame, where a linear reader sees a MARK and a bytes object."""
    second = b"\x80\x04" + _FRAMED_CALL
    body = b"N." + b"(C" + bytes([len(second) - 1])
    return {"model.pkl": b"\x80\x04" + _frame(len(body)) + body + second}


def _h5_with(model: bytes, *, link: str | None = None, raw: str | None = None) -> bytes:
    import h5py

    buf = io.BytesIO(model)
    with h5py.File(buf, "a") as f:
        if link is not None:
            f["/model_weights/extra"] = h5py.ExternalLink(link, "/")
        if raw is not None:
            f.create_dataset("/model_weights/raw", shape=(4,), dtype="float32", external=[(raw, 0, 16)])
    return buf.getvalue()


def keras_h5_external_link(_: Path) -> Files:
    from tests.builders.keras import h5_model

    return {
        "model.h5": _h5_with(h5_model(), link="weights.h5"),
        "weights.h5": h5_model(f"os.system({ECHO!r}) or x"),
    }


def keras_h5_external_raw_benign(_: Path) -> Files:
    from tests.builders.keras import h5_model

    return {"model.h5": _h5_with(h5_model(), raw="model.raw"), "model.raw": b"\x00" * 16}


def joblib_legacy_benign(_: Path) -> Files:
    return {
        "model.pkl": legacy_joblib_pickle("model.pkl_01.npy"),
        "model.pkl_01.npy": _npy("<f4", (4,), b"\x00" * 16),
    }


def sharded_index_benign(_: Path) -> Files:
    return {
        "pytorch_model.bin.index.json": _index("pytorch_model-00001-of-00001.bin"),
        "pytorch_model-00001-of-00001.bin": torch_save_bytes(small_state_dict()),
    }


SIDEFILE_EVASIONS: dict[str, Callable[[Path], Files]] = {
    "joblib-legacy-array-file": joblib_legacy_array,
    "sharded-index-poisoned-shard": sharded_index_poisoned_shard,
    "frame-straddling-bytes": frame_straddling_bytes,
    "frame-nested-overlong": frame_nested_overlong,
    "frame-mixed-readings": frame_mixed_readings,
    "frame-stop-inside": frame_stop_inside,
    "keras-h5-external-link": keras_h5_external_link,
}
SIDEFILE_LOOKALIKES: dict[str, Callable[[Path], Files]] = {
    "joblib-legacy-benign": joblib_legacy_benign,
    "sharded-index-benign": sharded_index_benign,
    "keras-h5-external-raw-benign": keras_h5_external_raw_benign,
}
