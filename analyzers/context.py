"""The scan context: findings, limits, deadline and nesting for one top-level file.

Analyzers receive a ``ScanContext`` and a ``ByteSource``; they report through ``ctx.add`` and hand
embedded content (a zip member, a decompressed stream, a pickle inside a pickle) back to the
dispatcher with ``ctx.scan_nested``, which re-anchors the findings inside the member.

Format packages never import one another nor the dispatcher: whatever needs another format's
analysis goes through ``ctx.seams``, the ``Seams`` that ``dispatch`` installs in every context.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from malhug.analyzers.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from malhug.analyzers.shared.source import ByteSource, BytesSource
from malhug.core.model import Finding

if TYPE_CHECKING:
    from malhug.analyzers.shared.embedded import CodeAssessment


class Analyze(Protocol):
    def __call__(self, ctx: ScanContext, src: ByteSource, format_hint: str | None = None) -> str: ...


class AnalyzeAs(Protocol):
    def __call__(self, ctx: ScanContext, src: ByteSource, fmt: str) -> None: ...


class DetectFormat(Protocol):
    def __call__(self, src: ByteSource, name: str = "") -> str: ...


class AnalyzeKerasConfig(Protocol):
    def __call__(self, ctx: ScanContext, value: Any) -> None: ...


class SideFiles(Protocol):
    """Reads the files a scanned file names (a joblib array file, a checkpoint shard), relative to the
    scanned file's folder. The caller fills it: the CLI and the editor from the filesystem, the Hub
    scan from range reads of the same revision. ``open`` returns a source, or None when there is no
    such file there; names are checked (``analyzers/shared/sidefiles.py``) before they reach it.
    ``scanned_alone`` says whether the same scan also scans that file on its own (a folder or a
    revision scanned whole): a shard is then reported once, on its own report."""

    def open(self, name: str) -> ByteSource | None: ...

    def scanned_alone(self, name: str) -> bool: ...


class AssessCode(Protocol):
    def __call__(self, text: str, *, shell: bool, origin: str, depth: int) -> CodeAssessment: ...


@dataclass(frozen=True, slots=True, eq=False)
class Seams:
    """What the framework lends the analyzers, so that no format package imports another.

    - ``analyze(ctx, src, format_hint)``: detect (unless hinted) and analyze ``src`` in ``ctx``
      (``ScanContext.scan_nested`` calls it one level deeper);
    - ``analyze_as(ctx, src, fmt)``: run the analyzer of ``fmt`` on ``src`` at the current level
      (a ``.keras`` archive is first walked as a zip);
    - ``detect_format(src, name)``: the primary format of a container member;
    - ``keras_config(ctx, value)``: the Keras config walk over a parsed JSON value (nothing when the
      value is not shaped like a Keras model config);
    - ``assess_code(text, shell=, origin=, depth=)``: what a code string (or, with ``shell``, a shell
      command) found in a model file would do: its category and reasons (the script analysis,
      loaded on first use).
    """

    analyze: Analyze
    analyze_as: AnalyzeAs
    detect_format: DetectFormat
    keras_config: AnalyzeKerasConfig
    assess_code: AssessCode


def _missing(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("this ScanContext has no seams: make it with seams=malhug.analyzers.dispatch.SEAMS")


# The seams of a context made without the dispatcher (a unit test of one analyzer): any use fails loudly.
NO_SEAMS = Seams(_missing, _missing, _missing, _missing, _missing)


@dataclass(eq=False, slots=True)
class ScanContext:
    """The state of one top-level file's scan, shared by every analyzer and nesting level."""

    limits: Limits = DEFAULT_LIMITS
    findings: list[Finding] = field(default_factory=list)
    depth: int = 0
    deadline: float = 0.0  # 0: ``limits.max_seconds`` from now
    # Formats seen, outermost first (e.g. ["7z", "pytorch-zip", "pickle"]); the file report's
    # ``format`` is the outermost.
    formats: list[str] = field(default_factory=list)
    # Name of the top-level file (used for hints like "saved_model.pb", never for the format).
    name: str = ""
    # Member path prefix of the current nesting level (None at top level).
    member: str | None = None
    # Whether loading a model or dataset runs this file's Python code (True for a dataset's loading
    # script and the modules it imports); None: the script analysis judges from path and text.
    load_time: bool | None = None
    # What the framework lends this scan (``dispatch`` installs its ``SEAMS``).
    seams: Seams = NO_SEAMS
    # Every format the top-level file was analyzed as, the primary (``formats[0]``) first: a file
    # a loader could open several ways gets every analysis (e.g. ["text", "pickle"]).
    analyzed_as: list[str] = field(default_factory=list, init=False)
    # Set by the pickle analysis of the current source: the offset of bytes it left after the
    # stream (trailing data, or a break that is not the end of the data), else None.
    pickle_rest: int | None = field(default=None, init=False)
    # The files beside this one that its loader opens (None: bytes with no folder, nothing to follow),
    # and the names already followed in this scan (each is scanned once, at most ``max_side_files``).
    side_files: SideFiles | None = None
    side_seen: set[str] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.deadline = self.deadline or time.monotonic() + self.limits.max_seconds

    def __repr__(self) -> str:
        return f"ScanContext(name={self.name!r}, member={self.member!r}, depth={self.depth}, findings={len(self.findings)})"

    def add(self, finding: Finding) -> None:
        self.findings.append(finding.inside(self.member))

    def extend(self, findings: list[Finding] | tuple[Finding, ...]) -> None:
        for f in findings:
            self.add(f)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded("analysis time (seconds)", self.limits.max_seconds)

    @contextmanager
    def nested(self, member: str) -> Iterator[None]:
        """Run analysis of ``member`` one level deeper; findings are placed inside it."""
        if self.depth + 1 > self.limits.max_nesting_depth:
            raise LimitExceeded("nesting depth", self.limits.max_nesting_depth, self.depth + 1)
        saved_member, saved_depth = self.member, self.depth
        self.member = member if saved_member is None else f"{saved_member}:{member}"
        self.depth += 1
        try:
            yield
        finally:
            self.member, self.depth = saved_member, saved_depth

    def scan_nested(self, data: bytes | ByteSource, member: str, format_hint: str | None = None) -> str:
        """Detect and analyze embedded content; returns the format it was analyzed as."""
        src = BytesSource(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
        with self.nested(member):
            return self.seams.analyze(self, src, format_hint=format_hint)
