"""The local Hugging Face cache, read without the network.

Layout (huggingface_hub's): ``<cache>/models--org--name/{refs/<ref>, snapshots/<sha>/<path>, blobs/<id>}``
(``datasets--`` for datasets); snapshot files link to blobs named by their content id (the LFS sha256,
or the git blob id for small files). A blob found here is never downloaded again, whichever commit
the scan is for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from malhug.hub.remote import FULL_SHA, SHA256

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalFile:
    path: str  # inside the repository
    disk: Path  # the real file (the blob)
    size: int
    content_id: str | None  # sha256:<hex> or git:<hex>, from the blob's name


def repo_folder(cache_dir: Path, repo_type: str, repo_id: str) -> Path:
    return cache_dir / f"{repo_type}s--{repo_id.replace('/', '--')}"


def content_id_of_blob(name: str) -> str | None:
    if SHA256.match(name):
        return f"sha256:{name}"
    if FULL_SHA.match(name):
        return f"git:{name}"
    return None


def resolve_revision(cache_dir: Path, repo_type: str, repo_id: str, revision: str | None) -> str | None:
    """The commit a revision names in the cache (a full sha with a snapshot, or a stored ref)."""
    folder = repo_folder(cache_dir, repo_type, repo_id)
    rev = revision or "main"
    if FULL_SHA.match(rev):
        return rev if (folder / "snapshots" / rev).is_dir() else None
    ref = folder / "refs" / rev
    if ".." in Path(rev).parts or not ref.is_file():
        return None
    try:
        sha = ref.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return sha if FULL_SHA.match(sha) and (folder / "snapshots" / sha).is_dir() else None


def snapshot_files(cache_dir: Path, repo_type: str, repo_id: str, commit: str) -> list[LocalFile]:
    """Files present in a cached snapshot (a snapshot may hold only some of the revision's files)."""
    root = repo_folder(cache_dir, repo_type, repo_id) / "snapshots" / commit
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            link = Path(dirpath) / fn
            try:
                disk = link.resolve(strict=True)
                size = disk.stat().st_size
            except OSError as exc:
                log.info("cache entry %s unreadable: %s", link, exc)
                continue
            out.append(LocalFile(link.relative_to(root).as_posix(), disk, size, content_id_of_blob(disk.name)))
    return out


def find_blob(cache_dir: Path, repo_type: str, repo_id: str, content_id: str) -> Path | None:
    """A cached blob with this content id (``sha256:…`` or ``git:…``), if any."""
    name = content_id.split(":", 1)[-1]
    if content_id_of_blob(name) != content_id:
        return None  # not a well-formed id: never a path
    blob = repo_folder(cache_dir, repo_type, repo_id) / "blobs" / name
    return blob if blob.is_file() else None


@dataclass(frozen=True)
class CachedRevision:
    repo_type: str
    repo_id: str
    commit: str
    refs: tuple[str, ...]


def iter_cached_revisions(cache_dir: Path) -> Iterator[CachedRevision]:
    """Every snapshot of every model and dataset in the cache (like ``scan_cache_dir``, without its errors on odd folders)."""
    if not cache_dir.is_dir():
        return
    for folder in sorted(cache_dir.iterdir()):
        kind, sep, rest = folder.name.partition("s--")
        if not sep or kind not in ("model", "dataset") or not (folder / "snapshots").is_dir():
            continue
        repo_id = rest.replace("--", "/")
        refs: dict[str, list[str]] = {}
        refs_dir = folder / "refs"
        if refs_dir.is_dir():
            for ref in refs_dir.rglob("*"):
                if ref.is_file():
                    try:
                        refs.setdefault(ref.read_text(encoding="utf-8").strip(), []).append(
                            ref.relative_to(refs_dir).as_posix()
                        )
                    except OSError as exc:
                        log.info("cache ref %s unreadable: %s", ref, exc)
        for snap in sorted((folder / "snapshots").iterdir()):
            if snap.is_dir() and FULL_SHA.match(snap.name):
                yield CachedRevision(kind, repo_id, snap.name, tuple(sorted(refs.get(snap.name, []))))
