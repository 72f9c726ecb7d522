"""A symbolic pickle machine: every opcode of protocols 0-5 over raw bytes, nothing imported or run.

The machine keeps one stack (marks are indices into it, as in CPython's ``_pickle``), a memo and a
``Trace`` of what loading would do: the imports (``Global``), the calls (``Call``, in execution
order), and mutations of imported objects (BUILD/SETITEM/APPEND on a module, class or module-level
object). A stream that breaks part-way raises ``MalformedInput`` with the offset of the faulting
opcode; the trace up to the fault stays available. joblib's raw NumPy array blocks that follow a
``NumpyArrayWrapper`` BUILD are skipped by their exact size, object arrays (a nested pickle) are
interpreted in place.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from malhug.analyzers.limits import LimitExceeded, Limits, MalformedInput
from malhug.analyzers.pickle.frames import EARLY_STOP, NESTED, OVERLONG, STRADDLE, FrameBreak
from malhug.analyzers.pickle.values import Call, Global, PDict, PersId, PSet, Unknown

JOBLIB_WRAPPER = "joblib.numpy_pickle.NumpyArrayWrapper"
# joblib < 0.10: the array is in a file beside the pickle, ``np.load(filename, allow_pickle=True)``.
JOBLIB_LEGACY_WRAPPERS = frozenset(
    {
        "joblib.numpy_pickle.NDArrayWrapper",
        "joblib.numpy_pickle_compat.NDArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.NDArrayWrapper",
    }
)
_DTYPE_STR = re.compile(r"([a-zA-Z?])(\d*)")
_FLOAT = struct.Struct(">d")
_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U16 = struct.Struct("<H").unpack_from
_CHECK_EVERY = 4096
_NO_FRAME = 1 << 62  # ``frame_end`` while no frame is open
_UNSEEN: Any = object()


# Identity, not value, for the machine's records: the symbolic values they hold may be shared and
# cyclic (eq=False, repr=False; ``values.render`` shows them).
@dataclass(eq=False, repr=False, slots=True)
class Mutation:
    """An imported object changed while loading (attributes set, items added)."""

    target: Any
    how: str  # "BUILD", "SETITEM", "APPEND", "ADDITEMS"
    value: Any
    offset: int


@dataclass(eq=False, repr=False, slots=True)
class Trace:
    """Everything loading would do, shared by the pickles of one stream."""

    calls: list[Call] = field(default_factory=list)
    globals: list[Global] = field(default_factory=list)
    mutations: list[Mutation] = field(default_factory=list)
    ops: int = 0
    frame_breaks: list[FrameBreak] = field(default_factory=list)  # frames.py: readers disagree there
    side_files: list[tuple[str, int]] = field(default_factory=list)  # (name, offset): files loading opens


class Truncated(MalformedInput):
    """The stream ends inside an opcode: a fault, unless only a prefix of the file was read."""


def _fault(message: str, offset: int) -> MalformedInput:
    return MalformedInput(f"{message} at offset {offset}", offset=offset)


def _truncated(message: str, offset: int) -> Truncated:
    return Truncated(f"{message} at offset {offset}", offset=offset)


def dtype_layout(dtype: Any) -> tuple[int, bool] | None:
    """(itemsize, holds objects) of a pickled ``numpy.dtype`` call, or None when it cannot be known."""
    if not isinstance(dtype, Call) or not isinstance(dtype.args, tuple) or not dtype.args:
        return None
    spec = dtype.args[0]
    if not isinstance(spec, str):
        return None
    match = _DTYPE_STR.fullmatch(spec)
    if match is None:
        return None
    kind, digits = match.group(1), match.group(2)
    state = dtype.state[-1] if dtype.state else None
    elsize = flags = -1
    if isinstance(state, tuple) and len(state) >= 8:
        elsize = state[5] if isinstance(state[5], int) else -1
        flags = state[7] if isinstance(state[7], int) else -1
    has_object = kind == "O" or (flags > 0 and bool(flags & 1))
    if elsize > 0:
        return elsize, has_object
    if kind == "?":
        return 1, has_object
    if not digits:
        return None
    size = int(digits)
    if kind == "U":
        size *= 4
    return size, has_object


class Machine:
    """Interprets pickle streams in ``data``; one ``run`` per pickle (they share the memo)."""

    def __init__(
        self,
        data: bytes,
        limits: Limits,
        check_time: Callable[[], None],
        fold_name: Callable[[Any], str | None],
        trace: Trace | None = None,
        depth: int = 0,
        track_frames: bool = True,
    ):
        self.data = data
        self.limits = limits
        self.check_time = check_time
        self.fold_name = fold_name
        self.trace = trace if trace is not None else Trace()
        self.depth = depth
        self.memo: dict[int, Any] = {}
        self.stack: list[Any] = []
        self.marks: list[int] = []
        self.proto = 0
        self._planted: dict[int, Any] = {}
        # The open frame (PEP 3154): FRAME's offset and where its declared bytes end. The machine
        # reads straight through, as ``pickletools`` does, and records where a loader that honours
        # frames would read differently (``frames.py``). ``track_frames`` is off for a stream that is
        # already a loader's reading (``readings.py``): its frames were applied when it was made.
        self.frame_at = -1
        self.frame_end = _NO_FRAME
        self.track_frames = track_frames

    # -- helpers used by the cold opcodes --------------------------------------------------------

    def _pop_mark(self) -> list[Any]:
        k = self.marks.pop()
        items = self.stack[k:]
        del self.stack[k:]
        return items

    def _line(self, pos: int) -> tuple[bytes, int]:
        end = self.data.find(b"\n", pos)
        if end < 0:
            raise _truncated("line not terminated (truncated stream)", pos)
        return self.data[pos:end], end + 1

    def _global(self, module: str, name: str, offset: int, dynamic: bool = False) -> Global:
        if self.proto < 3:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        glob = Global(module, name, offset, dynamic)
        self.trace.globals.append(glob)
        return glob

    def _mutate(self, how: str, value: Any, offset: int) -> None:
        target = self.stack[-1]
        if isinstance(target, list) and how in ("APPEND", "APPENDS"):
            target.extend(value)
        elif isinstance(target, PDict) and how in ("SETITEM", "SETITEMS"):
            target.items.extend(value)
        elif isinstance(target, PSet) and how == "ADDITEMS":
            target.items.extend(value)
        elif isinstance(target, Call):
            target.add_items(value)
        elif isinstance(target, Global):
            self.trace.mutations.append(Mutation(target, how, value, offset))
        # Anything else (a list given SETITEM, a bytearray given APPEND) may well succeed at load time:
        # never stop here, or a payload placed after it would go unseen.

    def _check(self, ops: int) -> None:
        self.check_time()
        limits = self.limits
        if self.trace.ops + ops > limits.max_pickle_ops:
            raise LimitExceeded("pickle opcodes", limits.max_pickle_ops, self.trace.ops + ops)
        if len(self.stack) > limits.max_stack_depth or len(self.marks) > limits.max_stack_depth:
            raise LimitExceeded("pickle stack depth", limits.max_stack_depth, max(len(self.stack), len(self.marks)))
        if len(self.memo) > limits.max_memo_entries:
            raise LimitExceeded("pickle memo entries", limits.max_memo_entries, len(self.memo))

    # -- the interpreter -------------------------------------------------------------------------

    def run(self, pos: int) -> tuple[Any, int]:
        """Interpret one pickle starting at ``pos``; returns (loaded value, offset after STOP)."""
        self.proto = 0  # as Unpickler.load does: a later pickle may be protocol 0
        self.frame_end = _NO_FRAME
        frame_end = _NO_FRAME
        start = pos
        data = self.data
        n = len(data)
        memo = self.memo
        stack = self.stack
        marks = self.marks
        push = stack.append
        pop = stack.pop
        calls = self.trace.calls
        u32 = _U32
        ops = 0
        budget = self.limits.max_pickle_ops - self.trace.ops + 1
        next_check = min(_CHECK_EVERY, budget)
        try:
            while True:
                if pos >= frame_end:  # the open frame's bytes are used up (or were overrun)
                    frame_end = self._frame_done(pos, start)
                start = pos
                # Every opcode that raises does so before it moves ``pos`` past its argument, so the
                # faulting opcode's offset is always ``pos - 1`` in the handlers below.
                op = data[pos]
                pos += 1
                ops += 1
                if ops >= next_check:
                    self._check(ops)
                    next_check = min(ops + _CHECK_EVERY, budget)
                if op == 0x72:  # LONG_BINPUT
                    memo[u32(data, pos)[0]] = stack[-1]
                    pos += 4
                elif op == 0x68:  # BINGET
                    push(memo[data[pos]])
                    pos += 1
                elif op == 0x4B:  # BININT1
                    push(data[pos])
                    pos += 1
                elif op == 0x28:  # MARK
                    marks.append(len(stack))
                elif op == 0x58:  # BINUNICODE
                    end = pos + 4 + u32(data, pos)[0]
                    if end > n:
                        raise _truncated("string runs past the end of the stream", pos - 1)
                    push(data[pos + 4 : end].decode("utf-8", "surrogatepass"))
                    pos = end
                elif op == 0x52:  # REDUCE
                    args = pop()
                    call = Call(stack[-1], args, pos - 1)
                    stack[-1] = call
                    calls.append(call)
                elif op == 0x74:  # TUPLE
                    k = marks.pop()
                    items = tuple(stack[k:])
                    del stack[k:]
                    push(items)
                elif op == 0x85:  # TUPLE1
                    stack[-1] = (stack[-1],)
                elif op == 0x29:  # EMPTY_TUPLE
                    push(())
                elif op == 0x51:  # BINPERSID
                    stack[-1] = PersId(stack[-1], pos - 1)
                elif op == 0x89:  # NEWFALSE
                    push(False)
                elif op == 0x71:  # BINPUT
                    memo[data[pos]] = stack[-1]
                    pos += 1
                elif op == 0x6A:  # LONG_BINGET
                    push(memo[u32(data, pos)[0]])
                    pos += 4
                elif op == 0x94:  # MEMOIZE
                    memo[len(memo)] = stack[-1]
                elif op == 0x8C:  # SHORT_BINUNICODE
                    end = pos + 1 + data[pos]
                    if end > n:
                        raise _truncated("string runs past the end of the stream", pos - 1)
                    push(data[pos + 1 : end].decode("utf-8", "surrogatepass"))
                    pos = end
                elif op == 0x86:  # TUPLE2
                    b = pop()
                    stack[-1] = (stack[-1], b)
                elif op == 0x87:  # TUPLE3
                    c = pop()
                    b = pop()
                    stack[-1] = (stack[-1], b, c)
                elif op == 0x88:  # NEWTRUE
                    push(True)
                elif op == 0x4A:  # BININT
                    push(_I32(data, pos)[0])
                    pos += 4
                elif op == 0x4D:  # BININT2
                    push(_U16(data, pos)[0])
                    pos += 2
                elif op == 0x75:  # SETITEMS
                    k = marks.pop()
                    flat = stack[k:]
                    del stack[k:]
                    if len(flat) % 2:
                        raise _fault("SETITEMS with an odd number of items", pos - 1)
                    self._mutate("SETITEMS", list(zip(flat[::2], flat[1::2], strict=True)), pos - 1)
                elif op == 0x73:  # SETITEM
                    v = pop()
                    k2 = pop()
                    self._mutate("SETITEM", [(k2, v)], pos - 1)
                elif op == 0x4E:  # NONE
                    push(None)
                elif op == 0x7D:  # EMPTY_DICT
                    push(PDict())
                elif op == 0x5D:  # EMPTY_LIST
                    push([])
                elif op == 0x2E:  # STOP
                    value = pop()
                    if pos < frame_end < _NO_FRAME:  # the frame goes on after this pickle (``frames.py``)
                        self.trace.frame_breaks.append(FrameBreak(EARLY_STOP, self.frame_at, frame_end, pos - 1))
                    self.trace.ops += ops
                    return value, pos
                else:
                    handler = _COLD.get(op)
                    if handler is None:
                        raise _fault(f"invalid opcode 0x{op:02x}", pos - 1)
                    pos = handler(self, pos, pos - 1)
                    frame_end = self.frame_end
        except (IndexError, KeyError) as exc:
            self.trace.ops += ops
            start = max(pos - 1, 0)
            if pos >= n:
                raise _truncated("pickle stream truncated", start) from exc
            what = "memo key not found" if isinstance(exc, KeyError) else "stack underflow"
            raise _fault(f"{what} (opcode 0x{data[start]:02x})", start) from exc
        except struct.error as exc:  # a fixed-size argument cut by the end of the data
            self.trace.ops += ops
            raise _truncated("pickle stream truncated", pos - 1) from exc
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            self.trace.ops += ops
            start = pos - 1
            raise _fault(f"bad argument to opcode 0x{data[start]:02x}: {exc}", start) from exc
        except (LimitExceeded, MalformedInput):
            self.trace.ops += ops
            raise

    # -- cold opcodes: (self, pos after the opcode byte, opcode offset) -> new pos ---------------

    def _proto(self, pos: int, start: int) -> int:
        proto = self.data[pos]
        if proto > 5:
            raise _fault(f"unsupported pickle protocol {proto}", start)
        self.proto = proto
        return pos + 1

    def _frame(self, pos: int, start: int) -> int:
        if pos + 8 > len(self.data):
            raise _truncated("frame header truncated", start)
        size = int.from_bytes(self.data[pos : pos + 8], "little")
        pos += 8
        if not self.track_frames:
            return pos
        breaks = self.trace.frame_breaks
        if self.frame_end != _NO_FRAME:
            breaks.append(FrameBreak(NESTED, self.frame_at, self.frame_end, start))
        if pos + size > len(self.data):
            # Every unpickler fails here (reading the frame as a block, or running out inside it);
            # reading on shows what a lenient tool would see. Reported unless only a prefix was read.
            breaks.append(FrameBreak(OVERLONG, start, pos + size, start))
            self.frame_end = _NO_FRAME
            return pos
        if self.frame_end == _NO_FRAME or pos + size > self.frame_end:
            self.frame_at, self.frame_end = start, pos + size
        return pos

    def _frame_done(self, pos: int, start: int) -> int:
        """The open frame ends at or before ``pos``; ``start`` is the last opcode's offset."""
        if pos > self.frame_end:
            self.trace.frame_breaks.append(FrameBreak(STRADDLE, self.frame_at, self.frame_end, start))
        self.frame_end = _NO_FRAME
        return _NO_FRAME

    def _global_op(self, pos: int, start: int) -> int:
        module, pos = self._line(pos)
        name, pos = self._line(pos)
        self.stack.append(self._global(module.decode("utf-8"), name.decode("utf-8"), start))
        return pos

    def _stack_global(self, pos: int, start: int) -> int:
        name = self.stack.pop()
        module = self.stack.pop()
        dynamic = False
        if not isinstance(module, str) or not isinstance(name, str):
            folded_module, folded_name = self.fold_name(module), self.fold_name(name)
            dynamic = True
            module = folded_module if folded_module is not None else "<computed>"
            name = folded_name if folded_name is not None else "<computed>"
        self.stack.append(Global(module, name, start, dynamic))
        self.trace.globals.append(self.stack[-1])
        return pos

    def _inst(self, pos: int, start: int) -> int:
        module, pos = self._line(pos)
        name, pos = self._line(pos)
        cls = self._global(module.decode("ascii"), name.decode("ascii"), start)
        args = tuple(self._pop_mark())
        call = Call(cls, args, start, kind="inst")
        self.stack.append(call)
        self.trace.calls.append(call)
        return pos

    def _obj(self, pos: int, start: int) -> int:
        items = self._pop_mark()
        call = Call(items[0], tuple(items[1:]), start, kind="obj")
        self.stack.append(call)
        self.trace.calls.append(call)
        return pos

    def _newobj(self, pos: int, start: int) -> int:
        args = self.stack.pop()
        call = Call(self.stack[-1], args, start, kind="newobj")
        self.stack[-1] = call
        self.trace.calls.append(call)
        return pos

    def _newobj_ex(self, pos: int, start: int) -> int:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        call = Call(self.stack[-1], args, start, kind="newobj", kwargs=kwargs)
        self.stack[-1] = call
        self.trace.calls.append(call)
        return pos

    def _build(self, pos: int, start: int) -> int:
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, Global):
            self.trace.mutations.append(Mutation(inst, "BUILD", state, start))
            return pos
        if not isinstance(inst, Call):
            return pos
        if inst.hook is not None:
            # An earlier BUILD planted ``__setstate__`` in the instance: this BUILD calls it.
            self.trace.calls.append(Call(inst.hook, (state,), start, kind="setstate"))
        inst.add_state(state)
        planted = self._planted.get(id(state), _UNSEEN)
        if planted is _UNSEEN:  # a memoized state reused by many BUILDs is looked into once
            planted = self._planted[id(state)] = _planted_setstate(state)
        if planted is not None:
            inst.hook = planted
        func = inst.func
        if isinstance(func, Global) and func.canon[0] == JOBLIB_WRAPPER:
            return self._joblib_array(state, pos, start)
        if isinstance(func, Global) and func.canon[0] in JOBLIB_LEGACY_WRAPPERS and isinstance(state, PDict):
            filename = state.get("filename")
            if isinstance(filename, str):
                self.trace.side_files.append((filename, start))
        return pos

    def _joblib_array(self, state: Any, pos: int, start: int) -> int:
        if not isinstance(state, PDict):
            raise _fault("joblib NumpyArrayWrapper without a state dict", start)
        layout = dtype_layout(state.get("dtype"))
        shape = state.get("shape")
        nested_next = self.data[pos : pos + 1] == b"\x80" and self.data[pos + 1 : pos + 2] < b"\x06"
        if layout is None and nested_next:
            layout = (0, True)  # joblib reads a pickle here whenever ``dtype.hasobject`` is truthy
        if layout is None or not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise _fault("joblib array of unknown size (dtype or shape not understood)", start)
        itemsize, has_object = layout
        if has_object:
            # Object arrays are a complete pickle of their own, read by a fresh unpickler.
            if self.depth + 1 > self.limits.max_nesting_depth:
                raise LimitExceeded("nesting depth", self.limits.max_nesting_depth, self.depth + 1)
            inner = Machine(self.data, self.limits, self.check_time, self.fold_name, self.trace, self.depth + 1)
            value, pos = inner.run(pos)
            self.stack[-1] = value
            return pos
        if state.get("numpy_array_alignment_bytes") is not None:
            if pos >= len(self.data):
                raise _truncated("joblib array padding truncated", pos)
            pos += 1 + self.data[pos]
        count = 1
        for d in shape:
            count *= d
        end = pos + count * itemsize
        if end > len(self.data):
            raise _truncated(f"joblib array data ({count * itemsize} bytes) runs past the end of the stream", start)
        self.stack[-1] = Unknown(f"joblib array {shape}", start)
        return end

    def _persid(self, pos: int, start: int) -> int:
        line, pos = self._line(pos)
        self.stack.append(PersId(line.decode("ascii"), start))
        return pos

    def _ext(self, pos: int, start: int) -> int:
        size = {0x82: 1, 0x83: 2, 0x84: 4}[self.data[start]]
        if pos + size > len(self.data):
            raise _truncated("extension code truncated", start)
        code = int.from_bytes(self.data[pos : pos + size], "little")
        self.stack.append(self._global("<extension>", str(code), start))
        return pos + size

    def _line_value(self, pos: int, start: int) -> int:
        line, pos = self._line(pos)
        op = self.data[start]
        value: Any
        if op == 0x49:  # INT
            value = False if line == b"00" else True if line == b"01" else _c_int(line)
        elif op == 0x4C:  # LONG
            value = int(line[:-1] if line.endswith(b"L") else line, 0)
        elif op == 0x46:  # FLOAT
            value = float(line)
        elif op == 0x53:  # STRING
            if len(line) < 2 or line[0] != line[-1] or line[0] not in b"'\"":
                raise _fault("STRING argument is not quoted", start)
            value = codecs.escape_decode(line[1:-1])[0].decode("latin-1")
        elif op == 0x56:  # UNICODE
            value = line.decode("raw-unicode-escape")
        elif op in (0x70, 0x67):  # PUT, GET
            idx = int(line)
            if op == 0x70:
                self.memo[idx] = self.stack[-1]
                return pos
            value = self.memo[idx]
        else:
            raise _fault(f"invalid opcode 0x{op:02x}", start)
        self.stack.append(value)
        return pos

    def _sized(self, pos: int, start: int) -> int:
        op = self.data[start]
        width, kind = _SIZED[op]
        if pos + width > len(self.data):
            raise _truncated("length field truncated", start)
        ln = int.from_bytes(self.data[pos : pos + width], "little", signed=op == 0x54)
        pos += width
        if ln < 0 or pos + ln > len(self.data):
            raise _truncated("data runs past the end of the stream", start)
        raw = self.data[pos : pos + ln]
        value: Any
        if kind == "long":
            value = int.from_bytes(raw, "little", signed=True)
        elif kind == "str":
            value = raw.decode("latin-1")
        elif kind == "unicode":
            value = raw.decode("utf-8", "surrogatepass")
        elif kind == "bytearray":
            value = bytearray(raw)
        else:
            value = raw
        self.stack.append(value)
        return pos + ln

    def _simple(self, pos: int, start: int) -> int:
        op = self.data[start]
        stack = self.stack
        if op == 0x47:  # BINFLOAT
            stack.append(_FLOAT.unpack_from(self.data, pos)[0])
            return pos + 8
        if op == 0x30:  # POP
            if self.marks and self.marks[-1] == len(stack):
                self.marks.pop()
            else:
                stack.pop()
        elif op == 0x31:  # POP_MARK
            self._pop_mark()
        elif op == 0x32:  # DUP
            stack.append(stack[-1])
        elif op == 0x61:  # APPEND
            value = stack.pop()
            self._mutate("APPEND", [value], start)
        elif op == 0x65:  # APPENDS
            self._mutate("APPENDS", self._pop_mark(), start)
        elif op == 0x90:  # ADDITEMS
            self._mutate("ADDITEMS", self._pop_mark(), start)
        elif op == 0x64:  # DICT
            flat = self._pop_mark()
            if len(flat) % 2:
                raise _fault("DICT with an odd number of items", start)
            stack.append(PDict(list(zip(flat[::2], flat[1::2], strict=True))))
        elif op == 0x6C:  # LIST
            stack.append(self._pop_mark())
        elif op == 0x8F:  # EMPTY_SET
            stack.append(PSet())
        elif op == 0x91:  # FROZENSET
            stack.append(PSet(self._pop_mark(), frozen=True))
        elif op == 0x97:  # NEXT_BUFFER
            stack.append(Unknown("out-of-band buffer", start))
        elif op == 0x98:  # READONLY_BUFFER
            if not stack:
                raise _fault("READONLY_BUFFER on an empty stack", start)
        return pos


_OCTAL = re.compile(rb"\s*([+-]?)0([0-7]+)\s*")


def _c_int(line: bytes) -> int:
    """INT as CPython's ``_pickle`` reads it (``strtol`` base 0: ``0123`` is octal, not an error)."""
    try:
        return int(line, 0)
    except ValueError:
        octal = _OCTAL.fullmatch(line)
        if octal is None:
            raise
        return int(octal.group(1) + octal.group(2), 8)


def _planted_setstate(state: Any) -> Any:
    """A ``__setstate__`` that a BUILD state puts into an instance (in its dict or slot state)."""
    for part in (state, *(state if isinstance(state, tuple) and len(state) == 2 else ())):
        if isinstance(part, PDict):
            value = part.get("__setstate__")
            if value is not None:
                return value
    return None


_SIZED: dict[int, tuple[int, str]] = {
    0x54: (4, "str"),  # BINSTRING
    0x55: (1, "str"),  # SHORT_BINSTRING
    0x42: (4, "bytes"),  # BINBYTES
    0x43: (1, "bytes"),  # SHORT_BINBYTES
    0x8E: (8, "bytes"),  # BINBYTES8
    0x8D: (8, "unicode"),  # BINUNICODE8
    0x96: (8, "bytearray"),  # BYTEARRAY8
    0x8A: (1, "long"),  # LONG1
    0x8B: (4, "long"),  # LONG4
}

_COLD: dict[int, Callable[[Machine, int, int], int]] = {
    0x80: Machine._proto,
    0x95: Machine._frame,
    0x63: Machine._global_op,
    0x93: Machine._stack_global,
    0x69: Machine._inst,
    0x6F: Machine._obj,
    0x81: Machine._newobj,
    0x92: Machine._newobj_ex,
    0x62: Machine._build,
    0x50: Machine._persid,
    0x82: Machine._ext,
    0x83: Machine._ext,
    0x84: Machine._ext,
    **dict.fromkeys((0x49, 0x4C, 0x46, 0x53, 0x56, 0x70, 0x67), Machine._line_value),
    **dict.fromkeys(_SIZED, Machine._sized),
    **dict.fromkeys((0x47, 0x30, 0x31, 0x32, 0x61, 0x65, 0x90, 0x64, 0x6C, 0x8F, 0x91, 0x97, 0x98), Machine._simple),
}
