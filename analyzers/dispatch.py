"""Detect a source's format and run its analyzer; turn every failure into a finding.

This is the only place that catches analyzer errors: a limit becomes MH902, malformed input MH901,
any other exception MH903. None of them can produce a clean verdict.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from malhug.analyzers import formats
from malhug.analyzers.context import ScanContext, Seams, SideFiles
from malhug.analyzers.detect import after_pickle, detect_analyses, detect_format
from malhug.analyzers.limits import DEFAULT_LIMITS, LimitExceeded, Limits, MalformedInput
from malhug.analyzers.shared.source import ByteSource, BytesSource, FileSource
from malhug.core import failures
from malhug.core.model import FileReport, Location
from malhug.core.rules import finding

if TYPE_CHECKING:
    from malhug.analyzers.shared.embedded import CodeAssessment

Analyzer = Callable[[ScanContext, ByteSource], None]
_T = TypeVar("_T")
log = logging.getLogger(__name__)


def _load(fmt: str) -> Analyzer | None:
    """The analyzer function for ``fmt`` (imported on first use; Python's module cache keeps it)."""
    target = formats.ANALYZERS.get(fmt)
    if target is None:
        return None
    module, _, func = target.partition(":")
    analyzer: Analyzer = getattr(importlib.import_module(module), func)
    return analyzer


def analyze_source(ctx: ScanContext, src: ByteSource, format_hint: str | None = None) -> str:
    """Analyze ``src`` inside ``ctx`` with every analysis it gets; returns the primary format.

    Never raises for bad input: detection runs inside the same guard as the analyzers, so a
    detection failure is a finding (MH901/MH902/MH903) like an analyzer's."""
    analyses: list[str] = [formats.UNKNOWN]
    detected: list[str] | None = None
    if format_hint:
        analyses = [format_hint]
    else:
        name = ctx.name if ctx.depth == 0 else (ctx.member or "")
        detected = _guarded(ctx, "format detection", lambda: detect_analyses(src, name, ctx.limits))
        if detected is not None:
            analyses = detected
    primary = analyses[0]
    ctx.formats.append(primary)
    if ctx.depth == 0:
        ctx.analyzed_as = analyses  # grows if a zip is found behind a pickle
    ran = False
    for fmt in analyses:
        if fmt in formats.ANALYZERS:
            ran = True
            ctx.pickle_rest = None
            _guarded(ctx, fmt, partial(_run, ctx, src, fmt))
            if fmt in (formats.PICKLE, formats.JOBLIB) and ctx.pickle_rest is not None:
                # Bytes follow the pickle: other loaders read the same file as a zip or a protobuf model.
                behind = _guarded(ctx, "format detection", partial(after_pickle, src)) or []
                analyses.extend(fmt for fmt in behind if fmt not in analyses)
    if not ran and primary == formats.UNKNOWN and src.size > 0 and detected is not None:
        ctx.add(finding("MH904", f"unrecognised binary format ({src.size} bytes)", evidence=src.read_at(0, 16).hex()))
    return primary


def _run(ctx: ScanContext, src: ByteSource, fmt: str) -> None:
    analyzer = _load(fmt)
    assert analyzer is not None
    ctx.check_time()
    analyzer(ctx, src)


def _analyze_as(ctx: ScanContext, src: ByteSource, fmt: str) -> None:
    analyzer = _load(fmt)
    assert analyzer is not None
    analyzer(ctx, src)


def _keras_config(ctx: ScanContext, value: Any) -> None:
    from malhug.analyzers.keras.config import KerasConfigScanner, looks_like_keras_config

    if looks_like_keras_config(value):
        KerasConfigScanner(ctx).scan(value)


def _assess_code(text: str, *, shell: bool, origin: str, depth: int) -> CodeAssessment:
    """A shell command line (os.system, subprocess with shell=True, popen) or a Python code string
    that will be executed (exec/eval/compile/runpy, Lambda): category and reasons, without the
    detailed findings (their positions in the code string cost the most)."""
    from malhug.analyzers.scripts.embedded import assess_python, assess_shell

    if shell:
        return assess_shell(text, origin=origin, depth=depth)
    return assess_python(text, origin=origin, depth=depth, detail=False)


# What every context made here lends its analyzers (``ScanContext.seams``).
SEAMS = Seams(
    analyze=analyze_source,
    analyze_as=_analyze_as,
    detect_format=detect_format,
    keras_config=_keras_config,
    assess_code=_assess_code,
)


def _guarded(ctx: ScanContext, what: str, work: Callable[[], _T]) -> _T | None:
    """``work()``, with every failure turned into a finding (``None`` then): a limit MH902, malformed
    input MH901, anything else MH903."""
    try:
        return work()
    except LimitExceeded as exc:
        ctx.add(failures.over_limit(f"{what}: {exc}", evidence=str(exc)))
    except MalformedInput as exc:
        ctx.add(failures.malformed(f"{what}: {exc}", location=Location(offset=exc.offset), evidence=str(exc)))
    except RecursionError:
        ctx.add(failures.over_limit(f"{what}: recursion limit reached", evidence="RecursionError"))
    except MemoryError:
        ctx.add(failures.over_limit(f"{what}: out of memory while analyzing", evidence="MemoryError"))
    except Exception as exc:
        log.warning("%s failed on %s: %r", what, ctx.member or ctx.name, exc, exc_info=True)
        label = f"{what} analyzer" if what in formats.ANALYZERS else what
        ctx.add(failures.failed(f"{label} failed: {type(exc).__name__}: {exc}", evidence=repr(exc)[:500]))
    return None


def _sha256(src: ByteSource, chunk: int = 8 * 1024 * 1024) -> str:
    h = hashlib.sha256()
    offset = 0
    while offset < src.size:
        block = src.read_at(offset, chunk)
        if not block:
            break
        h.update(block)
        offset += len(block)
    return h.hexdigest()


def scan_source(
    src: ByteSource,
    *,
    name: str,
    limits: Limits = DEFAULT_LIMITS,
    sha256: str | None = None,
    format_hint: str | None = None,
    load_time: bool | None = None,
    side_files: SideFiles | None = None,
) -> FileReport:
    """Scan one top-level file given as a byte source.

    ``side_files``: where the files it names are read from (``analyzers/shared/sidefiles.py``);
    None follows nothing.

    ``load_time``: whether loading a model or dataset runs this file's Python code (the caller knows
    for a dataset's loading script and its imports); ``None`` lets the script analysis judge.
    """
    ctx = ScanContext(limits=limits, name=name, load_time=load_time, seams=SEAMS, side_files=side_files)
    fmt = analyze_source(ctx, src, format_hint=format_hint)
    report = FileReport(path=name, format=fmt, sha256=sha256, findings=list(ctx.findings), size=src.size)
    if len(ctx.analyzed_as) > 1:
        report.analyzed_as = list(ctx.analyzed_as)
    report.bytes_read = src.bytes_read
    return report


def scan_bytes(data: bytes, *, name: str = "<bytes>", limits: Limits = DEFAULT_LIMITS) -> FileReport:
    src = BytesSource(data)
    hasher = hashlib.sha256()
    hasher.update(data)
    report = scan_source(src, name=name, limits=limits, sha256=hasher.hexdigest())
    report.bytes_read = len(data)
    return report


# Files up to this size get a sha256 in the report by default. Hashing reads every byte, which for
# a multi-gigabyte checkpoint costs far more than the scan itself (that reads only the zip
# directory and the pickle members), so larger files are hashed only when asked.
DEFAULT_HASH_LIMIT = 256 * 1024 * 1024


def scan_file(
    path: str | os.PathLike[str],
    *,
    display: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    hash_file: bool = True,
    hash_limit: int | None = DEFAULT_HASH_LIMIT,
    load_time: bool | None = None,
    scanned_alone: frozenset[Path] = frozenset(),
) -> FileReport:
    """Scan a local file; its sha256 is reported when ``hash_file`` and it is at most ``hash_limit``
    bytes (``None``: any size). ``load_time`` as for ``scan_source``. ``scanned_alone``: the resolved
    paths the caller scans on their own too (a folder scan), not scanned again as side files."""
    shown = display or str(path)
    try:
        with FileSource(path) as src:
            from malhug.analyzers.shared.sidefiles import FolderSideFiles

            beside = FolderSideFiles(Path(path).parent, scanned_alone)
            report = scan_source(src, name=shown, limits=limits, load_time=load_time, side_files=beside)
            read = src.bytes_read
            if hash_file and (hash_limit is None or src.size <= hash_limit):
                report.sha256 = _sha256(src)
            report.bytes_read = read
            return report
    except OSError as exc:
        return _unreadable(shown, f"cannot read: {exc.strerror or exc}")


# Folders that never hold anything a loader runs.
SKIP_DIRS = {".git", "__pycache__", ".venv", "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache"}

# What an entry that is not a regular file is, for the error that says so.
_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _unreadable(path: Path | str, reason: str) -> FileReport:
    """The report of a file or folder that could not be read: ``error`` set and an MH903 finding, so
    it is an ``error`` entry in every output format and never a pass."""
    return FileReport(
        path=str(path),
        format=formats.UNKNOWN,
        error=reason,
        findings=[failures.failed(f"not analyzed: {reason}")],
    )


def _entry_problem(path: Path) -> str | None:
    """Why ``path`` (a name a folder listed) cannot be scanned as a file; None for a regular file.

    A symbolic link to a file is read through (a loader follows it); one that leads nowhere, or to a
    folder (not walked: a link may loop), is reported. FIFOs and devices are never opened."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "cannot read: broken symbolic link" if path.is_symlink() else "cannot read: vanished while scanning"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISDIR(st.st_mode):
        return "not scanned: a symbolic link to a folder (not followed); scan its target"
    kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
    return f"cannot read: {kind}, not a regular file"


def iter_entries(root: Path) -> Iterable[Path | FileReport]:
    """Every file below ``root`` (or ``root`` itself) in name order; what cannot be read (a folder that
    cannot be listed, a broken link, a FIFO or device, a file that vanished) as an error report."""
    problems: list[FileReport] = []

    def listing_failed(exc: OSError) -> None:
        problems.append(_unreadable(exc.filename or root, f"cannot list the folder: {exc.strerror or exc}"))

    if not root.is_dir():
        problem = _entry_problem(root)
        yield root if problem is None else _unreadable(root, problem)
        return
    for dirpath, dirnames, filenames in os.walk(root, onerror=listing_failed):
        yield from problems
        problems.clear()
        links = [d for d in dirnames if (Path(dirpath) / d).is_symlink()]
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and d not in links)
        for fn in sorted([*filenames, *links]):
            p = Path(dirpath) / fn
            problem = _entry_problem(p)
            yield p if problem is None else _unreadable(p, problem)
    yield from problems


def scan_path(
    path: str | os.PathLike[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    on_file: Callable[[Path], None] | None = None,
    hash_limit: int | None = DEFAULT_HASH_LIMIT,
) -> list[FileReport]:
    """Scan a file, or every file below a folder (every analysis its bytes and its name call for).

    A folder is read as a repository: the Python code loading would run (``auto_map`` targets,
    loading scripts, remote-code modules and what they import) is judged as load-time code."""
    root = Path(path)
    if not root.exists() and not root.is_symlink():
        return [FileReport(path=str(path), format=formats.UNKNOWN, error="no such file or folder")]
    reports: list[FileReport] = []
    started = time.monotonic()
    entries = list(iter_entries(root))
    files = [e for e in entries if isinstance(e, Path)]
    # A side file that is also one of the folder's files (a shard its index names) is scanned once, alone.
    alone = frozenset(Path(os.path.realpath(p)) for p in files) if root.is_dir() else frozenset()
    loaded: set[Path] = set()
    if root.is_dir() and any(p.suffix == ".py" for p in files):
        from malhug.analyzers.scripts.repo import local_load_time_code

        loaded = local_load_time_code(root, files, limits.max_source_bytes)
    for entry in entries:
        if isinstance(entry, FileReport):
            reports.append(entry)
            continue
        if on_file is not None:
            on_file(entry)
        load_time = True if entry in loaded else None
        reports.append(
            scan_file(
                entry,
                display=str(entry),
                limits=limits,
                hash_limit=hash_limit,
                load_time=load_time,
                scanned_alone=alone,
            )
        )
    if not reports:
        reports.append(
            FileReport(path=str(root), format=formats.UNKNOWN, error="no files: the folder holds nothing to scan")
        )
    log.debug("scanned %d files in %.3fs", len(reports), time.monotonic() - started)
    return reports
