"""Judge decoded Keras Lambda bytecode: which dangerous names it uses and what its strings do.

The mechanism (the names the bytecode calls) decides that a Lambda is dangerous; the constant
payloads (command lines, code strings) decide its category, through the shared assessment of
embedded code (``ScanContext.seams``, which hands them to the script analysis).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from malhug.analyzers.context import Seams
from malhug.analyzers.keras import callables
from malhug.analyzers.keras.marshal_reader import CodeInfo
from malhug.analyzers.shared import deobf, embedded
from malhug.core.model import Category, Severity

# Categories bad enough to call a Lambda critical rather than high: everything from command
# execution up in the precedence, except writing a file.
_PRECEDENCE = embedded.CATEGORY_PRECEDENCE
_CRITICAL = frozenset(_PRECEDENCE[: _PRECEDENCE.index(Category.COMMAND_EXEC) + 1]) - {Category.FILE_WRITE}
MAX_STRINGS = 64
_WRITE_MODE = re.compile(r"[rwaxbt+]*[wax+][rwaxbt+]*")
_DYNAMIC = frozenset({"__import__", "import_module", "getattr", "locate", "__getattribute__"})
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
MAX_STRING_CHARS = 1024 * 1024


@dataclass(frozen=True)
class LambdaAssessment:
    dangerous_names: tuple[str, ...]
    category: Category | None
    severity: Severity
    indicators: tuple[str, ...]
    strings: tuple[str, ...]

    @property
    def is_dangerous(self) -> bool:
        return self.category is not None


_DECODERS = {"b64decode", "decodebytes", "standard_b64decode", "urlsafe_b64decode", "unhexlify", "fromhex", "a2b_hex"}


def _decoded_strings(strings: tuple[str, ...], names: set[str]) -> list[str]:
    """Constants decoded the way the bytecode's own decoder calls would (base64/hex, then zlib)."""
    if not names & _DECODERS:
        return []
    out = []
    for text in strings:
        raw = deobf.b64decode(text, urlsafe="urlsafe_b64decode" in names) if len(text) >= 8 else None
        if raw is None and names & {"unhexlify", "fromhex", "a2b_hex"}:
            raw = deobf.hexdecode(text)
        if raw is None:
            continue
        if "decompress" in names:
            raw = deobf.zlib_decompress(raw) or raw
        decoded = deobf.as_text(raw)
        if decoded is not None:
            out.append(decoded)
    return out


def assess_lambda(
    code: CodeInfo, seams: Seams, *, origin: str, depth: int = 0, bound: tuple[str, ...] = ()
) -> LambdaAssessment:
    """``bound`` are strings the function receives from outside its bytecode: its defaults, its
    closure cells and the Lambda's ``arguments`` (a command kept there is still its payload).
    ``seams`` (the scan context's) assess the constant payloads."""
    co_names = set(code.all_names())
    own = [s for s in code.all_strings() if s not in co_names]
    strings = tuple(dict.fromkeys(s for s in [*own, *bound] if len(s.strip()) > 1))[:MAX_STRINGS]
    names = set(co_names)
    if names & _DYNAMIC:
        # __import__('os'), getattr(m, 'system'): identifier strings are names the code will use.
        names |= {p for s in strings if _IDENT.fullmatch(s) for p in s.split(".")}
    if "open" in names and any(_WRITE_MODE.fullmatch(s) for s in [*code.all_strings(), *bound]):
        names.add("write")  # open(path, 'w'): the file is created even if nothing is written
    decoded = _decoded_strings(strings, names)
    if decoded:
        strings = tuple(dict.fromkeys([*strings, *decoded]))[: MAX_STRINGS + len(decoded)]
    dangerous = sorted(names & callables.DANGEROUS_NAMES)
    categories = callables.categories_of_names(frozenset(dangerous))
    if decoded and dangerous:
        categories.add(Category.OBFUSCATION)
    indicators: list[str] = []
    severity = Severity.INFO
    if dangerous:
        runs_commands = bool(names & callables.COMMAND_NAMES)
        runs_code = bool(names & callables.CODE_NAMES)
        for text in strings:
            text = text[:MAX_STRING_CHARS]
            kinds = (["shell"] if runs_commands else []) + (["python"] if runs_code else [])
            for kind in kinds:
                result = seams.assess_code(text, shell=kind == "shell", origin=origin, depth=depth + 1)
                if result.category is None:
                    continue
                categories.add(result.category)
                indicators.extend(result.indicators)
                severity = max(severity, result.severity, key=lambda s: s.rank)
    category = embedded.most_specific(categories) if categories else None
    if category is not None:
        floor = Severity.CRITICAL if category in _CRITICAL else Severity.HIGH
        severity = max(severity, floor, key=lambda s: s.rank)
    return LambdaAssessment(
        # For the message: the dangerous names and the risky modules they come from (os, system).
        dangerous_names=tuple(sorted(set(dangerous) | (co_names & callables.DANGEROUS_MODULES))) if dangerous else (),
        category=category,
        severity=severity,
        indicators=tuple(dict.fromkeys(indicators)),
        strings=strings,
    )


def describe(code: CodeInfo, assessment: LambdaAssessment, limit: int = 600) -> str:
    """Evidence text: the bytecode's names and string constants, bounded."""
    parts = [f"python {code.layout} bytecode"]
    if code.filename:
        parts.append(f"file {code.filename!r}")
    parts.append("names [" + ", ".join(code.all_names()[:40]) + "]")
    if assessment.strings:
        parts.append("strings [" + ", ".join(repr(s[:200]) for s in assessment.strings[:10]) + "]")
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"
