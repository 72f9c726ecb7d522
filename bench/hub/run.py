"""Hub benchmark: what scanning a repository with a 4 GiB checkpoint costs, malhug against whole-file scanners.

Everything runs against the fake Hub (``tests.fakehub``) on 127.0.0.1: a repository whose
``pytorch_model.bin`` is a 4 GiB PyTorch zip (a sparse file: a poisoned ``data.pkl`` first, one huge
storage, the zip directory last). Measured, with bytes counted by the fake Hub itself:

1. ``malhug scan hf:…`` cold (empty verdict cache, empty HF cache), then warm (same command again);
2. ``find_safe_revision`` over an 8-commit history of 4 GiB checkpoints whose newest 2 are poisoned;
3. a whole-file download with ``huggingface_hub.hf_hub_download`` (what any scanner that works on
   local files - modelscan, picklescan ``-p``, fickling - needs first);
4. ``fickling --huggingface`` (its hub mode: ``hf_hub_download`` of every file, then a local scan), in
   ``.venv-bench``, pointed at the fake Hub with ``HF_ENDPOINT``;
5. picklescan's hub mode cannot be pointed at another endpoint (``https://huggingface.co`` is
   hard-coded, fetched with ``HTTPSConnection`` into a ``BytesIO``): reported from its source, with the
   cost of step 3.

Usage: ``.venv/bin/python bench/hub/run.py [--size-gib 4] [--skip-download] [--skip-peers]``;
writes ``bench/hub/RESULTS.md`` (``--out``) and a JSON copy next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.models.tools import BENCH_VENV, MAIN_VENV, Run, measure  # noqa: E402
from tests.fakehub import FakeHub, keep_huggingface_hub_local  # noqa: E402
from tests.hub import payloads as P  # noqa: E402

WORK = ROOT / "bench" / "work" / "hub"
REPO = "bench/poisoned-checkpoint"
HISTORY = "bench/poisoned-history"


def _mib(n: int) -> str:
    return f"{n / 2**20:,.2f} MiB" if n >= 2**20 else f"{n / 1024:,.1f} KiB"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(extra)
    return env


def build(hub: FakeHub, size: int) -> dict[str, str]:
    repo = hub.repo(REPO)
    head = repo.commit(
        {"config.json": '{"model_type": "bert"}', "pytorch_model.bin": P.sparse_torch_zip(P.evil_pickle(), size)}
    )
    hist = hub.repo(HISTORY)
    shas = []
    for i in range(8):
        pkl = P.evil_pickle() if i >= 6 else P.benign_pickle() + b" " * i  # each commit a different checkpoint
        shas.append(
            hist.commit(
                {"config.json": '{"model_type": "bert"}', "pytorch_model.bin": P.sparse_torch_zip(pkl, size)},
                title=f"step {i}",
            )
        )
    return {"head": head, "safe": shas[5], "history_head": shas[-1]}


def malhug_cli(hub: FakeHub, cache: Path) -> dict[str, Any]:
    hub.clear_log()
    env = _env(MALHUG_CACHE_DIR=str(cache), HF_HOME=str(WORK / "malhug-hf-home"))
    cmd = [str(MAIN_VENV / "bin" / "malhug"), "scan", f"hf:{REPO}", "--endpoint", hub.endpoint, "--format", "json"]
    run = _measure_env(cmd, env)
    report = json.loads(run.stdout)
    section = report["hub"][f"hf:{REPO}"]
    return {
        "seconds": round(run.seconds, 3),
        "peak_rss_mib": round(run.peak_rss_kb / 1024, 1),
        "file_bytes": hub.bytes_served(file_only=True),
        "all_bytes": hub.bytes_served(),
        "requests": len(hub.requests()),
        "verdict": report["verdict"],
        "from_cache": section["from_cache"],
        "exit": run.returncode,
    }


def _measure_env(cmd: list[str], env: dict[str, str], timeout: float = 1800.0) -> Run:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return measure(cmd, timeout=timeout)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def in_process_warm(hub: FakeHub, cache: Path) -> dict[str, Any]:
    """A warm ``HubClient.scan_repo`` in a running process, as the language server does it."""
    from malhug.hub.cache import VerdictCache
    from malhug.hub.client import HubClient

    client = HubClient(
        endpoint=hub.endpoint, verdict_cache=VerdictCache(cache / "verdicts.sqlite3"), cache_dir=str(WORK / "warm-hf")
    )
    client.scan_repo(REPO)  # this process's imports and caches
    hub.clear_log()
    started = time.perf_counter()
    scan = client.scan_repo(REPO)
    return {
        "seconds": round(time.perf_counter() - started, 4),
        "file_bytes": hub.bytes_served(file_only=True),
        "from_cache": scan.from_cache,
    }


def safe_revision(hub: FakeHub, cache: Path) -> dict[str, Any]:
    from malhug.hub.cache import VerdictCache
    from malhug.hub.client import HubClient

    client = HubClient(
        endpoint=hub.endpoint, verdict_cache=VerdictCache(cache / "safe.sqlite3"), cache_dir=str(WORK / "safe-hf")
    )
    out = {}
    for label in ("cold", "warm"):
        hub.clear_log()
        started = time.perf_counter()
        found = client.find_safe_revision(HISTORY)
        out[label] = {
            "seconds": round(time.perf_counter() - started, 3),
            "file_bytes": hub.bytes_served(file_only=True),
            "requests": len(hub.requests()),
            "commit": found.commit_sha,
            "checked": found.commits_checked,
        }
    return out


def whole_download(hub: FakeHub) -> dict[str, Any]:
    from huggingface_hub import hf_hub_download

    keep_huggingface_hub_local()
    target = WORK / "download-cache"
    shutil.rmtree(target, ignore_errors=True)
    hub.clear_log()
    started = time.perf_counter()
    path = hf_hub_download(REPO, "pytorch_model.bin", endpoint=hub.endpoint, cache_dir=target, token=False)
    seconds = time.perf_counter() - started
    size = Path(path).stat().st_size
    shutil.rmtree(target, ignore_errors=True)
    return {"seconds": round(seconds, 3), "file_bytes": hub.bytes_served(file_only=True), "size": size}


def peer_hub_problem() -> str | None:
    """Why fickling's hub mode cannot run in .venv-bench, if it cannot (this script installs nothing there)."""
    py = BENCH_VENV / "bin" / "python"
    if not py.exists():
        return "no .venv-bench (bench/models/run.py creates it)"
    probe = subprocess.run(
        [str(py), "-c", "import huggingface_hub, fickling.polyglot"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["import failed"])[-1]
        return (
            "it needs `fickling[huggingface]` (huggingface_hub and torch) in .venv-bench, which the model benchmark "
            f"keeps without torch ({last[:160]}). By construction (`fickling/cli.py`, `_scan_huggingface`) it calls "
            "`hf_hub_download` on every file before scanning, so its transfer is the whole-file row."
        )
    return None


def fickling_hub(hub: FakeHub) -> dict[str, Any]:
    problem = peer_hub_problem()
    if problem:
        return {"skipped": problem}
    home = WORK / "fickling-hf-home"
    shutil.rmtree(home, ignore_errors=True)
    hub.clear_log()
    env = _env(HF_ENDPOINT=hub.endpoint, HF_HOME=str(home), HF_HUB_DISABLE_TELEMETRY="1")  # nothing leaves 127.0.0.1
    cmd = [str(BENCH_VENV / "bin" / "fickling"), "--huggingface", REPO, "--print-results"]
    run = _measure_env(cmd, env)
    shutil.rmtree(home, ignore_errors=True)
    text = (run.stdout + run.stderr).strip().splitlines()
    return {
        "seconds": round(run.seconds, 3),
        "peak_rss_mib": round(run.peak_rss_kb / 1024, 1),
        "file_bytes": hub.bytes_served(file_only=True),
        "exit": run.returncode,
        "detected": run.returncode == 1,
        "output_tail": text[-3:],
    }


def render(results: dict[str, Any]) -> str:
    size = results["size"]
    cold, warm = results["malhug_cold"], results["malhug_warm"]
    lines = [
        "# Hub benchmark: a repository with a 4 GiB checkpoint",
        "",
        f"Generated by `bench/hub/run.py` on {results['date']} ({results['machine']}). Every byte count is what the",
        "fake Hub (`tests/fakehub`, 127.0.0.1) actually sent as file content (API JSON excluded unless said).",
        f"The checkpoint is a {size / 2**30:g} GiB PyTorch zip with a poisoned `data.pkl` (`posix.system`), stored sparse.",
        "",
        "| what | file bytes transferred | time | peak RSS | verdict |",
        "|---|---:|---:|---:|---|",
        f"| malhug `scan hf:…`, cold caches | {_mib(cold['file_bytes'])} | {cold['seconds']:.2f} s | {cold['peak_rss_mib']} MiB | {cold['verdict']} |",
        f"| malhug `scan hf:…`, warm verdict cache | {_mib(warm['file_bytes'])} ({warm['requests']} API request, {_mib(warm['all_bytes'])} JSON) | {warm['seconds']:.2f} s | {warm['peak_rss_mib']} MiB | {warm['verdict']} (from cache: {warm['from_cache']}) |",
    ]
    ip = results["in_process_warm"]
    lines.append(
        f"| `HubClient.scan_repo`, warm, inside a running process (the language server) | {_mib(ip['file_bytes'])} | {ip['seconds'] * 1000:.0f} ms | - | from cache: {ip['from_cache']} |"
    )
    dl = results.get("whole_download")
    if dl:
        lines.append(
            f"| whole-file download (`hf_hub_download`), before any local scanner can start | {_mib(dl['file_bytes'])} | {dl['seconds']:.2f} s | - | - |"
        )
    fk = results.get("fickling_hub")
    if fk and "skipped" not in fk:
        verdict = "malicious (exit 1)" if fk["detected"] else f"exit {fk['exit']}"
        lines.append(
            f"| fickling 0.1.12 `--huggingface` | {_mib(fk['file_bytes'])} | {fk['seconds']:.2f} s | {fk['peak_rss_mib']} MiB | {verdict} |"
        )
    elif fk:
        lines.append("| fickling 0.1.12 `--huggingface` | whole files first (not run here, see below) | - | - | - |")
    lines.append(
        "| picklescan 1.0.5 `--huggingface` | whole file into memory (cannot be pointed at a local Hub) | - | ≥ file size | - |"
    )
    sr = results["safe_revision"]
    lines += [
        "",
        "## Newest safe revision",
        "",
        f"8 commits, each with its own {size / 2**30:g} GiB checkpoint; the newest 2 are poisoned. `HubClient.find_safe_revision`:",
        "",
        "| run | commits scanned | file bytes | requests | time | answer |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label in ("cold", "warm"):
        r = sr[label]
        ok = "correct" if r["commit"] == results["shas"]["safe"] else f"WRONG ({r['commit']})"
        lines.append(
            f"| {label} | {r['checked']} | {_mib(r['file_bytes'])} | {r['requests']} | {r['seconds']:.2f} s | {ok} |"
        )
    lines += [
        "",
        "## How each tool gets the bytes",
        "",
        "- **malhug** lists the revision (`/tree`, `/paths-info`), then reads the zip with HTTP `Range` requests",
        "  following the 302 to the CDN origin: its end records and central directory, then `data.pkl`. A warm",
        "  rescan asks only which commit the branch points to and answers from the SQLite verdict cache (a full",
        "  commit sha already scanned costs no request at all).",
        "- **fickling** `--huggingface` calls `hf_hub_download` on every file of the repository, then scans",
        "  the local copies: the whole checkpoint crosses the network and lands on disk first.",
        "- **picklescan** `--huggingface` fetches `https://huggingface.co/{repo}/resolve/main/{file}` whole into a",
        "  `BytesIO` (`scanner.py`, `scan_huggingface_model`); the host is hard-coded, so it cannot use a mirror",
        "  or this fake Hub, and it always scans `main`.",
        "- **modelscan** has no hub mode: the checkpoint must be downloaded first (the `hf_hub_download` row).",
    ]
    if fk and "skipped" in fk:
        lines += ["", f"fickling's hub mode was not run: {fk['skipped']}"]
    lines += [
        "",
        "Reproduce: `.venv/bin/python bench/hub/run.py` (about a minute; needs ~4 GiB free disk for the download rows).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-gib", type=float, default=4.0)
    ap.add_argument("--skip-download", action="store_true", help="skip the whole-file download row")
    ap.add_argument("--skip-peers", action="store_true", help="skip fickling's hub mode")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = ap.parse_args(argv)
    size = int(args.size_gib * 2**30)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "size": size,
    }
    with FakeHub(WORK / "hub") as hub:
        results["shas"] = build(hub, size)
        cache = WORK / "verdicts"
        results["malhug_cold"] = malhug_cli(hub, cache)
        results["malhug_warm"] = malhug_cli(hub, cache)
        results["in_process_warm"] = in_process_warm(hub, cache)
        results["safe_revision"] = safe_revision(hub, cache)
        if not args.skip_download:
            results["whole_download"] = whole_download(hub)
        if not args.skip_peers:
            results["fickling_hub"] = fickling_hub(hub)
    args.out.write_text(render(results), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(args.out.read_text(encoding="utf-8"))
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
