"""The way a user watches repositories today with the peers: download each repository
(``huggingface_hub.snapshot_download``), then run picklescan / modelscan over the folder and fickling
over each pickle-like file (it has no folder mode). Tools from ``.venv-bench`` (bench/models/venvs.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.models.tools import batches, scan_one, tools
from bench.models.venvs import ensure_bench_venv
from tests.fakehub import FakeHub, keep_huggingface_hub_local

PICKLE_LIKE = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".dill", ".sav", ".npy")


def download_all(hub: FakeHub, repos: list[tuple[str, str]], folder: Path) -> dict[str, Any]:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    keep_huggingface_hub_local()
    before = hub.totals()
    start = time.monotonic()
    done, failed = 0, 0
    for repo_type, repo_id in repos:
        try:
            snapshot_download(
                repo_id,
                repo_type=repo_type,
                endpoint=hub.endpoint,
                local_dir=folder / repo_type / repo_id,
                cache_dir=folder / ".cache",
                token=False,
            )
            done += 1
        except HfHubHTTPError:
            failed += 1  # gated, private, disabled, vanished: the user's loop skips them too
    after = hub.totals()
    return {
        "seconds": time.monotonic() - start,
        "file_bytes": after["file_bytes"] - before["file_bytes"],
        "api_calls": after["api_calls"] - before["api_calls"],
        "downloaded": done,
        "failed": failed,
    }


def run_peers(folder: Path) -> dict[str, Any]:
    ensure_bench_venv()
    out: dict[str, Any] = {}
    for name, batch in batches().items():
        if name == "malhug":
            continue
        start = time.monotonic()
        from bench.models.tools import scan_folder

        scanned, run = scan_folder(batch, folder, timeout=1800)
        out[name] = {"seconds": time.monotonic() - start, "files_scanned": scanned, "rc": run.returncode}
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix in PICKLE_LIKE and ".cache" not in p.parts]
    fickling = tools()["fickling"]
    start = time.monotonic()
    flagged = 0
    for path in files:
        verdict, _ = scan_one(fickling, path, timeout=300)
        flagged += verdict in ("malicious", "suspicious")
    out["fickling"] = {"seconds": time.monotonic() - start, "files_scanned": len(files), "flagged": flagged}
    return out
