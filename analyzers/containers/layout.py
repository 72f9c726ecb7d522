"""Which kind of zip or tar a container is, from its directory (names only, no member data)."""

from __future__ import annotations

import tarfile

from malhug.analyzers import formats
from malhug.analyzers.limits import Limits
from malhug.analyzers.shared.slices import BoundedSourceIO
from malhug.analyzers.shared.source import ByteSource
from malhug.analyzers.shared.ziparchive import ZipArchive

LEGACY_TORCH_TAR = {"sys_info", "pickle", "storages", "tensors"}
TAR_BLOCK = 512


def zip_kind(names: list[str]) -> str:
    """``pytorch-zip``, ``keras-v3``, ``npz`` or ``zip`` for an archive with these member names."""
    files = [n for n in names if not n.endswith("/")]
    if any(n.endswith("/data.pkl") or n == "data.pkl" for n in files):
        return formats.PYTORCH_ZIP
    if any(n.endswith(".pkl") for n in files) and any("/data/" in f"/{n}" for n in files):
        return formats.PYTORCH_ZIP
    top = set(files)
    if "config.json" in top and ("metadata.json" in top or "model.weights.h5" in top):
        return formats.KERAS_V3
    if files and all(n.endswith(".npy") for n in files):
        return formats.NPZ
    return formats.ZIP


def classify_zip(src: ByteSource, limits: Limits) -> str:
    archive = ZipArchive(src, limits)
    return zip_kind([m.name for m in archive.members])


def tar_header_ok(block: bytes) -> bool:
    """A valid tar header block: non-empty name and a matching checksum (ustar, GNU or v7)."""
    if len(block) < TAR_BLOCK or block[0] == 0:
        return False
    raw = block[148:156].replace(b"\x00", b" ").strip()
    if not raw or any(c not in b"01234567" for c in raw):
        return False
    stored = int(raw, 8)
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:TAR_BLOCK])
    return stored == unsigned


def tar_names(src: ByteSource, limit: int) -> list[str]:
    """Names of the first ``limit`` tar members (headers only; data is skipped by seeking)."""
    names: list[str] = []
    with tarfile.open(fileobj=BoundedSourceIO(src), mode="r:") as tar:
        while len(names) < limit:
            info = tar.next()
            if info is None:
                break
            names.append(info.name)
    return names


def classify_tar(src: ByteSource) -> str:
    try:
        names = tar_names(src, 16)
    except (tarfile.TarError, RecursionError):
        # tarfile reads a chain of GNU long-name / pax headers recursively: thousands of them
        # exhaust the stack. Not a legacy torch file then; the tar analyzer reports the chain.
        return formats.TAR
    return formats.PYTORCH_TAR if {n.strip("./") for n in names} >= LEGACY_TORCH_TAR - {"sys_info"} else formats.TAR
