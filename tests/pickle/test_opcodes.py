"""One fixture per opcode family: every protocol, memo, object-building, persistent ids, framing,
buffers, extension codes, broken streams and limits."""

from __future__ import annotations

import pickle

import pytest

from malhug.analyzers.limits import Limits
from malhug.core.model import Category, Severity, Verdict
from tests.builders.pickles import call, pickle_of
from tests.pickle.helpers import binbytes, one, rules, s4, scan, sglobal, summary


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_os_system_in_every_protocol(protocol: int) -> None:
    data = pickle_of([call("os.system", "echo pwned")], protocol=protocol)
    report = scan(data)
    f = one(report, "MH101")
    assert report.verdict is Verdict.MALICIOUS
    assert (f.severity, f.category) == (Severity.CRITICAL, Category.COMMAND_EXEC)
    assert f.evidence == "os.system('echo pwned')"
    assert f.message.startswith("pickle calls os.system with a constant command")
    assert f.location.offset == data.rindex(b"R")  # the REDUCE that makes the call


def test_design_example_protocol0_text() -> None:
    data = b"cos\nsystem\n(S'echo pwned'\ntR."
    f = one(scan(data), "MH101")
    assert f.to_dict()["location"] == {"member": None, "offset": 27, "line": None, "column": None}
    assert f.to_dict()["evidence"] == "os.system('echo pwned')"


def test_real_reduce_of_posix_system() -> None:
    class Payload:
        def __reduce__(self) -> tuple[object, ...]:
            import os

            return (os.system, ("echo pwned",))

    data = pickle.dumps(Payload(), protocol=2)
    f = one(scan(data), "MH101")
    assert f.evidence == "os.system('echo pwned')"  # posix.system is canonicalised


@pytest.mark.parametrize(
    ("name", "memo_ops"),
    [
        ("PUT/GET", (b"p0\n", b"p1\n", b"g0\n", b"g1\n")),
        ("BINPUT/BINGET", (b"q\x00", b"q\x01", b"h\x00", b"h\x01")),
        (
            "LONG_BINPUT/LONG_BINGET",
            (b"r\x00\x00\x01\x00", b"r\x01\x00\x01\x00", b"j\x00\x00\x01\x00", b"j\x01\x00\x01\x00"),
        ),
        ("MEMOIZE", (b"\x94", b"\x94", b"h\x00", b"h\x01")),
    ],
)
def test_names_assembled_from_memo(name: str, memo_ops: tuple[bytes, ...]) -> None:
    put0, put1, get0, get1 = memo_ops
    data = (
        b"\x80\x04"
        + s4("os")
        + put0
        + b"0"
        + s4("system")
        + put1
        + b"0"
        + get0
        + get1
        + b"\x93"
        + s4("echo memo")
        + b"\x85R."
    )
    f = one(scan(data), "MH101")
    assert f.evidence == "os.system('echo memo')", name


def test_inst_obj_newobj_newobj_ex() -> None:
    inst = b"(S'echo inst'\nios\nsystem\n."
    assert one(scan(inst), "MH101").evidence == "os.system('echo inst')"
    obj = b"(cos\nsystem\nS'echo obj'\no."
    assert one(scan(obj), "MH101").evidence == "os.system('echo obj')"
    # NEWOBJ runs only __new__: a Popen object is created, its command never runs (suspicious, not an attack)
    newobj = b"\x80\x04" + sglobal("subprocess", "Popen") + s4("echo newobj") + b"\x85\x81."
    report = scan(newobj)
    f = one(report, "MH106")
    assert (f.evidence, report.verdict) == ("subprocess.Popen('echo newobj')", Verdict.SUSPICIOUS)
    assert "without running it" in f.message
    newobj_ex = b"\x80\x04" + sglobal("subprocess", "Popen") + b")}" + s4("args") + s4("echo kw") + b"s\x92."
    assert one(scan(newobj_ex), "MH106").evidence == "subprocess.Popen(args='echo kw')"
    # A function type's constructor is __new__: NEWOBJ of types.FunctionType does build a function
    fn = b"\x80\x04" + sglobal("types", "FunctionType") + sglobal("builtins", "None") + b"}\x86\x81."
    assert one(scan(fn), "MH103").severity is Severity.HIGH


@pytest.mark.fires("MH110")
@pytest.mark.parametrize("ext", [b"\x82\x07", b"\x83\x07\x01", b"\x84\x07\x01\x00\x00"])
def test_extension_codes_are_unknown_imports(ext: bytes) -> None:
    report = scan(b"\x80\x02" + ext + b"X\x03\x00\x00\x00abc\x85R.")
    f = one(report, "MH110")
    assert (f.severity, f.category, report.verdict) == (Severity.MEDIUM, Category.UNSAFE_IMPORT, Verdict.SUSPICIOUS)


def test_persistent_ids_are_benign() -> None:
    binpersid = b"\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ."
    assert scan(binpersid).findings == []
    assert scan(b"Pstorage-0\n.").findings == []


def test_frames_bytearray8_and_out_of_band_buffers() -> None:
    data = pickle.dumps({"a": bytearray(b"xyz" * 100), "b": frozenset({1, 2}), "c": {3}}, protocol=5)
    assert b"\x95" in data and b"\x96" in data  # FRAME, BYTEARRAY8
    assert scan(data).findings == []
    buffers = pickle.dumps(pickle.PickleBuffer(b"abc"), protocol=5, buffer_callback=lambda _: False)
    assert b"\x97" in buffers and b"\x98" in buffers  # NEXT_BUFFER, READONLY_BUFFER
    assert scan(buffers).findings == []


@pytest.mark.parametrize("protocol", [0, 1, 2, 4, 5])
def test_containers_in_every_protocol_are_clean(protocol: int) -> None:
    value = {
        "list": [1, 2.5, "x"],
        "tuple": (1, (2, 3), ()),
        "set": {1},
        "fs": frozenset({"a"}),
        "n": None,
        "b": b"\x00",
    }
    value["self"] = [value["list"], value["list"]]  # memo references (DUP-like reuse)
    assert scan(pickle.dumps(value, protocol=protocol)).findings == []


def test_pop_mark_dup_and_appends() -> None:
    data = b"\x80\x02](K\x01K\x02e2(K\x031u."[:-2] + b"0."  # list, APPENDS, DUP, MARK…POP_MARK, POP
    report = scan(data)
    assert report.findings == [], summary(report)


def test_invalid_opcode_is_malformed_at_its_offset() -> None:
    report = scan(b"\x80\x02K\x01\xff.")
    f = one(report, "MH901")
    assert (f.location.offset, f.category, report.verdict) == (4, Category.MALFORMED, Verdict.SUSPICIOUS)


def test_truncated_and_unsupported_protocol_are_malformed() -> None:
    assert one(scan(b"\x80\x02X\xff\x00\x00\x00abc"), "MH901").location.offset == 2
    assert one(scan(b"\x80\x06N.", hint="pickle"), "MH901").location.offset == 0
    assert one(scan(b"\x80\x02N"), "MH901").message.startswith("pickle stream breaks")
    assert one(scan(b"\x80\x02h\x05."), "MH901").evidence.startswith("memo key not found")


def test_stack_underflow_is_malformed() -> None:
    assert "stack underflow" in one(scan(b"\x80\x02R."), "MH901").evidence


def test_payload_before_the_fault_is_still_reported() -> None:
    """nullifAI: the payload runs, then the stream breaks."""
    payload = pickle_of([call("posix.system", "echo before")], protocol=2)[:-1]  # no STOP
    data = payload + b"0}q\x00\xff\xfe garbage"
    report = scan(data)
    assert one(report, "MH101").evidence == "os.system('echo before')"
    assert one(report, "MH901").location.offset == data.index(b"\xff")
    assert report.verdict is Verdict.MALICIOUS


def test_op_limit_reports_the_payload_then_the_limit() -> None:
    data = b"\x80\x02" + b"cos\nsystem\nX\x04\x00\x00\x00echo\x85R0" + b"N0" * 5000 + b"N."
    report = scan(data, Limits(max_pickle_ops=5000))
    assert rules(report) == {"MH101", "MH902"}
    assert "pickle opcodes" in one(report, "MH902").message


def test_memo_and_stack_limits() -> None:
    memo = b"\x80\x04" + b"N\x94" * 6000 + b"N."
    assert "memo" in one(scan(memo, Limits(max_memo_entries=100)), "MH902").message
    deep = b"\x80\x04" + b"(" * 6000 + b"N."
    assert "stack depth" in one(scan(deep, Limits(max_stack_depth=100)), "MH902").message


def test_expression_depth_limit() -> None:
    """A payload argument nested deeper than the limit: the limit is reported, other calls still are."""
    inner = s4("print(1)")
    for _ in range(30):
        inner = sglobal("operator", "add") + inner + s4("") + b"\x86R"
    data = (
        b"\x80\x04"
        + sglobal("os", "system")
        + s4("echo first")
        + b"\x85R0"
        + sglobal("builtins", "exec")
        + inner
        + b"\x85R."
    )
    report = scan(data, Limits(max_expression_depth=10))
    assert "expression depth" in one(report, "MH902").message
    assert one(report, "MH101").evidence == "os.system('echo first')"


def test_binbytes_and_stack_global_with_computed_name() -> None:
    # module = ''.join(['o', 's']) computed at load time
    join = sglobal("builtins", "getattr") + s4("") + s4("join") + b"\x86R" + b"(" + s4("o") + s4("s") + b"l\x85R"
    data = b"\x80\x04" + join + s4("system") + b"\x93" + binbytes(b"echo computed") + b"\x85R."
    f = one(scan(data), "MH102")
    assert f.severity is Severity.CRITICAL
    assert "computed name" in f.message


def test_odd_but_valid_mutations_do_not_stop_the_analysis() -> None:
    """SETITEM on a list and APPEND on a bytearray work at load time; the payload after them counts."""
    prefix = b"\x80\x04](K\x05eK\x00K\x01s0" + b"\x96\x01\x00\x00\x00\x00\x00\x00\x00aK\x62a0"
    data = prefix + sglobal("os", "system") + s4("echo after") + b"\x85R."
    report = scan(data)
    assert rules(report) == {"MH101"}, summary(report)


@pytest.mark.quiet("MH901")
def test_int_with_leading_zero_is_octal_as_in_cpython() -> None:
    """``_pickle`` reads ``I0123`` as 83; a scanner that faults there would miss what follows."""
    report = scan(b"(I0123\ncos\nsystem\n(S'echo octal'\ntR0t.")
    assert one(report, "MH101").evidence == "os.system('echo octal')"
    assert "MH901" not in rules(report)


@pytest.mark.parametrize("protocol", [0, 1, 2, 4])
def test_numbers_of_every_width(protocol: int) -> None:
    """INT/LONG/FLOAT text, BININT/BININT1/BININT2, LONG1/LONG4, BINFLOAT."""
    value = [0, 255, 65535, -1, 2**31, 2**70, -(2**3000), 1.5, float("inf"), True, False, None]
    report = scan(pickle.dumps(value, protocol=protocol))
    assert report.findings == [], summary(report)


def test_binstring_and_short_binstring_payloads() -> None:
    short = b"cos\nsystem\n(U\x0aecho shorttR."
    assert one(scan(short), "MH101").evidence == "os.system('echo short')"
    long = b"cos\nsystem\n(T\x09\x00\x00\x00echo longtR."
    assert one(scan(long), "MH101").evidence == "os.system('echo long')"
    unicode = b"cos\nsystem\n(Vecho \\u00e9\ntR."
    assert one(scan(unicode), "MH101").evidence == "os.system('echo é')"
