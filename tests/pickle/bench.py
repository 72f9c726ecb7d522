"""Throughput benchmark of the pickle analyzer on a large torch state_dict ``data.pkl``.

Run: ``.venv/bin/python -m tests.pickle.bench`` (not collected by pytest). CPU time is measured, so
the result does not depend on what else the machine runs. Results: tests/pickle/BENCHMARK.md.
"""

from __future__ import annotations

import collections
import gc
import io
import time
import zipfile

from malhug.analyzers.api import scan_bytes
from malhug.analyzers.limits import DEFAULT_LIMITS
from malhug.analyzers.pickle.fold import Folder
from malhug.analyzers.pickle.machine import Machine


def state_dict_pickle(tensors: int) -> bytes:
    import torch

    sd = collections.OrderedDict((f"model.layers.{i}.self_attn.q_proj.weight", torch.zeros(1)) for i in range(tensors))
    buf = io.BytesIO()
    torch.save(sd, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith("data.pkl")))


def best_of(runs: int, fn: object) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        fn()  # type: ignore[operator]
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    data = state_dict_pickle(20_000)
    folder = Folder(DEFAULT_LIMITS)

    def machine_only() -> None:
        gc.disable()  # as the analyzer runs it
        try:
            Machine(data, DEFAULT_LIMITS, lambda: None, folder.fold_name).run(0)
        finally:
            gc.enable()

    machine = best_of(5, machine_only)
    whole = best_of(5, lambda: scan_bytes(data))
    mb = len(data) / 1e6
    print(f"data.pkl: {mb:.2f} MB, 20000 tensors")
    print(f"machine only: {machine:.3f} s CPU, {mb / machine:.1f} MB/s")
    print(f"whole scan (machine + judge + sha256): {whole:.3f} s CPU, {mb / whole:.1f} MB/s")


if __name__ == "__main__":
    main()
