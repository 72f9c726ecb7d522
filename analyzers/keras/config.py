"""Walk a Keras model/training config (JSON) for code that runs when the model is loaded.

The same walk serves every Keras container: the ``model_config`` attribute of an H5 file, the
``config.json`` of a ``.keras`` zip, the node metadata of ``keras_metadata.pb`` and JSON files. It
reports Lambda layers (their marshalled bytecode is decoded and judged), references to functions or
classes outside Keras' namespace, base64 bytecode hidden anywhere, and safe-mode tricks.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from malhug.analyzers.context import ScanContext
from malhug.analyzers.keras import callables, lambda_code
from malhug.analyzers.keras.marshal_reader import CodeInfo, printable_strings, read_code
from malhug.analyzers.knowledge.callables import category_of, kind_of
from malhug.analyzers.knowledge.names import canonical
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.core.model import Category, Location, Severity
from malhug.core.rules import finding

# The rules this module emits, each id written only here (keras_v3.py reports INVALID_CONFIG too).
LAMBDA_DANGER = "MH301"
LAMBDA_BYTECODE = "MH302"
LAMBDA_UNREADABLE = "MH303"
DANGEROUS_REFERENCE = "MH304"
OUTSIDE_REFERENCE = "MH305"
SAFE_MODE_OFF = "MH306"
INVALID_CONFIG = "MH307"

_B64 = re.compile(r"[A-Za-z0-9+/=\s]{24,}")
_LAMBDA_KEYS = ("function", "output_shape", "mask")
MAX_NODES = 2_000_000
MAX_DEPTH = 400


def decode_marshal_b64(text: str) -> bytes | None:
    """Raw marshal bytes if ``text`` is base64 of something that starts like a code object."""
    if not _B64.fullmatch(text):
        return None
    try:
        raw = binascii.a2b_base64(text.encode("ascii"))
    except (binascii.Error, ValueError):
        return None
    if raw[:1] in (b"c", b"\xe3"):
        return raw
    return None


def _callable_category(ref: str) -> Category | None:
    """The category of a dotted callable, from the shared catalogue of dangerous callables (the one
    the pickle analysis uses)."""
    module, _, name = ref.rpartition(".")
    kind = kind_of(canonical(module, name)[0])
    return category_of(kind) if kind is not None else None


MAX_KEY_SHOWN = 40


@dataclass(frozen=True, eq=False, repr=False, slots=True)
class _Path:
    """A node's JSON path, spelled out only when a message needs it: a config of a long key over a
    long list would otherwise hold one copy of the key per item (a 1 MB file, gigabytes)."""

    parent: _Path | str
    step: str | int

    def __str__(self) -> str:
        steps: list[str] = []
        node: _Path | str = self
        while isinstance(node, _Path):
            step = node.step
            if isinstance(step, int):
                steps.append(f"[{step}]")
            elif len(step) > MAX_KEY_SHOWN:
                digest = hashlib.sha256(step.encode("utf-8", "surrogatepass")).hexdigest()[:8]
                steps.append(f".{step[:MAX_KEY_SHOWN]}…{digest}")
            else:
                steps.append(f".{step}")
            node = node.parent
        return node + "".join(reversed(steps))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, str):
            yield p, v
        elif isinstance(v, dict):
            stack.extend((item, f"{p}.{k}") for k, item in v.items())
        elif isinstance(v, list):
            stack.extend((item, f"{p}[{i}]") for i, item in enumerate(v))


@dataclass
class KerasConfigScanner:
    """Reports into ``ctx``; ``member`` locates the config (``config.json``, ``model_config``…)."""

    ctx: ScanContext
    member: str | None = None
    # Strings already judged as a Lambda's code or function reference, by identity (the value is kept
    # so that its id cannot be reused by a later config this scanner walks).
    handled: dict[int, str] = field(default_factory=dict)
    # Bytecode already reported in this file (a SavedModel repeats each layer's config per node).
    seen_code: set[bytes] = field(default_factory=set)

    def _loc(self) -> Location:
        return Location(member=self.member)

    # -- entry points ----------------------------------------------------------------------
    def scan_text(self, text: str | bytes, what: str = "Keras config", *, required: bool = True) -> Any:
        """Parse JSON text and walk it; returns the parsed value (``None`` when it does not parse).

        Text that must be a config (``required``) and does not parse is reported (MH307); other
        text that does not parse is only checked as a string.
        """
        if len(text) > self.ctx.limits.max_stream_bytes:
            raise LimitExceeded(f"{what} size", self.ctx.limits.max_stream_bytes, len(text))
        try:
            value = json.loads(text)
        except RecursionError as exc:
            raise LimitExceeded(f"{what} JSON nesting", MAX_DEPTH) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            if not required:
                self.scan(text if isinstance(text, str) else text.decode("utf-8", "replace"))
                return None
            self.ctx.add(
                finding(
                    INVALID_CONFIG, f"{what} is not valid JSON: {exc}", location=self._loc(), evidence=str(text[:200])
                )
            )
            return None
        self.scan(value)
        return value

    def scan(self, value: Any, path: str = "$") -> None:
        stack: list[tuple[Any, _Path | str, int]] = [(value, path, 0)]
        nodes = 0
        while stack:
            v, p, depth = stack.pop()
            nodes += 1
            if nodes > MAX_NODES:
                raise LimitExceeded("Keras config nodes", MAX_NODES, nodes)
            if depth > MAX_DEPTH:
                raise LimitExceeded("Keras config nesting", MAX_DEPTH, depth)
            if nodes % 4096 == 0:
                self.ctx.check_time()
            if isinstance(v, dict):
                self._dict(v, p)
                stack.extend((item, _Path(p, str(k)), depth + 1) for k, item in reversed(list(v.items())))
            elif isinstance(v, list):
                stack.extend((item, _Path(p, i), depth + 1) for i, item in reversed(list(enumerate(v))))
            elif isinstance(v, str) and id(v) not in self.handled:
                self._string(v, p)

    # -- dicts -----------------------------------------------------------------------------
    def _dict(self, d: dict[str, Any], path: _Path | str) -> None:
        class_name = d.get("class_name")
        if class_name == "Lambda" or (isinstance(class_name, str) and class_name.endswith(">Lambda")):
            cfg = d.get("config")
            if isinstance(cfg, dict):
                self._lambda_layer(cfg, f"{path}.config")
        elif class_name == "__lambda__":
            self._lambda_value(d.get("config"), f"{path}.config", "function", str(d.get("name") or "?"), True)
        if d.get("safe_mode") is False:
            self.ctx.add(
                finding(
                    SAFE_MODE_OFF,
                    f"config sets safe_mode to false at {path}.safe_mode",
                    location=self._loc(),
                    evidence='"safe_mode": false',
                    severity=Severity.MEDIUM,
                )
            )
        if isinstance(class_name, str):
            self._object_reference(d, class_name, path)

    def _object_reference(self, d: dict[str, Any], class_name: str, path: _Path | str) -> None:
        module = d.get("module")
        registered = d.get("registered_name")
        refs: list[str] = []
        if isinstance(module, str) and module:
            cfg = d.get("config")
            leaf = cfg if class_name == "function" and isinstance(cfg, str) else class_name
            refs.append(f"{module}.{leaf}")
        if "." in class_name and not class_name.startswith("__"):
            refs.append(class_name)
        if isinstance(registered, str) and "." in registered and ">" not in registered:
            refs.append(registered)
        for ref in dict.fromkeys(refs):
            self._reference(ref, path)

    def _reference(self, ref: str, path: _Path | str, *, from_lambda: bool = False) -> None:
        module = ref.rsplit(".", 1)[0] if "." in ref else ref
        category = _callable_category(ref)
        if category is not None or callables.is_dangerous_module(module):
            # A known dangerous callable, or any attribute of a module a model never needs.
            severity = Severity.CRITICAL if category not in (None, Category.CODE_EXEC) else Severity.HIGH
            self.ctx.add(
                finding(
                    DANGEROUS_REFERENCE,
                    f"config at {path} makes the loader import and call {ref}",
                    location=self._loc(),
                    evidence=ref,
                    category=category or Category.CODE_EXEC,
                    severity=severity,
                )
            )
        elif not callables.is_keras_module(module) and not (from_lambda and module == "__main__"):
            self.ctx.add(
                finding(
                    OUTSIDE_REFERENCE,
                    f"config at {path} references {ref}, outside Keras' own namespace",
                    location=self._loc(),
                    evidence=ref,
                )
            )

    # -- strings ---------------------------------------------------------------------------
    def _string(self, text: str, path: _Path | str) -> None:
        if "enable_unsafe_deserialization" in text:
            self.ctx.add(
                finding(
                    SAFE_MODE_OFF,
                    f"config at {path} calls keras.config.enable_unsafe_deserialization",
                    location=self._loc(),
                    evidence=text[:200],
                )
            )
        raw = decode_marshal_b64(text) if len(text) >= 24 else None
        if raw is not None:
            self._bytecode(raw, str(path), "<hidden>", hidden=True)

    # -- Lambda ----------------------------------------------------------------------------
    def _lambda_layer(self, cfg: dict[str, Any], path: str) -> None:
        name = str(cfg.get("name") or "?")
        for key in _LAMBDA_KEYS:
            if key not in cfg or cfg[key] is None:
                continue
            kind = cfg.get(f"{key}_type")
            value = cfg[key]
            if kind == "function" and isinstance(value, str):
                module = cfg.get("module" if key == "function" else f"{key}_module")
                ref = f"{module}.{value}" if isinstance(module, str) and module else value
                self.handled[id(value)] = value
                self._reference(ref, f"{path}.{key}", from_lambda=True)
                continue
            must_be_code = kind == "lambda" or (key == "function" and not isinstance(value, str))
            arguments = [t for _, t in _strings(cfg.get("arguments"), f"{path}.arguments")]
            self._lambda_value(value, f"{path}.{key}", key, name, must_be_code, arguments)

    def _lambda_value(
        self, value: Any, path: str, key: str, name: str, must_be_code: bool, arguments: list[str] | None = None
    ) -> None:
        codes: list[tuple[str, bytes]] = []
        bound: list[str] = list(arguments or [])
        for p, text in _strings(value, path):
            raw = decode_marshal_b64(text)
            if raw is None:
                if not p.endswith(".class_name"):
                    bound.append(text)  # defaults and closure values the function is called with
            else:
                codes.append((p, raw))
                self.handled[id(text)] = text
        found = bool(codes)
        for p, raw in codes:
            self._bytecode(raw, p, name, hidden=False, bound=tuple(bound[:64]))
        if not found and must_be_code:
            texts = [t for _, t in _strings(value, path)]
            self._undecodable(name, path, f"no bytecode in the Lambda {key}", " ".join(texts)[:300])

    def _bytecode(self, raw: bytes, path: str, name: str, *, hidden: bool, bound: tuple[str, ...] = ()) -> None:
        digest = hashlib.sha256(raw).digest()
        if digest in self.seen_code:
            return
        self.seen_code.add(digest)
        where = f"hidden bytecode at {path}" if hidden else f"Lambda layer {name!r} ({path})"
        try:
            code = read_code(raw)
        except (MalformedInput, LimitExceeded) as exc:
            if hidden:
                return  # base64 that merely starts like a code object: not evidence of anything
            strings = printable_strings(raw)
            self._undecodable(name, path, str(exc), " ".join(strings)[:300], strings)
            return
        self._report_code(code, where, bound)

    def _report_code(self, code: CodeInfo, where: str, bound: tuple[str, ...] = ()) -> None:
        origin = f"{self.member or ''}{where}"
        result = lambda_code.assess_lambda(code, self.ctx.seams, origin=origin, depth=self.ctx.depth, bound=bound)
        evidence = lambda_code.describe(code, result)
        if result.is_dangerous:
            calls = ", ".join(result.dangerous_names)
            extra = f" ({'; '.join(result.indicators[:4])})" if result.indicators else ""
            self.ctx.add(
                finding(
                    LAMBDA_DANGER,
                    f"{where} runs bytecode that uses {calls} when the model is loaded{extra}",
                    location=self._loc(),
                    evidence=evidence,
                    category=result.category,
                    severity=result.severity,
                )
            )
        else:
            self.ctx.add(
                finding(
                    LAMBDA_BYTECODE,
                    f"{where} holds Python bytecode that runs when the model is loaded",
                    location=self._loc(),
                    evidence=evidence,
                )
            )

    def _undecodable(self, name: str, path: str, why: str, evidence: str, strings: list[str] | None = None) -> None:
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(strings or [])))
        dangerous = sorted(words & callables.DANGEROUS_NAMES)
        severity = Severity.HIGH if dangerous else Severity.MEDIUM
        message = f"Lambda layer {name!r} at {path} could not be decoded: {why}"
        if dangerous:
            message += f"; its bytes mention {', '.join(dangerous)}"
        self.ctx.add(finding(LAMBDA_UNREADABLE, message, location=self._loc(), evidence=evidence, severity=severity))


def looks_like_keras_config(value: Any) -> bool:
    """A JSON value shaped like a Keras model/layer config (not just any JSON)."""
    if not isinstance(value, dict):
        return False
    if isinstance(value.get("class_name"), str) and "config" in value:
        return True
    return any(k in value for k in ("model_config", "keras_version")) or (
        isinstance(value.get("config"), dict) and "layers" in value["config"]
    )
