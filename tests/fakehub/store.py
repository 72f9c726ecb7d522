"""The fake Hub's on-disk repositories: layout, reading, and a small builder API.

Layout (hand-writable for demos, written by :class:`FakeRepo` in tests)::

    ROOT/
      models/ORG/NAME/                 (datasets/ORG/NAME/ for datasets)
        repo.json                      optional settings, see below
        commits/
          0001/                        one folder per commit, oldest first (sorted by name)
            .fakehub.json              optional: {"title", "date", "sha", "parent", "lfs_oids", "security"}
            config.json                the commit's full file tree
            pytorch_model.bin
          0002/ ...

``repo.json``: ``{"private": false, "gated": false | "auto" | "manual", "tokens": ["hf_..."],
"branches": {"main": "0002"}, "tags": {"v1": "0001"}, "security": {...repo securityRepoStatus...},
"disabled": false}``. Branch and tag targets name a commit folder or a commit sha; ``main`` defaults to
the last commit folder. A commit's sha is ``.fakehub.json``'s ``sha`` or a stable sha1 of its folder;
its parent is ``parent`` (a folder name) or the previous folder. Files whose names match
:data:`LFS_PATTERNS` (or larger than 10 MiB) are served as LFS files (302 to the CDN origin); their
sha256 is computed once (cached) unless ``lfs_oids`` declares it (sparse multi-GiB files do that).
``security`` maps a path to the Hub's ``securityFileStatus`` object for that file.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fakehub.listing import Summary

LFS_PATTERNS = (
    "*.bin", "*.pt", "*.pth", "*.pkl", "*.pickle", "*.ckpt", "*.h5", "*.hdf5", "*.keras", "*.safetensors",
    "*.msgpack", "*.onnx", "*.gguf", "*.zip", "*.npy", "*.npz", "*.joblib", "*.tar", "*.tar.gz", "*.tgz",
    "*.gz", "*.bz2", "*.xz", "*.7z", "*.lz4", "*.zst", "*.pb", "*.tflite", "*.model", "*.ot", "*.arrow",
    "*.parquet", "*.dill", "*.sav", "*.mar",
)  # fmt: skip
LFS_MIN_SIZE = 10 * 2**20
SIDE = ".fakehub.json"
REPO_JSON = "repo.json"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class NotFound(Exception):
    """Maps to an HTTP error with ``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SparseFile:
    """A large file with a few written regions and holes elsewhere (a 4 GiB zip costs a few KB of disk).

    ``chunks`` are ``(offset, data)``; negative offsets count from the end. ``oid`` is the declared LFS
    sha256 (hashing 4 GiB of zeros in every test run is not worth it); it defaults to a digest of the
    description, which is stable for the same content.
    """

    size: int
    chunks: tuple[tuple[int, bytes], ...]
    oid: str | None = None

    def declared_oid(self) -> str:
        if self.oid:
            return self.oid
        h = hashlib.sha256(f"sparse:{self.size}".encode())
        for off, data in self.chunks:
            h.update(f":{off}:{len(data)}:".encode())
            h.update(data)
        return h.hexdigest()

    def write(self, path: Path) -> None:
        with open(path, "wb") as fh:
            fh.truncate(self.size)
            for off, data in self.chunks:
                fh.seek(off if off >= 0 else self.size + off)
                fh.write(data)


FileContent = bytes | str | SparseFile | Path


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest()


def lfs_pointer(oid: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


def is_lfs(path: str, size: int) -> bool:
    name = path.rsplit("/", 1)[-1]
    return size >= LFS_MIN_SIZE or any(fnmatch.fnmatch(name, pat) for pat in LFS_PATTERNS)


@dataclass
class Entry:
    path: str
    disk: Path | None  # None for generated content (``blob``)
    size: int
    lfs_oid: str | None  # sha256 of the content for LFS files
    blob_id: str
    security: dict[str, Any] | None = None
    blob: Any = None  # tests.fakehub.content.Blob of a generated file

    def to_json(self, commit: Commit, expand: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "file", "oid": self.blob_id, "size": self.size, "path": self.path}
        if self.lfs_oid is not None:
            data["lfs"] = {
                "oid": self.lfs_oid,
                "size": self.size,
                "pointerSize": len(lfs_pointer(self.lfs_oid, self.size)),
            }
        if expand:
            data["lastCommit"] = {"id": commit.sha, "title": commit.title, "date": commit.date}
            if self.security is not None:
                data["securityFileStatus"] = {
                    "status": self.security.get("status", "unscanned"),
                    "avScan": self.security.get("avScan", {"virusFound": False, "virusNames": None}),
                    "pickleImportScan": self.security.get("pickleImportScan"),
                    **{k: v for k, v in self.security.items() if k not in ("status", "avScan", "pickleImportScan")},
                }
        return data


@dataclass
class Commit:
    name: str  # folder name
    sha: str
    title: str
    date: str
    parent: str | None  # folder name
    folder: Path
    side: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.sha,
            "title": self.title,
            "message": self.side.get("message", ""),
            "date": self.date,
            "authors": [{"user": "fakehub", "avatar": None}],
        }


class HashCache:
    """sha256 / blob ids of files, computed once per (inode, size, mtime)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sha: dict[tuple[int, int, int], str] = {}
        self._blob: dict[tuple[int, int, int], str] = {}

    @staticmethod
    def _key(path: Path) -> tuple[int, int, int]:
        st = path.stat()
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def sha256(self, path: Path) -> str:
        key = self._key(path)
        with self._lock:
            if key in self._sha:
                return self._sha[key]
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        with self._lock:
            self._sha[key] = h.hexdigest()
        return self._sha[key]

    def blob_id(self, path: Path) -> str:
        key = self._key(path)
        with self._lock:
            if key in self._blob:
                return self._blob[key]
        value = git_blob_id(path.read_bytes())
        with self._lock:
            self._blob[key] = value
        return value


class Repo:
    """One repository read from disk (re-read on every request: the folder may change under a test)."""

    def __init__(self, root: Path, repo_type: str, repo_id: str, hashes: HashCache):
        self.root = root
        self.repo_type = repo_type
        self.repo_id = repo_id
        self.hashes = hashes
        self.folder = root / f"{repo_type}s" / repo_id
        if not (self.folder / "commits").is_dir() or ".." in repo_id.split("/"):
            raise NotFound("RepoNotFound", f"{repo_type} {repo_id} not found")
        settings = self.folder / REPO_JSON
        self.settings: dict[str, Any] = json.loads(settings.read_text()) if settings.is_file() else {}
        self.commits = self._read_commits()
        if not self.commits:
            raise NotFound("RepoNotFound", f"{repo_type} {repo_id} has no commits")

    def _read_commits(self) -> list[Commit]:
        out = []
        names = sorted(p.name for p in (self.folder / "commits").iterdir() if p.is_dir())
        for i, name in enumerate(names):
            folder = self.folder / "commits" / name
            side_file = folder / SIDE
            side = json.loads(side_file.read_text()) if side_file.is_file() else {}
            sha = (
                side.get("sha")
                or hashlib.sha1(f"{self.repo_type}/{self.repo_id}/{name}".encode(), usedforsecurity=False).hexdigest()
            )
            date = side.get("date") or (EPOCH + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            parent = side.get("parent", names[i - 1] if i else None)
            out.append(
                Commit(
                    name=name,
                    sha=sha,
                    title=side.get("title", f"commit {name}"),
                    date=date,
                    parent=parent,
                    folder=folder,
                    side=side,
                )
            )
        return out

    # --- settings
    @property
    def private(self) -> bool:
        return bool(self.settings.get("private", False))

    @property
    def gated(self) -> str | bool:
        value = self.settings.get("gated", False)
        return value if value else False

    def token_allowed(self, token: str | None) -> bool:
        return token is not None and token in self.settings.get("tokens", [])

    # --- refs
    def _commit_named(self, name: str) -> Commit | None:
        for c in self.commits:
            if c.name == name or c.sha == name:
                return c
        return None

    def branches(self) -> dict[str, Commit]:
        raw = dict(self.settings.get("branches", {}))
        raw.setdefault("main", self.commits[-1].name)
        return {k: c for k, v in raw.items() if (c := self._commit_named(v)) is not None}

    def tags(self) -> dict[str, Commit]:
        return {k: c for k, v in self.settings.get("tags", {}).items() if (c := self._commit_named(v)) is not None}

    def resolve(self, revision: str | None) -> Commit:
        rev = revision or "main"
        for prefix, table in (("refs/heads/", self.branches()), ("refs/tags/", self.tags())):
            if rev.startswith(prefix) and rev[len(prefix) :] in table:
                return table[rev[len(prefix) :]]
        if rev in self.branches():
            return self.branches()[rev]
        if rev in self.tags():
            return self.tags()[rev]
        if len(rev) == 40:
            for c in self.commits:
                if c.sha == rev:
                    return c
        raise NotFound("RevisionNotFound", f"Invalid rev id: {rev}")

    def history(self, head: Commit) -> list[Commit]:
        """``head`` and its ancestors, newest first."""
        out: list[Commit] = []
        current: Commit | None = head
        while current is not None and current not in out:
            out.append(current)
            current = self._commit_named(current.parent) if current.parent else None
        return out

    # --- trees
    def entries(self, commit: Commit) -> list[Entry]:
        out = []
        lfs_oids: dict[str, str] = commit.side.get("lfs_oids", {})
        security: dict[str, Any] = commit.side.get("security", {})
        for dirpath, dirnames, filenames in os.walk(commit.folder):
            dirnames.sort()
            for fn in sorted(filenames):
                disk = Path(dirpath) / fn
                rel = disk.relative_to(commit.folder).as_posix()
                if rel == SIDE or disk.is_symlink():
                    continue
                size = disk.stat().st_size
                oid = None
                if is_lfs(rel, size):
                    oid = lfs_oids.get(rel) or self.hashes.sha256(disk)
                    blob = git_blob_id(lfs_pointer(oid, size))
                else:
                    blob = self.hashes.blob_id(disk)
                out.append(Entry(path=rel, disk=disk, size=size, lfs_oid=oid, blob_id=blob, security=security.get(rel)))
        return sorted(out, key=lambda e: e.path)

    def entry(self, commit: Commit, path: str) -> Entry:
        disk = commit.folder / path
        if ".." in path.split("/") or path == SIDE or not disk.is_file():
            raise NotFound("EntryNotFound", f"{path} does not exist at {commit.sha}")
        size = disk.stat().st_size
        oid = None
        if is_lfs(path, size):
            oid = commit.side.get("lfs_oids", {}).get(path) or self.hashes.sha256(disk)
            blob = git_blob_id(lfs_pointer(oid, size))
        else:
            blob = self.hashes.blob_id(disk)
        return Entry(
            path=path,
            disk=disk,
            size=size,
            lfs_oid=oid,
            blob_id=blob,
            security=commit.side.get("security", {}).get(path),
        )

    def tree(self, commit: Commit, path: str, recursive: bool, expand: bool) -> list[dict[str, Any]]:
        base = path.strip("/")
        if base and not self.is_dir(commit, base):
            raise NotFound("EntryNotFound", f"{base} is not a folder at {commit.sha}")
        prefix = f"{base}/" if base else ""
        files = [e for e in self.entries(commit) if e.path.startswith(prefix)]
        items: dict[str, dict[str, Any]] = {}
        for e in files:
            rest = e.path[len(prefix) :]
            parts = rest.split("/")
            for depth in range(1, len(parts)):
                folder = prefix + "/".join(parts[:depth])
                if recursive or depth == 1:
                    items.setdefault(folder, self._folder_json(commit, folder, expand))
                if not recursive:
                    break
            if recursive or len(parts) == 1:
                items[e.path] = e.to_json(commit, expand)
        return [items[k] for k in sorted(items)]

    def is_dir(self, commit: Commit, path: str) -> bool:
        return (commit.folder / path).is_dir()

    def _folder_json(self, commit: Commit, folder: str, expand: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "directory",
            "oid": hashlib.sha1(f"{commit.sha}/{folder}".encode(), usedforsecurity=False).hexdigest(),
            "size": 0,
            "path": folder,
        }
        if expand:
            data["lastCommit"] = {"id": commit.sha, "title": commit.title, "date": commit.date}
        return data

    def paths_info(self, commit: Commit, paths: Iterable[str], expand: bool) -> list[dict[str, Any]]:
        out = []
        for p in paths:
            p = p.strip("/")
            if p and self.is_dir(commit, p):
                out.append(self._folder_json(commit, p, expand))
                continue
            try:
                out.append(self.entry(commit, p).to_json(commit, expand))
            except NotFound:
                continue
        return out


class FakeRepo:
    """Builder for one repository under a fake Hub root (writes the on-disk layout above)."""

    def __init__(self, root: Path, repo_id: str, repo_type: str = "model", **settings: Any):
        self.root = Path(root)
        self.repo_id = repo_id
        self.repo_type = repo_type
        self.folder = self.root / f"{repo_type}s" / repo_id
        (self.folder / "commits").mkdir(parents=True, exist_ok=True)
        self.on_commit: Any = None  # called (repo, old sha or None, new sha) after each commit (webhooks)
        if settings or not (self.folder / REPO_JSON).exists():
            self.configure(**settings)

    # --- settings
    def _settings(self) -> dict[str, Any]:
        path = self.folder / REPO_JSON
        return json.loads(path.read_text()) if path.is_file() else {}

    def _write_settings(self, data: dict[str, Any]) -> None:
        tmp = self.folder / (REPO_JSON + ".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, self.folder / REPO_JSON)

    def configure(self, **settings: Any) -> FakeRepo:
        """Set ``private``, ``gated`` (False/"auto"/"manual"), ``tokens`` (list), ``security``, ``disabled``."""
        data = self._settings()
        data.update(settings)
        self._write_settings(data)
        return self

    def private_flag(self) -> bool:
        return bool(self._settings().get("private", False))

    def tag(self, name: str, commit: str) -> None:
        data = self._settings()
        data.setdefault("tags", {})[name] = commit
        self._write_settings(data)

    def branch(self, name: str, commit: str) -> None:
        data = self._settings()
        data.setdefault("branches", {})[name] = commit
        self._write_settings(data)

    # --- commits
    def _folders(self) -> list[Path]:
        return sorted(p for p in (self.folder / "commits").iterdir() if p.is_dir())

    def _sha_of(self, folder: Path) -> str:
        side = folder / SIDE
        data = json.loads(side.read_text()) if side.is_file() else {}
        return (
            data.get("sha")
            or hashlib.sha1(
                f"{self.repo_type}/{self.repo_id}/{folder.name}".encode(), usedforsecurity=False
            ).hexdigest()
        )

    @property
    def commits(self) -> list[str]:
        """Commit shas, oldest first."""
        return [self._sha_of(f) for f in self._folders()]

    @property
    def head(self) -> str:
        return self.commits[-1]

    def commit(
        self,
        files: Mapping[str, FileContent],
        *,
        title: str = "update",
        delete: Iterable[str] = (),
        inherit: bool = True,
        security: Mapping[str, dict[str, Any]] | None = None,
        message: str = "",
    ) -> str:
        """A new commit on ``main``: the previous tree (hard links, so sparse files stay cheap) plus ``files``.

        Returns the commit sha. ``security`` sets the Hub's per-file scan status for this commit.
        """
        folders = self._folders()
        name = f"{len(folders) + 1:04d}"
        target = self.folder / "commits" / name
        target.mkdir()
        side: dict[str, Any] = {"title": title, "message": message, "lfs_oids": {}, "security": dict(security or {})}
        if folders:
            side["parent"] = folders[-1].name
        if inherit and folders:
            prev = folders[-1]
            prev_side = json.loads((prev / SIDE).read_text()) if (prev / SIDE).is_file() else {}
            for src in prev.rglob("*"):
                rel = src.relative_to(prev).as_posix()
                if src.is_file() and rel != SIDE and rel not in files and rel not in set(delete):
                    dst = target / rel
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.link(src, dst)
                    if rel in prev_side.get("lfs_oids", {}):
                        side["lfs_oids"][rel] = prev_side["lfs_oids"][rel]
                    if rel in prev_side.get("security", {}) and rel not in side["security"]:
                        side["security"][rel] = prev_side["security"][rel]
        for rel, content in files.items():
            dst = target / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, SparseFile):
                content.write(dst)
                side["lfs_oids"][rel] = content.declared_oid()
            elif isinstance(content, Path):
                shutil.copyfile(content, dst)
            else:
                dst.write_bytes(content.encode() if isinstance(content, str) else content)
        (target / SIDE).write_text(json.dumps(side, indent=2))
        new = self._sha_of(target)
        if self.on_commit is not None:
            self.on_commit(self, self._sha_of(folders[-1]) if folders else None, new)
        return new


class DiskBackend:
    """The store seam of the server: opens repositories and lists them (``tests.fakehub.listing``).

    This one reads the folder layout above on every call; ``tests.fakehub.generated`` provides one that
    computes repositories from a seed instead.
    """

    def __init__(self, root: Path, hashes: HashCache):
        self.root = root
        self.hashes = hashes

    def open(self, repo_type: str, repo_id: str) -> Repo:
        return Repo(self.root, repo_type, repo_id, self.hashes)

    def repo_ids(self, repo_type: str) -> list[str]:
        base = self.root / f"{repo_type}s"
        if not base.is_dir():
            return []
        out = []
        for first in sorted(base.iterdir()):
            if (first / "commits").is_dir():
                out.append(first.name)
            elif first.is_dir():
                out.extend(f"{first.name}/{p.name}" for p in sorted(first.iterdir()) if (p / "commits").is_dir())
        return out

    def summaries(self, repo_type: str, sort: str) -> Iterator[Summary]:
        found = []
        for repo_id in self.repo_ids(repo_type):
            try:
                repo = self.open(repo_type, repo_id)
            except NotFound:
                continue  # a folder being written, or an empty repo: not listed
            head = repo.resolve("main")
            found.append(
                Summary(
                    repo_type=repo_type,
                    repo_id=repo_id,
                    sha=head.sha,
                    last_modified=head.date,
                    created_at=repo.commits[0].date,
                    private=repo.private,
                    gated=repo.gated,
                    disabled=bool(repo.settings.get("disabled", False)),
                    tokens=tuple(repo.settings.get("tokens", [])),
                    tags=tuple(repo.settings.get("tags_meta", [])),
                    siblings=tuple(e.path for e in repo.entries(head)),
                )
            )
        return iter(sorted(found, key=lambda s: s.sort_key(sort), reverse=True))
