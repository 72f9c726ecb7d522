"""The marshal reader: real code objects of this Python, older layouts written by hand, garbage."""

from __future__ import annotations

import marshal
import random
import struct

import pytest

from malhug.analyzers.keras.marshal_reader import MarshalLimits, printable_strings, read_code
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from tests.builders.marshal_code import legacy_code_bytes
from tests.keras.keraslib import lambda_code


def _long(n: int) -> bytes:
    return struct.pack("<i", n)


def _s(data: bytes, code: bytes = b"s") -> bytes:
    return code + _long(len(data)) + data


def _tuple(*items: bytes) -> bytes:
    return b"(" + _long(len(items)) + b"".join(items)


def py37_code() -> bytes:
    """``lambda x: __import__('os').system('echo malhug')`` in the 3.0-3.7 layout (5 ints, varnames)."""
    return (
        b"\xe3"
        + _long(1)
        + _long(0)
        + _long(1)
        + _long(3)
        + _long(67)  # argcount kwonly nlocals stacksize flags
        + _s(b"t\x00d\x01\x83\x01j\x01d\x02\x83\x01S\x00")
        + _tuple(b"N", b"\xda\x02os", b"\xda\x0becho malhug")  # None, short ascii interned with FLAG_REF
        + b")\x02\xda\x0a__import__\xda\x06system"
        + b")\x01\xda\x01x"  # varnames
        + b"\xa9\x00"  # freevars: empty small tuple with FLAG_REF (reference index 6)
        + b"r\x06\x00\x00\x00"  # cellvars: a reference to that empty tuple
        + b"\xfa\x10/tmp/old_py37.py"  # short ascii
        + b"\xfa\x08<lambda>"
        + _long(1)
        + _s(b"")
    )


def py27_code() -> bytes:
    """The same lambda as Python 2.7 writes it (4 ints, byte strings, interned string references)."""
    return (
        b"c"
        + _long(1)
        + _long(1)
        + _long(2)
        + _long(67)
        + _s(b"t\x00\x00d\x01\x00\x83\x01\x00j\x01\x00d\x02\x00\x83\x01\x00S")
        + _tuple(b"N", _s(b"os", b"t"), _s(b"echo malhug"))
        + _tuple(_s(b"__import__", b"t"), _s(b"system", b"t"))
        + _tuple(_s(b"x", b"t"))
        + _tuple()
        + _tuple()
        + _s(b"/tmp/old_py27.py")
        + b"R"
        + _long(0)  # name: reference to the first interned string ("os"), as 2.7 may do
        + _long(1)
        + _s(b"")
    )


def test_reads_this_pythons_code_objects_with_nested_code() -> None:
    source = "import os\ndef f(x):\n    os.system('echo malhug')\n    return [i for i in range(3)]\n"
    info = read_code(marshal.dumps(compile(source, "/tmp/evil.py", "exec")))
    assert info.layout == "3.11+"
    assert info.filename == "/tmp/evil.py"
    assert {"os", "system", "range", "f"} <= set(info.all_names())
    assert "echo malhug" in info.all_strings()
    assert [c.name for c in info.walk()][:2] == ["<module>", "f"]


def test_reads_a_lambda_with_varnames_and_constants() -> None:
    info = read_code(marshal.dumps(lambda_code("exec(\"print('Malicious code!')\") or x")))
    assert info.name == "<lambda>"
    assert info.varnames == ("x",)
    assert info.all_names() == ["exec"]
    assert info.all_strings() == ["print('Malicious code!')"]


def test_reads_the_3_8_layout() -> None:
    info = read_code(legacy_code_bytes(lambda_code("__import__('os').system('echo malhug') or x")))
    assert info.layout == "3.8-3.10"
    assert info.all_names() == ["__import__", "system"]
    assert "echo malhug" in info.all_strings()


def test_reads_the_3_7_layout_with_references() -> None:
    info = read_code(py37_code())
    assert info.layout == "3.0-3.7"
    assert info.names == ("__import__", "system")
    assert info.varnames == ("x",)
    assert info.cellvars == ()
    assert info.filename == "/tmp/old_py37.py"
    assert info.all_strings() == ["os", "echo malhug"]


def test_reads_the_python_2_layout() -> None:
    info = read_code(py27_code())
    assert info.layout == "2.x"
    assert info.names == ("__import__", "system")
    assert info.name == "os"
    assert "echo malhug" in info.all_strings()


def test_not_a_code_object_is_malformed() -> None:
    with pytest.raises(MalformedInput):
        read_code(marshal.dumps(("not", "code")))
    with pytest.raises(MalformedInput):
        read_code(b"")


def test_trailing_bytes_and_truncation_are_malformed() -> None:
    good = marshal.dumps(lambda_code("x + 1"))
    with pytest.raises(MalformedInput):
        read_code(good + b"N")
    with pytest.raises(MalformedInput):
        read_code(good[:-3])


def test_deep_nesting_hits_the_depth_limit() -> None:
    nested = b"\xe3" + _long(0) * 5 + _s(b"") + b")\x01" * 500 + b"N"
    with pytest.raises(LimitExceeded):
        read_code(nested, MarshalLimits(max_depth=64))


def test_object_count_limit() -> None:
    data = marshal.dumps(compile("x = (" + ", ".join(str(i) for i in range(3000)) + ")", "<m>", "exec"))
    with pytest.raises(LimitExceeded):
        read_code(data, MarshalLimits(max_objects=500))


def test_garbage_never_raises_anything_else() -> None:
    rng = random.Random(1234)
    seeds = [marshal.dumps(lambda_code("__import__('os').system('echo malhug') or x")), py37_code(), py27_code()]
    for i in range(1500):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 12)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if i % 5 == 0:
            data = data[: rng.randrange(len(data))]
        if i % 7 == 0:
            data = bytearray(b"\xe3" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 200))))
        try:
            read_code(bytes(data))
        except (MalformedInput, LimitExceeded):
            pass


def test_printable_strings_fallback() -> None:
    assert printable_strings(b"\x00\x01system\x00ab\x00echo malhug\xff") == ["system", "echo malhug"]
