"""The core model: severities, categories, findings, verdicts and reports.

Everything else in MalHug produces or consumes these types. They are plain, immutable data with a
stable JSON form (``docs/REPORT.md``); nothing here knows about files, the network or LSP.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: info=0 … critical=4."""
        return _SEVERITY_RANK[self]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class Category(enum.Enum):
    """The closed list of attack categories (``docs/CATEGORIES.md``)."""

    REVERSE_SHELL = "reverse-shell"
    CREDENTIAL_THEFT = "credential-theft"
    RECON = "recon"
    EXFILTRATION = "exfiltration"
    COMMAND_EXEC = "command-exec"
    CODE_EXEC = "code-exec"
    DOWNLOAD_EXEC = "download-exec"
    FILE_WRITE = "file-write"
    DESTRUCTIVE = "destructive"
    OBFUSCATION = "obfuscation"
    TEMPLATE_INJECTION = "template-injection"
    PATH_TRAVERSAL = "path-traversal"
    UNSAFE_IMPORT = "unsafe-import"
    UNSAFE_FORMAT = "unsafe-format"
    RESOURCE_ABUSE = "resource-abuse"
    MALFORMED = "malformed"


class Verdict(enum.Enum):
    CLEAN = "clean"
    SUSPICIOUS = "suspicious"
    MALICIOUS = "malicious"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _VERDICT_RANK[self]

    @staticmethod
    def worst(verdicts: list[Verdict] | tuple[Verdict, ...]) -> Verdict:
        return max(verdicts, key=lambda v: v.rank, default=Verdict.CLEAN)


# `error` ranks between suspicious and malicious: it is worse than anything we could read and call
# merely risky, but evidence of an attack still wins.
_VERDICT_RANK = {Verdict.CLEAN: 0, Verdict.SUSPICIOUS: 1, Verdict.ERROR: 2, Verdict.MALICIOUS: 3}


def verdict_for_severity(severity: Severity) -> Verdict:
    """What one finding of this severity makes of a file on its own.

    critical/high: evidence of an attack -> malicious; medium: a risky capability or something we
    could not analyze -> suspicious; low/info: a note that leaves the file clean.
    """
    if severity >= Severity.HIGH:
        return Verdict.MALICIOUS
    if severity is Severity.MEDIUM:
        return Verdict.SUSPICIOUS
    return Verdict.CLEAN


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is.

    ``member`` names the entry inside a container (zip member, HDF5 attribute path, GGUF key);
    ``offset`` is the byte offset of the opcode inside that stream; ``line``/``column`` (1-based)
    and their ``end_`` counterparts locate source text.
    """

    member: str | None = None
    offset: int | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "member": self.member,
            "offset": self.offset,
            "line": self.line,
            "column": self.column,
        }
        if self.end_line is not None:
            data["end_line"] = self.end_line
            data["end_column"] = self.end_column
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Location:
        return Location(
            member=data.get("member"),
            offset=data.get("offset"),
            line=data.get("line"),
            column=data.get("column"),
            end_line=data.get("end_line"),
            end_column=data.get("end_column"),
        )

    def inside(self, member: str | None) -> Location:
        """This location seen from the container that holds ``member``."""
        if member is None:
            return self
        joined = member if self.member is None else f"{member}:{self.member}"
        return dataclasses.replace(self, member=joined)


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of a data-flow path (source -> … -> sink) or of a nesting chain."""

    message: str
    location: Location

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "location": self.location.to_dict()}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> TraceStep:
        return TraceStep(message=data["message"], location=Location.from_dict(data["location"]))


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that fired, where, with what evidence (and the data-flow path when there is one)."""

    rule: str
    severity: Severity
    category: Category
    message: str
    location: Location = field(default_factory=Location)
    evidence: str = ""
    trace: tuple[TraceStep, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "category": self.category.value,
            "message": self.message,
            "location": self.location.to_dict(),
            "evidence": self.evidence,
        }
        if self.trace:
            data["trace"] = [step.to_dict() for step in self.trace]
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Finding:
        return Finding(
            rule=data["rule"],
            severity=Severity(data["severity"]),
            category=Category(data["category"]),
            message=data["message"],
            location=Location.from_dict(data.get("location") or {}),
            evidence=data.get("evidence", ""),
            trace=tuple(TraceStep.from_dict(s) for s in data.get("trace", ())),
        )

    def inside(self, member: str | None) -> Finding:
        """This finding re-anchored inside the container member ``member``."""
        if member is None:
            return self
        return dataclasses.replace(
            self,
            location=self.location.inside(member),
            trace=tuple(dataclasses.replace(s, location=s.location.inside(member)) for s in self.trace),
        )


def sort_findings(findings: list[Finding] | tuple[Finding, ...]) -> list[Finding]:
    """Worst first, then by place: a stable order for reports and tests."""
    return sorted(
        findings,
        key=lambda f: (
            -f.severity.rank,
            f.location.member or "",
            f.location.offset if f.location.offset is not None else -1,
            f.location.line or 0,
            f.location.column or 0,
            f.rule,
        ),
    )


@dataclass(slots=True)
class FileReport:
    """The findings and verdict of one scanned file (or why it could not be read)."""

    path: str
    format: str
    sha256: str | None = None
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    size: int | None = None
    bytes_read: int = 0
    # Every format the file was analyzed as when it got more than one analysis (``format`` first);
    # None otherwise. Optional in the JSON report.
    analyzed_as: list[str] | None = None

    @property
    def verdict(self) -> Verdict:
        worst = Verdict.worst([verdict_for_severity(f.severity) for f in self.findings])
        if self.error is not None and worst is not Verdict.MALICIOUS:
            return Verdict.ERROR
        return worst

    @property
    def headline(self) -> Finding | None:
        """The finding that sums the file up: most dangerous category among those deciding the verdict."""
        from malhug.core.categories import headline

        return headline(self.findings)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "format": self.format,
            "sha256": self.sha256,
            "verdict": self.verdict.value,
            "findings": [f.to_dict() for f in sort_findings(self.findings)],
            "error": self.error,
        }
        if self.analyzed_as:
            out["analyzed_as"] = list(self.analyzed_as)
        head = self.headline
        if head is not None and verdict_for_severity(head.severity) is not Verdict.CLEAN:
            out["category"] = head.category.value
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> FileReport:
        return FileReport(
            path=data["path"],
            format=data["format"],
            sha256=data.get("sha256"),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            error=data.get("error"),
            analyzed_as=data.get("analyzed_as"),
        )


@dataclass(slots=True)
class ScanStats:
    """How much a scan read and how long it took."""

    files: int = 0
    bytes_read: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "bytes_read": self.bytes_read, "seconds": round(self.seconds, 6)}


@dataclass(slots=True)
class ScanReport:
    """Every file of a scan, in the JSON report's shape."""

    files: list[FileReport] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    # Extra top-level sections added compatibly (for example the hub's own scan status per target).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        return Verdict.worst([f.verdict for f in self.files])

    def to_dict(self) -> dict[str, Any]:
        from malhug import __version__

        data: dict[str, Any] = {
            "tool": {"name": "malhug", "version": __version__},
            "verdict": self.verdict.value,
            "files": [f.to_dict() for f in self.files],
            "stats": self.stats.to_dict(),
        }
        data.update(self.extra)
        return data
