"""Code objects for Keras Lambda layers, as ``marshal`` bytes of a chosen Python version.

Creating marshal bytes is safe (only loading them is not). The running interpreter writes its own
layout (``marshal.dumps``); for the 3.8-3.10 layout, which real Lambda payloads from older Pythons
carry and which 3.11 cannot load, the code object is written field by field here. The instruction
bytes are the running interpreter's; a static reader uses the constants, names and file name.
"""

from __future__ import annotations

import marshal
import struct
import types

_FLAG_REF = 0x80


def compile_lambda(body: str, *, filename: str, arg: str = "x") -> types.CodeType:
    """The code object of a Lambda's function.

    ``body`` is either one expression (``exec("...") or x`` -> ``lambda x: ...``) or the body of a
    function with statements and a final ``return`` (as decompilers print Lambda payloads).
    """
    one_line = body.strip()
    if "\n" not in one_line and not one_line.startswith("import"):
        expression = one_line.removeprefix("return ").strip()
        source = f"lambda {arg}: {expression}"
        module = compile(source, filename, "eval")
    else:
        indented = "\n".join("    " + line for line in body.strip("\n").splitlines())
        source = f"def fn({arg}):\n{indented}\n"
        module = compile(source, filename, "exec")
    for const in module.co_consts:
        if isinstance(const, types.CodeType):
            return const
    raise ValueError("no function code object in compiled source")


def _w_long(n: int) -> bytes:
    return struct.pack("<i", n)


def _w_obj(obj: object) -> bytes:
    if obj is None:
        return b"N"
    if obj is True:
        return b"T"
    if obj is False:
        return b"F"
    if obj is Ellipsis:
        return b"."
    if isinstance(obj, int) and -(2**31) <= obj < 2**31:
        return b"i" + _w_long(obj)
    if isinstance(obj, float):
        return b"g" + struct.pack("<d", obj)
    if isinstance(obj, bytes):
        return b"s" + _w_long(len(obj)) + obj
    if isinstance(obj, str):
        data = obj.encode("utf-8", "surrogatepass")
        return b"u" + _w_long(len(data)) + data
    if isinstance(obj, (tuple, frozenset)):
        items = tuple(obj)
        head = (b")" + bytes([len(items)])) if isinstance(obj, tuple) and len(items) < 256 else None
        if head is None:
            head = (b"(" if isinstance(obj, tuple) else b">") + _w_long(len(items))
        return head + b"".join(_w_obj(i) for i in items)
    if isinstance(obj, types.CodeType):
        return legacy_code_bytes(obj)
    raise TypeError(f"cannot marshal {type(obj).__name__}")


def legacy_code_bytes(code: types.CodeType) -> bytes:
    """``code`` in the marshal layout of Python 3.8-3.10 (TYPE_CODE with posonlyargcount,
    varnames/freevars/cellvars and an lnotab)."""
    out = bytearray(bytes([ord("c") | _FLAG_REF]))
    for n in (
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_nlocals,
        code.co_stacksize,
        code.co_flags,
    ):
        out += _w_long(n)
    out += _w_obj(code.co_code)
    out += _w_obj(code.co_consts)
    out += _w_obj(code.co_names)
    out += _w_obj(code.co_varnames)
    out += _w_obj(code.co_freevars)
    out += _w_obj(code.co_cellvars)
    out += _w_obj(code.co_filename)
    out += _w_obj(code.co_name)
    out += _w_long(code.co_firstlineno)
    out += _w_obj(b"")  # lnotab
    return bytes(out)


def code_bytes(code: types.CodeType, python: tuple[int, int] = (3, 11)) -> bytes:
    """Marshal bytes of ``code`` as Python ``python`` writes them."""
    if python >= (3, 11):
        return marshal.dumps(code)
    if (3, 8) <= python <= (3, 10):
        return legacy_code_bytes(code)
    raise ValueError(f"no marshal layout for Python {python}")
