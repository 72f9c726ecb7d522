"""The contract every fuzz target checks on every input.

- the scan (or the target parser) raises nothing: every failure is a finding, and an analyzer crash
  (MH903) counts as a bug, since it means an exception nobody anticipated;
- the work is bounded: small ``FUZZ_LIMITS`` (the analyzer's own deadline is ``max_seconds``), a
  hypothesis deadline per example well under it (set by the profiles in ``conftest.py``), and the
  growth of the process's peak RSS under ``MEMORY_BOUND``;
- never ``clean`` where a call-capable opcode or a payload was reachable (``must_flag``);
- nothing executed: the payloads of the seeds would create files in ``sentinel_dir()``; none may appear.

A failing input is written as base64 text once hypothesis has shrunk it: under ``regressions/`` in a
long run (``MALHUG_FUZZ_SAVE=1``, set by ``make fuzz``), where ``test_regressions.py`` replays it, and
under ``build/fuzz/failures/`` otherwise (a CI run prints it and keeps it there).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import resource
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from malhug.analyzers.api import Limits, scan_bytes
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.core.model import FileReport, Verdict

# Small limits: a fuzz input is at most a few hundred kilobytes, so anything that needs more is a bug
# (or an input that must be refused with MH902), and a hang shows up in seconds.
FUZZ_LIMITS = Limits(
    max_stream_bytes=8 * 1024 * 1024,
    max_decompressed_bytes=32 * 1024 * 1024,
    max_pickle_ops=200_000,
    max_memo_entries=50_000,
    max_stack_depth=10_000,
    max_members=2_000,
    max_source_bytes=2 * 1024 * 1024,
    max_seconds=20.0,
)
# Growth of the process's peak resident set that one example may cause.
MEMORY_BOUND = 256 * 1024 * 1024
REGRESSIONS = Path(__file__).parent / "regressions"
FAILURES = Path(__file__).parent.parent.parent / "build" / "fuzz" / "failures"
# Examples run per target in this process (written out by conftest for ``make fuzz``'s summary).
EXAMPLES: Counter[str] = Counter()


@functools.cache
def sentinel_dir() -> Path:
    """The folder the seeds' payloads would write into if anything ever ran them."""
    return Path(tempfile.mkdtemp(prefix="malhug-fuzz-sentinel-"))


def sentinel_command(tag: str) -> str:
    return f"touch {sentinel_dir() / tag}"


def sentinel_python(tag: str) -> str:
    return f"open({str(sentinel_dir() / tag)!r}, 'w').close()"


def assert_nothing_ran() -> None:
    created = sorted(p.name for p in sentinel_dir().iterdir())
    assert not created, f"a payload ran during the scan: {created}"


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def count(target: str) -> None:
    """Count one example of ``target`` (``make fuzz`` sizes its batches from these counts)."""
    EXAMPLES[target] += 1
    if EXAMPLES[target] % 500 == 0:
        write_stats()


@contextmanager
def bounded(target: str, data: bytes | str, **meta: str) -> Iterator[None]:
    """Run one example: count it, check memory growth and the sentinel, save the input if it fails."""
    count(target)
    before = _peak_rss()
    try:
        yield
        assert_nothing_ran()
        grown = _peak_rss() - before
        assert grown < MEMORY_BOUND, f"peak RSS grew by {grown / 2**20:.0f} MiB on one input"
    except BaseException as exc:
        if not isinstance(exc, KeyboardInterrupt):
            save_failure(target, data, f"{type(exc).__name__}: {str(exc)[:200]}", **meta)
        raise


def write_stats() -> None:
    """Examples run so far per target, for ``make fuzz``'s summary (``MALHUG_FUZZ_STATS``); written as
    the run goes, so that a batch stopped at the end of its budget still counts."""
    out = os.environ.get("MALHUG_FUZZ_STATS")
    if out and EXAMPLES:
        Path(out).write_text(json.dumps(dict(EXAMPLES), sort_keys=True), encoding="utf-8")


def _is_final_example() -> bool:
    """Whether hypothesis is replaying its shrunk failing example (only that one is saved)."""
    from hypothesis.control import _current_build_context

    context = _current_build_context.value
    return bool(context is not None and getattr(context, "is_final", False))


def save_failure(target: str, data: bytes | str, reason: str, **meta: str) -> Path | None:
    if not _is_final_example():
        return None
    folder = REGRESSIONS if os.environ.get("MALHUG_FUZZ_SAVE") == "1" else FAILURES
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()[:12]
    path = folder / f"{target}-{digest}.b64"
    if path.exists():
        return path
    header = {"target": target, "kind": "text" if isinstance(data, str) else "bytes", **meta}
    header["reason"] = reason.replace("\n", " ")
    lines = [f"# {k}: {v}" for k, v in header.items()]
    body = base64.b64encode(raw).decode("ascii")
    lines += [body[i : i + 76] for i in range(0, len(body), 76)]
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check_report(report: FileReport, *, must_flag: bool) -> None:
    crashes = [f for f in report.findings if f.rule == "MH903"]
    assert not crashes, f"an analyzer crashed: {crashes[0].message}"
    assert report.error is None, report.error
    if must_flag:
        shown = [(f.rule, f.message[:100]) for f in report.findings]
        assert report.verdict is not Verdict.CLEAN, f"reachable payload reported clean as {report.format}: {shown}"


def check_scan(target: str, data: bytes, *, name: str = "<fuzz>", must_flag: bool = False) -> FileReport:
    """The whole pipeline (detection, dispatch, analyzers) on ``data``, under the contract."""
    with bounded(target, data, name=name, must_flag=str(must_flag)):
        report = scan_bytes(data, name=name, limits=FUZZ_LIMITS)
        check_report(report, must_flag=must_flag)
    return report


def check_parser(target: str, data: bytes | str, parse: Callable[[bytes | str], object]) -> object:
    """A parser's own entry point (a module-level function of the input, so that a saved input can be
    replayed): it may refuse the input only with ``MalformedInput``/``LimitExceeded``."""
    with bounded(target, data, replay=f"{parse.__module__}:{parse.__qualname__}"):
        try:
            return parse(data)
        except (MalformedInput, LimitExceeded) as exc:
            return exc


def read_regression(path: Path) -> tuple[dict[str, str], bytes | str]:
    meta: dict[str, str] = {}
    body = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            key, _, value = line[2:].partition(": ")
            meta[key] = value
        elif line.strip():
            body.append(line.strip())
    raw = base64.b64decode("".join(body))
    return meta, raw.decode("utf-8", "surrogatepass") if meta.get("kind") == "text" else raw


def count_deadline_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time an analyzer checks its deadline (``ScanContext.check_time``)."""
    from malhug.analyzers.context import ScanContext

    checks: list[int] = []
    real = ScanContext.check_time

    def counting(self: ScanContext) -> None:
        checks.append(1)
        real(self)

    monkeypatch.setattr(ScanContext, "check_time", counting)
    return checks
