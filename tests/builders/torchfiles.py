"""Real PyTorch checkpoints (``torch.save``) and poisoned copies of them.

The clean checkpoint is written by torch itself; the poisoned one keeps every record of it and only
changes ``<folder>/data.pkl`` (the folder is the archive name, e.g. ``pytorch_model`` or ``12``), which is
what injection tools do to real models. Records are rewritten with torch's own zip writer so the
layout (alignment, ``version``, ``byteorder``, ``.data/serialization_id``) stays the one torch produces.
"""

from __future__ import annotations

import io
import pickletools
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from tests.builders.pickles import Call, inject_after_header, pickle_of


def small_state_dict(seed: int = 0) -> dict[str, Any]:
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    return model.state_dict()  # an OrderedDict, as in real checkpoints


def torch_save_bytes(obj: Any, **kwargs: Any) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf, **kwargs)
    return buf.getvalue()


def read_records(checkpoint: bytes) -> dict[str, bytes]:
    """Records of a torch zip without its archive folder prefix (our own fixture, read as a zip)."""
    with zipfile.ZipFile(io.BytesIO(checkpoint)) as zf:
        out = {}
        for name in zf.namelist():
            _, _, record = name.partition("/")
            out[record] = zf.read(name)
        return out


def write_torch_zip(folder: str, records: dict[str, bytes]) -> bytes:
    """A zip laid out by torch's writer with archive folder ``folder``."""
    import torch

    with tempfile.TemporaryDirectory(prefix="malhug-fixture-") as tmp:
        path = Path(tmp) / f"{folder}.bin"
        writer = torch._C.PyTorchFileWriter(str(path))
        for name, data in records.items():
            if name in ("version", ".data/serialization_id", "byteorder"):
                continue  # the writer adds these itself
            writer.write_record(name, data, len(data))
        writer.write_end_of_file()
        del writer
        return path.read_bytes()


def poisoned_torch_zip(
    folder: str,
    calls: list[Call] | tuple[Call, ...],
    *,
    mode: str = "prepend",
    protocol: int = 2,
    state_dict: dict[str, Any] | None = None,
) -> bytes:
    """A real checkpoint whose ``data.pkl`` runs ``calls`` when loaded.

    ``prepend``: the calls run (and their results are popped) before the real state dict is built;
    ``replace``: ``data.pkl`` is only the payload and the last call's result is the loaded object
    (the ``eval("exec(...) or dict()")`` shape), written with ``protocol``.
    """
    records = read_records(torch_save_bytes(state_dict if state_dict is not None else small_state_dict()))
    original = records["data.pkl"]
    if mode == "prepend":
        records["data.pkl"] = inject_after_header(original, calls)
    elif mode == "replace":
        records["data.pkl"] = pickle_of(calls, protocol=protocol)
    else:
        raise ValueError(f"unknown mode {mode!r}")
    return write_torch_zip(folder, records)


def poisoned_data_pkl(calls: list[Call] | tuple[Call, ...], state_dict: dict[str, Any] | None = None) -> bytes:
    """A real checkpoint's ``data.pkl`` on its own (an extracted ``archive/data.pkl``) with ``calls``
    run before the state dict is built."""
    records = read_records(torch_save_bytes(state_dict if state_dict is not None else small_state_dict()))
    return inject_after_header(records["data.pkl"], calls)


def _pickle_spans(data: bytes) -> list[tuple[int, int]]:
    """Start/end offsets of consecutive pickles at the start of ``data`` (parsed, never loaded)."""
    spans = []
    pos = 0
    stream = io.BytesIO(data)
    for _ in range(4):  # magic number, protocol version, sys_info, the object
        stream.seek(pos)
        for _ in pickletools.genops(stream):
            pass
        end = stream.tell()
        spans.append((pos, end))
        pos = end
    return spans


def poisoned_legacy_torch(calls: list[Call] | tuple[Call, ...], state_dict: dict[str, Any] | None = None) -> bytes:
    """A legacy (non-zip, ``_use_new_zipfile_serialization=False``) checkpoint with ``calls`` run
    before the object pickle (the fourth stacked pickle) builds the state dict."""
    data = torch_save_bytes(
        state_dict if state_dict is not None else small_state_dict(), _use_new_zipfile_serialization=False
    )
    start, end = _pickle_spans(data)[3]
    return data[:start] + inject_after_header(data[start:end], calls) + data[end:]
