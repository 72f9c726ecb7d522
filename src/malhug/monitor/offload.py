"""Analysis in the executor, network reads in the runner's threads.

The analyzers pull the byte ranges they need as they go (a zip's end record, then its directory, then
the pickle members), so the reads of a file cannot all be fetched before its analysis. The runner's
I/O threads therefore drive each file's analysis in *rounds*: the analysis runs in the executor (a
process pool, or Dask) over the bytes fetched so far; a read outside them stops it and names the
range it needs; the I/O thread fetches that range through the file's own source (its read-ahead
block, the download cap, the shared rate budget, the kept-bytes record: all unchanged) and runs the
analysis again with it. The analysis is pure and deterministic, so the last round's report is the
report the analysis would have made reading the network itself; a read the source refuses (past the
cap) or that fails is handed to the next round, which raises the same error at the same read.

Bytes cross to the executor, nothing else: the workers need neither the Hub nor the store. A file's
bytes in flight are bounded by the download cap; sequential reads grow their fetch (64 KiB, doubling)
so a long pickle costs a few rounds, not one per block. A file whose analysis opens side files (a
shard index, ONNX external data) or needs more than ``MAX_ROUNDS`` rounds is analyzed in the I/O
thread over the bytes already fetched plus its source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from malhug.analyzers.api import BytesSource, LimitExceeded, Limits, SourceBase, clamp_read, covered, scan_source
from malhug.core.model import FileReport

log = logging.getLogger(__name__)

BLOCK = 64 * 1024
MAX_ROUNDS = 24
MAX_AHEAD = 8 * 2**20  # the largest read-ahead of a sequential read


class NeedBytes(LimitExceeded):
    """Raised by ``Segments`` at a read outside the bytes it holds."""


@dataclass(frozen=True)
class Failure:
    """A read the source refused or that failed, to raise again at the same read in the next round."""

    offset: int
    length: int
    kind: str  # "limit" or "read"
    message: str
    what: str = ""
    limit: float = 0.0
    actual: float | None = None

    def error(self) -> Exception:
        if self.kind == "limit":
            return LimitExceeded(self.what, self.limit, self.actual)
        from malhug.hub.rangesource import RemoteReadError

        return RemoteReadError(self.message)


class Segments(SourceBase):
    """A ``ByteSource`` over fetched segments of a file of ``size`` bytes; remembers the first read it
    could not serve (``need``)."""

    def __init__(self, size: int, segments: list[tuple[int, bytes]], failures: tuple[Failure, ...]):
        super().__init__(size)
        self._segments = segments
        self._failures = {(f.offset, f.length): f for f in failures}
        self.need: tuple[int, int] | None = None

    def _read_range(self, offset: int, length: int) -> bytes:
        hit = covered(self._segments, offset, length)
        if hit is not None:
            self._read += length
            return hit
        failure = self._failures.get((offset, length))
        if failure is not None:
            raise failure.error()
        if self.need is None:
            self.need = (offset, length)
        raise NeedBytes("bytes not fetched yet", 0, offset + length)


class SideProbe:
    """Side files for an analysis in the executor: asking for one sends the file back to the I/O
    thread (side files are read from the Hub there)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def open(self, name: str) -> Any:
        self.asked.append(name)
        return None

    def scanned_alone(self, name: str) -> bool:
        self.asked.append(name)  # the I/O thread's side files know; the file goes back there
        return False


@dataclass(frozen=True)
class Round:
    """One round of a file's analysis: picklable values in (to any executor)."""

    size: int
    segments: list[tuple[int, bytes]]
    failures: tuple[Failure, ...]
    name: str
    limits: Limits
    sha256: str | None
    format_hint: str | None
    load_time: bool | None
    side_files: bool


@dataclass
class RoundResult:
    report: FileReport | None = None
    need: tuple[int, int] | None = None
    raised: Failure | None = None
    side_files: bool = False


def analyze_round(job: Round) -> RoundResult:
    """The analysis of ``job``'s file over its fetched bytes (runs in the executor)."""
    src = Segments(job.size, job.segments, job.failures)
    probe = SideProbe() if job.side_files else None
    try:
        report = scan_source(
            src,
            name=job.name,
            limits=job.limits,
            sha256=job.sha256,
            format_hint=job.format_hint,
            load_time=job.load_time,
            side_files=probe,
        )
    except NeedBytes:
        return RoundResult(need=src.need)
    except (LimitExceeded, OSError) as exc:  # a failure handed in, raised out of format detection
        if src.need is not None:
            return RoundResult(need=src.need)
        raised = next((f for f in job.failures if f.message == str(exc)), None)
        if raised is None:
            raise
        return RoundResult(raised=raised)
    if src.need is not None:
        return RoundResult(need=src.need)
    if probe is not None and probe.asked:
        return RoundResult(side_files=True)
    return RoundResult(report=report)


class Fetched:
    """The segments of one file fetched so far, over its source, with a sequential read-ahead."""

    def __init__(self, source: Any):
        self.source = source
        self.segments: list[tuple[int, bytes]] = []
        self.ahead = BLOCK
        self._end = -1

    def fetch(self, offset: int, length: int) -> Failure | None:
        """Fetch at least ``offset, length``; a refusal or failure is returned (raised next round).

        A read that starts inside bytes already fetched is fetched from their end (and the segments
        merged), so no byte crosses the network twice."""
        size, end = self.source.size, offset + length
        start = next((s + len(d) for s, d in self.segments if s <= offset < s + len(d)), offset)
        self.ahead = min(self.ahead * 2, MAX_AHEAD) if start == self._end else BLOCK
        want = min(max(end - start, self.ahead), size - start)
        budget = getattr(self.source, "budget", None)
        if budget is not None:  # never ask more than the cap pays for: the refusal stays the source's own
            want = max(end - start, min(want, budget - self.source.bytes_read))
        try:
            data = self.source.read_at(start, want)
        except LimitExceeded as exc:
            return Failure(offset, length, "limit", str(exc), exc.what, exc.limit, exc.actual)
        except OSError as exc:
            return Failure(offset, length, "read", str(exc))
        self._end = start + len(data)
        self._add(start, bytes(data))
        return None

    def _add(self, start: int, data: bytes) -> None:
        merged: list[tuple[int, bytes]] = []
        for s, d in sorted([*self.segments, (start, data)]):
            if merged and s <= merged[-1][0] + len(merged[-1][1]):
                ps, pd = merged[-1]
                merged[-1] = (ps, pd + d[ps + len(pd) - s :])
            else:
                merged.append((s, d))
        self.segments = merged

    def view(self) -> Any:
        """The bytes fetched so far, then the source: for an analysis in this thread."""
        return _Layered(self.segments, self.source)


class _Layered:
    def __init__(self, segments: list[tuple[int, bytes]], source: Any):
        self._segments = segments
        self._source = source

    @property
    def size(self) -> int:
        return int(self._source.size)

    @property
    def bytes_read(self) -> int:
        return int(self._source.bytes_read)

    def read_at(self, offset: int, length: int) -> bytes:
        length = clamp_read(offset, length, self.size)
        hit = covered(self._segments, offset, length)
        return hit if hit is not None else bytes(self._source.read_at(offset, length))


@dataclass
class OffloadStats:
    files: int = 0
    rounds: int = 0
    here: int = 0  # analyzed in the I/O thread (side files, too many rounds)


@dataclass
class Offload:
    """``scan_source``'s signature, for the hub layer's ``Job.analyze``: the analysis runs in
    ``executor`` in rounds, the reads in the calling thread."""

    executor: Executor
    stats: OffloadStats = field(default_factory=OffloadStats)
    run: Callable[[Round], RoundResult] = analyze_round

    def __call__(
        self,
        src: Any,
        *,
        name: str,
        limits: Limits,
        sha256: str | None = None,
        format_hint: str | None = None,
        load_time: bool | None = None,
        side_files: Any = None,
    ) -> FileReport:
        fetched = Fetched(src)
        if isinstance(src, BytesSource):
            fetched.segments.append((0, src.read_at(0, src.size)))
        failures: list[Failure] = []
        self.stats.files += 1
        for _ in range(MAX_ROUNDS):
            job = Round(
                src.size,
                fetched.segments,
                tuple(failures),
                name,
                limits,
                sha256,
                format_hint,
                load_time,
                side_files is not None,
            )
            self.stats.rounds += 1
            out = self.executor.submit(self.run, job).result()
            if out.report is not None:
                return out.report
            if out.raised is not None:
                raise out.raised.error()
            if out.side_files:
                break
            if out.need is None or any((f.offset, f.length) == out.need for f in failures):
                raise RuntimeError(f"the analysis of {name} asked for nothing it lacks")  # a bug, not Hub trouble
            failure = fetched.fetch(*out.need)
            if failure is not None:
                failures.append(failure)
        self.stats.here += 1
        log.debug("%s: analyzed in the I/O thread", name)
        return scan_source(
            fetched.view(),
            name=name,
            limits=limits,
            sha256=sha256,
            format_hint=format_hint,
            load_time=load_time,
            side_files=side_files,
        )
