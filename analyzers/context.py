"""The scan context: findings, limits, deadline and nesting for one top-level file.

Analyzers receive a ``ScanContext`` and a ``ByteSource``; they report through ``ctx.add`` and hand
embedded content (a zip member, a decompressed stream, a pickle inside a pickle) back to the
dispatcher with ``ctx.scan_nested``, which re-anchors the findings inside the member.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from malhug.analyzers.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from malhug.analyzers.shared.source import ByteSource, BytesSource
from malhug.core.model import Finding


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
    # Every format the top-level file was analyzed as, the primary (``formats[0]``) first: a file
    # a loader could open several ways gets every analysis (e.g. ["text", "pickle"]).
    analyzed_as: list[str] = field(default_factory=list, init=False)
    # Set by the pickle analysis of the current source: the offset of bytes it left after the
    # stream (trailing data, or a break that is not the end of the data), else None.
    pickle_rest: int | None = field(default=None, init=False)

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
        from malhug.analyzers.dispatch import analyze_source

        src = BytesSource(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
        with self.nested(member):
            return analyze_source(self, src, format_hint=format_hint)
