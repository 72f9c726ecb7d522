"""Side files: files a scanned file names and its loader opens, scanned as part of the naming file.

Cases (each analyzer finds its names and calls ``follow``):

- joblib's legacy format (joblib < 0.10): the pickle holds ``NDArrayWrapper`` objects whose
  ``filename`` names a ``.npy`` file beside it, and ``joblib.load`` calls ``np.load(that file,
  allow_pickle=True)``: an object array there is a pickle that runs;
- sharded checkpoints: ``*.index.json`` names its shards in ``weight_map``;
- ONNX external data (``TensorProto.external_data`` ``location``): raw tensor bytes, only checked to
  be there (``onnx.load`` fails without them; nothing in them runs);
- Keras HDF5 files (``keras/hdf5.py``): the file an external link names and the source files of
  virtual datasets are scanned (HDF5 that libhdf5 parses when h5py reads the model); the raw data
  files of datasets with external storage are only checked to be there.

The names are untrusted: an absolute path, a drive letter or ``..`` above the folder is refused
(MH210), and the reader the caller installs (``ScanContext.side_files``) refuses links that leave
the folder. A named file that is missing is MH211 (suspicious: the loader reads something we could
not see). The side file is analyzed one nesting level down, as the member ``side:<name>``, so its
findings appear in the naming file's report with the side file's name and their own rule.
"""

from __future__ import annotations

import logging
import os
import posixpath
from pathlib import Path

from malhug.analyzers.context import ScanContext
from malhug.analyzers.shared.paths import escapes_folder
from malhug.analyzers.shared.source import ByteSource, FileSource
from malhug.core import failures
from malhug.core.model import Location
from malhug.core.rules import finding

SIDE_ESCAPES = "MH210"
SIDE_MISSING = "MH211"
PREFIX = "side:"
log = logging.getLogger(__name__)


def follow(
    ctx: ScanContext, name: str, *, why: str, offset: int | None = None, analyze: bool = True, once: bool = False
) -> None:
    """Scan the side file ``name`` (relative to the scanned file's folder) as part of this file;
    with ``analyze=False`` only check that it is there (ONNX external data: raw tensor bytes).

    ``once``: the loader opens the side file exactly as a scan of it alone reads it (a checkpoint
    shard, by its own name), so when the same scan also scans it on its own (a folder or a revision
    scanned whole: ``side_files.scanned_alone``) it is only checked to be there; its findings are
    reported once, on its own report. MH210/MH211 are unchanged."""
    if ctx.side_files is None:
        return  # bytes with no folder: nothing to follow
    where = Location(offset=offset)
    if not name or "\x00" in name or escapes_folder(name):
        ctx.add(
            finding(
                SIDE_ESCAPES,
                f"{why} names {name!r}, outside the file's folder: not followed",
                location=where,
                evidence=name,
            )
        )
        return
    key = posixpath.normpath(name.replace("\\", "/"))
    if key in ctx.side_seen:
        return
    if len(ctx.side_seen) >= ctx.limits.max_side_files:
        ctx.add(
            failures.over_limit(
                f"{why} names more than {ctx.limits.max_side_files} side files: {key} not followed",
                location=where,
                evidence=key,
            )
        )
        return
    ctx.side_seen.add(key)
    src = ctx.side_files.open(key)
    if src is None:
        ctx.add(
            finding(
                SIDE_MISSING,
                f"{why} names {key}, which is not beside it (or leaves its folder through a link)",
                location=where,
                evidence=key,
            )
        )
        return
    try:
        if analyze and not (once and ctx.side_files.scanned_alone(key)):
            ctx.scan_nested(src, f"{PREFIX}{key}")
    finally:
        close = getattr(src, "close", None)
        if close is not None:
            close()


class FolderSideFiles:
    """Side files from the local folder of the scanned file (the CLI, folder scans, the editor).

    A name is looked up below ``folder`` only: a link (or a ``..`` that survives normalisation)
    that resolves outside the folder is treated as missing.
    """

    def __init__(self, folder: str | os.PathLike[str], alone: frozenset[Path] = frozenset()):
        self.folder = Path(folder).resolve()
        self.alone = alone  # the resolved paths the same folder scan scans on their own

    def scanned_alone(self, name: str) -> bool:
        return (self.folder / name).resolve() in self.alone

    def open(self, name: str) -> ByteSource | None:
        target = (self.folder / name).resolve()
        if not target.is_relative_to(self.folder) or not target.is_file():
            return None
        try:
            return FileSource(target)
        except OSError as exc:
            log.info("side file %s not readable: %s", target, exc)
            return None
