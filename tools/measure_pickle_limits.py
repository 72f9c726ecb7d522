"""Measure what real, benign pickled models need from the pickle limits (``analyzers/limits.py``).

Writes representative files with the real libraries (``pickle.dump``, ``joblib.dump``,
``torch.save``: writing only, nothing is ever loaded), then reads each pickle stream with
``pickletools.genops`` (a parser) to count opcodes, memo entries, the largest argument and the
deepest stack/mark nesting, and scans the file with MalHug. Run from a checkout with the dev venv:

    .venv/bin/python tools/measure_pickle_limits.py [--scale 1.0]

The numbers it prints are committed in ``analyzers/LIMITS.md``.
"""

from __future__ import annotations

import argparse
import io
import pickle
import pickletools
import resource
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path


def _ops(data: bytes) -> list[tuple[pickletools.OpcodeInfo, object, int]]:
    """The opcodes of one pickle; for joblib, up to the first raw array block after a wrapper."""
    out = []
    try:
        for item in pickletools.genops(io.BytesIO(data)):
            out.append((item[0], item[1], item[2] or 0))
    except ValueError:
        pass  # joblib writes raw array bytes into the stream: its opcodes stop counting there
    return out


def _stream_stats(data: bytes) -> dict[str, int]:
    ops = memo = biggest = depth = deepest = 0
    marks: list[int] = []
    pos = end = 0
    while pos < len(data):
        for op, arg, at in _ops(data[pos:]):
            ops += 1
            if op.name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
                memo += 1
            if isinstance(arg, (bytes, bytearray, str)):
                biggest = max(biggest, len(arg))
            if op.name == "MARK":
                marks.append(depth)
            elif pickletools.markobject in op.stack_before:
                depth = marks.pop() if marks else 0
                depth += len(op.stack_after)
            else:
                depth += len(op.stack_after) - len(op.stack_before)
            deepest = max(deepest, depth + len(marks))
            end = at
        if not end:
            break
        pos += end + 1
        if pos < len(data) and data[pos] not in b"\x80(]}cN":
            break  # joblib/torch raw data after the pickle: not pickle opcodes
    return {"ops": ops, "memo": memo, "largest_arg": biggest, "stack": deepest, "bytes": len(data)}


def _pickles_in(path: Path) -> list[bytes]:
    raw = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return [zf.read(n) for n in zf.namelist() if n.endswith(".pkl")]
    return [raw]


def _samples(scale: float) -> dict[str, Callable[[Path], None]]:
    import joblib
    import numpy as np
    import torch
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    n = max(int(4000 * scale), 100)
    x, y = rng.normal(size=(n, 40)), rng.integers(0, 5, size=n)

    def forest(path: Path) -> None:
        model = RandomForestClassifier(n_estimators=max(int(200 * scale), 2), random_state=0).fit(x, y)
        path.write_bytes(pickle.dumps(model, protocol=5))

    def forest_joblib(path: Path) -> None:
        model = RandomForestClassifier(n_estimators=max(int(200 * scale), 2), random_state=0).fit(x, y)
        joblib.dump(model, path)

    def logistic(path: Path) -> None:
        path.write_bytes(pickle.dumps(LogisticRegression(max_iter=50).fit(x, y), protocol=2))

    def arrays(path: Path) -> None:
        blobs = {f"w{i}": rng.normal(size=int(1_000_000 * scale)).astype("float32") for i in range(16)}
        path.write_bytes(pickle.dumps(blobs, protocol=4))

    def vocab(path: Path) -> None:
        words = {f"token{i}": i for i in range(int(500_000 * scale))}
        path.write_bytes(pickle.dumps({"vocab": words, "merges": [f"a{i} b{i}" for i in range(int(200_000 * scale))]}))

    def torch_zip(path: Path) -> None:
        state = {f"layer{i}.weight": torch.zeros(int(800_000 * scale)) for i in range(16)}
        torch.save(state, path)

    def torch_legacy(path: Path) -> None:
        state = {f"layer{i}.weight": torch.zeros(int(800_000 * scale)) for i in range(16)}
        torch.save(state, path, _use_new_zipfile_serialization=False)

    return {
        "sklearn RandomForest (pickle 5)": forest,
        "sklearn RandomForest (joblib)": forest_joblib,
        "sklearn LogisticRegression (pickle 2)": logistic,
        "16 float32 arrays (pickle 4)": arrays,
        "tokenizer-like vocab + merges (pickle 5)": vocab,
        "torch state_dict (zip)": torch_zip,
        "torch state_dict (legacy)": torch_legacy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="size of the samples (1.0: tens of MB)")
    parser.add_argument("--only", default="", help="only the samples whose name contains this text")
    args = parser.parse_args()
    from malhug.analyzers.api import scan_file

    with tempfile.TemporaryDirectory() as tmp:
        print(
            "| file | MB | opcodes | memo entries | largest argument (bytes) | stack depth | verdict | scan s | peak RSS MB |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for name, make in _samples(args.scale).items():
            if args.only not in name:
                continue
            path = Path(tmp) / "sample.bin"
            make(path)
            stats = [_stream_stats(p) for p in _pickles_in(path)]
            total = {k: (max if k in ("largest_arg", "stack") else sum)(s[k] for s in stats) for k in stats[0]}
            started = time.monotonic()
            report = scan_file(path, hash_file=False)
            seconds = time.monotonic() - started
            rules = ",".join(sorted({f.rule for f in report.findings})) or "-"
            size = path.stat().st_size / 1e6
            row = (
                f"| {name} | {size:.1f} | {total['ops']:,} | {total['memo']:,} | {total['largest_arg']:,} "
                f"| {total['stack']:,} | {report.verdict.value} ({rules}) | {seconds:.1f} "
                f"| {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} |"
            )
            print(row, flush=True)


if __name__ == "__main__":
    main()
