"""One ``malhug monitor`` command against a generated fake hub, measured: wall time, the command's peak
RSS (``wait4``), and the hub's own totals (API calls, file calls, file bytes) around it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakehub import FakeHub
from tests.fakehub.generated import GeneratedBackend

ROOT = Path(__file__).resolve().parents[2]
MALHUG = [sys.executable, "-m", "malhug"]
TIME = Path("/usr/bin/time")


@dataclass
class Measured:
    argv: list[str]
    rc: int
    wall: float
    peak_rss_kb: int  # /usr/bin/time's maximum resident set size of the command (its largest process)
    totals: dict[str, int]  # the hub's counters during the command
    stderr_tail: str = ""


@dataclass
class Session:
    """A work folder with its own store, verdict cache and HF home, so every run starts cold."""

    hub: FakeHub
    folder: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, hub: FakeHub, label: str) -> Session:
        folder = Path(tempfile.mkdtemp(prefix=f"bench-monitor-{label}-"))
        env = {
            **os.environ,
            "HF_ENDPOINT": hub.endpoint,
            "HF_HOME": str(folder / "hf-home"),
            "MALHUG_CACHE_DIR": str(folder / "malhug-cache"),
            "XDG_DATA_HOME": str(folder / "data"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
        for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
            env.pop(name, None)
        return cls(hub, folder, env)

    @property
    def store(self) -> str:
        return str(self.folder / "monitor.sqlite3")

    def monitor(self, *args: str) -> Measured:
        argv = [*MALHUG, "monitor", *args, "--store", self.store]
        before = self.hub.totals()
        start = time.monotonic()
        err = self.folder / "stderr.log"
        rss = self.folder / "rss.txt"
        # /usr/bin/time forks the command from a small process: the harness's own memory (the fake hub
        # runs in it) cannot leak into the child's peak RSS through fork.
        timed = [str(TIME), "-f", "%M", "-o", str(rss), *argv]
        with open(err, "wb") as fh:
            proc = subprocess.run(
                timed, env=self.env, cwd=self.folder, stdout=subprocess.DEVNULL, stderr=fh, check=False
            )
        wall = time.monotonic() - start
        after = self.hub.totals()
        # Paths of this machine (the checkout, its venv) are written relative to the checkout.
        root = str(Path(__file__).resolve().parents[2]) + "/"
        tail = err.read_text(errors="replace")[-2000:].replace(root, "")
        peak = int(rss.read_text().split()[-1]) if rss.exists() and rss.read_text().split() else 0
        return Measured(
            argv=argv[2:],
            rc=proc.returncode,
            wall=wall,
            peak_rss_kb=peak,
            totals={k: after[k] - before.get(k, 0) for k in after},
            stderr_tail=tail,
        )

    def run(self, *extra: str) -> Measured:
        return self.monitor("run", "--once", "--endpoint", self.hub.endpoint, *extra)

    def report(self) -> dict[str, Any]:
        out = self.folder / "report.json"
        proc = subprocess.run(
            [*MALHUG, "monitor", "report", "--format", "json", "--output", str(out), "--store", self.store],
            env=self.env,
            check=False,  # like scan, the exit status says whether something was flagged
            cwd=self.folder,
            capture_output=True,
            text=True,
        )
        if not out.exists():
            raise RuntimeError(f"monitor report failed ({proc.returncode}): {proc.stderr[-2000:]}")
        data: dict[str, Any] = json.loads(out.read_text())
        return data


def hub_bytes(backend: GeneratedBackend) -> int:
    """Bytes of every listed repository's head revision (what a full download of the hub would read)."""
    from tests.fakehub.store import NotFound

    total = 0
    for repo_type in ("model", "dataset"):
        for index in range(backend.count(repo_type)):
            try:
                repo = backend.open(repo_type, backend.repo_id(repo_type, index))
            except NotFound:
                continue
            total += sum(e.size for e in repo.entries(repo.commits[-1]))
    return total


def check(report: dict[str, Any], backend: GeneratedBackend) -> dict[str, Any]:
    """Every case found with its categories; benign repos flagged; repos in error."""
    by_id = {(r["type"], r["id"]): r for r in report["repos"]}
    cases = []
    for case in backend.cases:
        entry = by_id.get((case.repo_type, case.repo_id))
        found_cats = {}
        if entry:
            for f in entry.get("files") or []:
                found_cats[f["path"]] = sorted({x["category"] for x in f.get("findings") or []})
        files = [
            {"path": p, "expected": cat, "found": cat in found_cats.get(p, []), "categories": found_cats.get(p, [])}
            for p, cat in case.files
        ]
        cases.append(
            {
                "type": case.repo_type,
                "id": case.repo_id,
                "verdict": entry["verdict"] if entry else None,
                "found": bool(entry) and entry["verdict"] == "malicious",
                "class_ok": all(f["found"] for f in files),
                "files": files,
            }
        )
    case_ids = {(c.repo_type, c.repo_id) for c in backend.cases}
    benign = [r for key, r in by_id.items() if key not in case_ids]
    flagged = [f"{r['type']} {r['id']}: {r['verdict']}" for r in benign if r["verdict"] in ("malicious", "suspicious")]
    errors = [
        f"{r['type']} {r['id']} (state {r.get('state')}): {r.get('error') or r.get('why') or ''}"[:200]
        for r in benign
        if r["verdict"] == "error"
    ]
    states: dict[str, int] = {}
    for r in report["repos"]:
        states[r.get("state") or "?"] = states.get(r.get("state") or "?", 0) + 1
    return {
        "cases": cases,
        "cases_found": sum(c["found"] for c in cases),
        "cases_class_ok": sum(c["class_ok"] for c in cases),
        "benign_repos": len(benign),
        "benign_flagged": flagged,
        "benign_errors": errors,
        "states": states,
        "verdicts": {(r["type"], r["id"]): r["verdict"] for r in report["repos"]},
    }


def _repo_of(path: str) -> tuple[str, str] | None:
    """``(type, id)`` of a request for a repository's tree, revision or file; None for listings."""
    parts = path.strip("/").split("/")
    if parts[:1] == ["api"] and len(parts) >= 4 and parts[1] in ("models", "datasets"):
        return ("model" if parts[1] == "models" else "dataset", f"{parts[2]}/{parts[3]}")
    if parts[:1] == ["datasets"] and len(parts) >= 4 and parts[3] == "resolve":
        return ("dataset", f"{parts[1]}/{parts[2]}")
    if len(parts) >= 3 and parts[2] == "resolve":
        return ("model", f"{parts[0]}/{parts[1]}")
    return None


def incremental_check(
    touched: list[tuple[str, str, str, str]], after: dict[str, Any], requests: list[Any]
) -> dict[str, Any]:
    """Per touched repository: whether the incremental run fetched it and its newest scanned sha is the
    new commit, else why not (its state and reason); and which untouched repositories were fetched
    (there must be none)."""
    by_id = {(r["type"], r["id"]): r for r in after["repos"]}
    fetched = {key for key in map(_repo_of, (r.path for r in requests if r.server == "hub")) if key is not None}
    per_repo = []
    for repo_type, repo_id, _old, new in touched:
        entry = by_id.get((repo_type, repo_id)) or {}
        per_repo.append(
            {
                "type": repo_type,
                "id": repo_id,
                "new_sha": new,
                "fetched": (repo_type, repo_id) in fetched,
                "at_new_sha": entry.get("sha") == new,
                "state": entry.get("state"),
                "why": (entry.get("why") or entry.get("error") or "")[:200],
            }
        )
    touched_keys = {(t, i) for t, i, _, _ in touched}
    return {
        "touched": len(touched),
        "touched_rescanned_at_new_sha": sum(r["at_new_sha"] for r in per_repo),
        "touched_fetched": sum(r["fetched"] for r in per_repo),
        "not_at_new_sha": [r for r in per_repo if not r["at_new_sha"]],
        "untouched_fetched": sorted(f"{t} {i}" for t, i in fetched - touched_keys),
        "per_repo": per_repo,
    }
