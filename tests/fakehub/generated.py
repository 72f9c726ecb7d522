"""A generated hub: tens of thousands of repositories computed from a seed, none written to disk.

Repository ``i`` of a type is a pure function of ``(seed, type, i)``: its id, kind (``kinds.py``), flags
(gated, private, disabled, vanished, fork of an earlier repo), number of commits and their dates, and for
each commit its files (``content.Blob``, sparse for weights). The 100 real-world cases (91 models from
``tests.corpus.expected``, 9 dataset scripts from ``tests.scripts.corpus_scripts``) sit at seeded random
indices under their real ids. Dates grow with ``i`` (one minute apart), so the listing walks indices
backwards without sorting anything; :meth:`GeneratedBackend.commit_share` gives repos new commits, held
in a small overlay (memory grows with the commits made, not with the hub).
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fakehub.content import DATASET_KINDS, MODEL_KINDS, SIZES, Blob, Templates
from tests.fakehub.kinds import dataset_files, model_files
from tests.fakehub.listing import Summary
from tests.fakehub.store import Commit, Entry, HashCache, NotFound, Repo, git_blob_id, is_lfs, lfs_pointer

BASE = datetime(2025, 1, 1, tzinfo=UTC)
TOKEN = "hf_generated"  # the token that may read the generated gated and private repos


@dataclass(frozen=True)
class HubSpec:
    seed: int = 0
    models: int = 10_000
    datasets: int = 2_000
    cases: bool = True  # place the 100 real-world cases among the repos
    gated: float = 0.02
    private: float = 0.01
    disabled: float = 0.005
    vanished: float = 0.005  # listed, then 404
    forks: float = 0.03  # models only: same weights (same LFS sha256) as an earlier repo
    sizes: tuple[int, ...] = SIZES  # weight file sizes, picked per repo (sparse: only a few KB are written)


@dataclass(frozen=True)
class Case:
    repo_type: str
    repo_id: str
    index: int
    files: tuple[tuple[str, str], ...]  # (path, expected category)


@dataclass(frozen=True)
class Plan:
    """Everything about repo ``index`` except file contents."""

    repo_type: str
    index: int
    repo_id: str
    kind: str  # a kind of kinds.py, or "case"
    flag: str  # "", "gated", "private", "disabled", "vanished"
    weights_of: int
    commits: int


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _h(*parts: object) -> int:
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:16], 16)


def corpus_cases() -> list[tuple[str, str, list[tuple[str, str, Any]]]]:
    """(type, repo id, [(path, category, build)]) for the 100 cases."""
    from tests.corpus.expected import ROWS
    from tests.scripts.corpus_scripts import CORPUS_SCRIPTS
    from tests.scripts.test_corpus_datasets import EXPECTED

    out: list[tuple[str, str, list[tuple[str, str, Any]]]] = []
    for row in ROWS:
        out.append(("model", row.repo, [(a.path, a.category, a.build) for a in row.artifacts]))
    for repo_id, code in CORPUS_SCRIPTS.items():
        name = repo_id.split("/")[-1]
        out.append(("dataset", repo_id, [(f"{name}.py", EXPECTED[repo_id].value, code.encode)]))
    return out


class GeneratedBackend:
    """The store seam (``open``, ``summaries``) over a generated hub."""

    def __init__(self, spec: HubSpec, hashes: HashCache | None = None, scratch: Path | None = None):
        self.spec = spec
        self.hashes = hashes or HashCache()
        self._tmp = None if scratch else tempfile.TemporaryDirectory(prefix="fakehub-gen-")
        self.templates = Templates(scratch or Path(self._tmp.name if self._tmp else "."))
        self._lock = threading.Lock()
        self._touched: dict[tuple[str, int], list[str]] = {}  # extra commit dates, oldest first
        self._clock = 0
        self._files: OrderedDict[tuple[str, int, int], dict[str, Blob]] = OrderedDict()  # small LRU
        self.cases: list[Case] = []
        self._case_at: dict[tuple[str, int], tuple[str, list[tuple[str, str, Any]]]] = {}
        self._index_of_case: dict[tuple[str, str], int] = {}
        self._case_blobs: dict[tuple[str, int], dict[str, Blob]] = {}
        if spec.cases:
            self._place_cases()

    def _place_cases(self) -> None:
        rng = random.Random(self.spec.seed)
        table = corpus_cases()
        for repo_type, total in (("model", self.spec.models), ("dataset", self.spec.datasets)):
            mine = [c for c in table if c[0] == repo_type][:total]
            for (_, repo_id, files), index in zip(mine, rng.sample(range(total), len(mine)), strict=True):
                self._case_at[(repo_type, index)] = (repo_id, files)
                self._index_of_case[(repo_type, repo_id)] = index
                self.cases.append(Case(repo_type, repo_id, index, tuple((p, c) for p, c, _ in files)))

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    # --- plans
    def count(self, repo_type: str) -> int:
        return self.spec.models if repo_type == "model" else self.spec.datasets

    def repo_id(self, repo_type: str, index: int) -> str:
        case = self._case_at.get((repo_type, index))
        if case is not None:
            return case[0]
        word = "model" if repo_type == "model" else "data"
        return f"gen-org{(index * 37) % 400:03d}/{word}-{index:06d}"

    def index_of(self, repo_type: str, repo_id: str) -> int | None:
        if (repo_type, repo_id) in self._index_of_case:
            return self._index_of_case[(repo_type, repo_id)]
        _, _, tail = repo_id.rpartition("-")
        if not tail.isdigit() or int(tail) >= self.count(repo_type):
            return None
        index = int(tail)
        return index if self.repo_id(repo_type, index) == repo_id else None

    def plan(self, repo_type: str, index: int) -> Plan:
        s = self.spec
        h = _h(s.seed, repo_type, index)
        commits = 1 + h % 3 + len(self._touched.get((repo_type, index), ()))
        if (repo_type, index) in self._case_at:
            return Plan(repo_type, index, self.repo_id(repo_type, index), "case", "", index, commits)
        kinds = MODEL_KINDS if repo_type == "model" else DATASET_KINDS
        kind, weights_of = kinds[(h >> 8) % len(kinds)], index
        r = (h >> 24) % 100_000 / 100_000
        edges = [("gated", s.gated), ("private", s.private), ("disabled", s.disabled), ("vanished", s.vanished)]
        flag, acc = "", 0.0
        for name, share in edges:
            if acc <= r < acc + share:
                flag = name
            acc += share
        if repo_type == "model" and not flag and acc <= r < acc + s.forks and index > 0:
            parent = index - 1 - (h >> 48) % min(index, 50)
            if (repo_type, parent) not in self._case_at:
                weights_of = parent
                kind = self.plan(repo_type, parent).kind
        return Plan(repo_type, index, self.repo_id(repo_type, index), kind, flag, weights_of, commits)

    def dates(self, plan: Plan) -> list[str]:
        created = BASE + timedelta(minutes=plan.index, seconds=30 if plan.repo_type == "dataset" else 0)
        base = 1 + _h(self.spec.seed, plan.repo_type, plan.index) % 3
        out = [_iso(created + timedelta(seconds=10 * k)) for k in range(base)]
        return out + self._touched.get((plan.repo_type, plan.index), [])

    def sha(self, plan: Plan, n: int) -> str:
        return hashlib.sha1(f"gen:{self.spec.seed}:{plan.repo_type}:{plan.index}:{n}".encode()).hexdigest()

    def files(self, plan: Plan, n: int) -> dict[str, Blob]:
        key = (plan.repo_type, plan.index, n)
        with self._lock:
            if key in self._files:
                self._files.move_to_end(key)
                return self._files[key]
        if plan.kind == "case":
            built = dict(self._case_files(plan))
            built["README.md"] = Blob.of(f"# {plan.repo_id}\n\nrevision {n}\n".encode())
        elif plan.repo_type == "model":
            built = model_files(plan.kind, plan.index, plan.weights_of, n, self.templates, self.spec.sizes)
        else:
            built = dataset_files(plan.kind, plan.index, n, self.templates)
        with self._lock:
            self._files[key] = built
            while len(self._files) > 64:
                self._files.popitem(last=False)
        return built

    def _case_files(self, plan: Plan) -> dict[str, Blob]:
        """Built once and kept (100 small files): some builders are not byte-for-byte repeatable."""
        key = (plan.repo_type, plan.index)
        with self._lock:
            if key in self._case_blobs:
                return self._case_blobs[key]
        _, items = self._case_at[key]
        built = {path: Blob.of(build()) for path, _, build in items}
        with self._lock:
            return self._case_blobs.setdefault(key, built)

    # --- the store seam
    def open(self, repo_type: str, repo_id: str) -> Repo:
        index = self.index_of(repo_type, repo_id)
        if index is None:
            raise NotFound("RepoNotFound", f"{repo_type} {repo_id} not found")
        plan = self.plan(repo_type, index)
        if plan.flag == "vanished":
            raise NotFound("RepoNotFound", f"{repo_type} {repo_id} not found")
        return GeneratedRepo(self, plan)

    def summary(self, repo_type: str, index: int) -> Summary:
        plan = self.plan(repo_type, index)
        dates = self.dates(plan)
        return Summary(
            repo_type=repo_type,
            repo_id=plan.repo_id,
            sha=self.sha(plan, len(dates)),
            last_modified=dates[-1],
            created_at=dates[0],
            private=plan.flag == "private",
            gated="manual" if plan.flag == "gated" else False,
            disabled=plan.flag == "disabled",
            tokens=(TOKEN,),
        )

    def summaries(self, repo_type: str, sort: str) -> Iterator[Summary]:
        with self._lock:
            touched = sorted(
                ((dates[-1], i) for (t, i), dates in self._touched.items() if t == repo_type), reverse=True
            )
        moved = set()
        if sort != "created_at":
            for _, index in touched:
                moved.add(index)
                yield self.summary(repo_type, index)
        for index in range(self.count(repo_type) - 1, -1, -1):
            if index not in moved:
                yield self.summary(repo_type, index)

    # --- changes
    def commit(self, repo_type: str, index: int) -> tuple[str, str, str]:
        """One new commit on repo ``index``; returns (repo id, old sha, new sha)."""
        plan = self.plan(repo_type, index)
        old = self.sha(plan, plan.commits)
        with self._lock:
            self._clock += 1
            moment = BASE + timedelta(days=3650, seconds=self._clock)
            self._touched.setdefault((repo_type, index), []).append(_iso(moment))
        return plan.repo_id, old, self.sha(plan, plan.commits + 1)

    def commit_share(self, share: float, seed: int = 1) -> list[tuple[str, str, str, str]]:
        """New commits on ``share`` of the repos of each type (seeded); returns (type, id, old, new)."""
        out = []
        for repo_type in ("model", "dataset"):
            total = self.count(repo_type)
            rng = random.Random(_h(self.spec.seed, seed, repo_type))
            for index in sorted(rng.sample(range(total), max(1, round(total * share)) if total else 0)):
                out.append((repo_type, *self.commit(repo_type, index)))
        return out


class GeneratedRepo(Repo):
    """A generated repository behind the same interface as the on-disk one."""

    def __init__(self, backend: GeneratedBackend, plan: Plan):
        self.backend = backend
        self.plan = plan
        self.root = Path("/nonexistent-generated")
        self.repo_type = plan.repo_type
        self.repo_id = plan.repo_id
        self.hashes = backend.hashes
        self.folder = self.root
        self.settings = {
            "private": plan.flag == "private",
            "gated": "manual" if plan.flag == "gated" else False,
            "disabled": plan.flag == "disabled",
            "tokens": [TOKEN],
        }
        dates = backend.dates(plan)
        self.commits = [
            Commit(
                name=f"{n:04d}",
                sha=backend.sha(plan, n),
                title="initial commit" if n == 1 else f"update {n}",
                date=date,
                parent=f"{n - 1:04d}" if n > 1 else None,
                folder=self.root,
            )
            for n, date in enumerate(dates, start=1)
        ]

    def _number(self, commit: Commit) -> int:
        return int(commit.name)

    def is_dir(self, commit: Commit, path: str) -> bool:
        prefix = path.strip("/") + "/"
        return any(p.startswith(prefix) for p in self.backend.files(self.plan, self._number(commit)))

    def _entry(self, path: str, blob: Blob) -> Entry:
        oid = blob.oid if is_lfs(path, blob.size) else None
        blob_id = git_blob_id(lfs_pointer(oid, blob.size)) if oid else git_blob_id(blob.read(0, blob.size))
        return Entry(path=path, disk=None, size=blob.size, lfs_oid=oid, blob_id=blob_id, blob=blob)

    def entries(self, commit: Commit) -> list[Entry]:
        files = self.backend.files(self.plan, self._number(commit))
        return [self._entry(p, files[p]) for p in sorted(files)]

    def entry(self, commit: Commit, path: str) -> Entry:
        files = self.backend.files(self.plan, self._number(commit))
        if path not in files:
            raise NotFound("EntryNotFound", f"{path} does not exist at {commit.sha}")
        return self._entry(path, files[path])
