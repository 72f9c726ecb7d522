"""Opcode-level tricks that made scanners lose track of what a stream imports or calls.

Each stream is written byte by byte; the unpickler would resolve every import here exactly as the
analyzer does (the streams are never loaded).
"""

from __future__ import annotations

import pickle
import struct

from malhug.core.model import Category, Severity, Verdict
from tests.advisories.helpers import CODE, ECHO, caught
from tests.builders.pickles import Call, Global, call, payload_ops, pickle_of
from tests.pickle.helpers import rules, s4, scan, setstate_exec, sglobal, summary

CALL_ECHO = s4(ECHO) + b"\x85R"  # (ECHO,) REDUCE on the callable on top of the stack


def _short_binstring(text: str) -> bytes:
    return b"U" + bytes([len(text)]) + text.encode()


def test_ghsa_9gvj_pp9x_gcfr_stack_global_from_binstring_operands() -> None:
    """GHSA-9gvj-pp9x-gcfr: STACK_GLOBAL fed by SHORT_BINSTRING/STRING operands instead of unicode ones."""
    data = b"\x80\x04" + _short_binstring("os") + b"S'system'\n" + b"\x93" + CALL_ECHO + b"."
    f = caught(data, "MH101", Category.COMMAND_EXEC, "os.system", evidence=f"os.system('{ECHO}')")
    assert f.severity is Severity.CRITICAL


def test_picklescan_issue_22_memo_index_ignored() -> None:
    """picklescan issue #22 (https://github.com/mmaitre314/picklescan/issues/22): the memo index argument
    was ignored, so a BINGET of an older memo slot fed STACK_GLOBAL another module than assumed."""
    data = (
        b"\x80\x04"
        + s4("os")
        + b"q\x07"  # BINPUT 7
        + b"0"
        + s4("builtins")
        + b"q\x00"  # BINPUT 0 (the latest memo entry)
        + b"0"
        + b"h\x07"  # BINGET 7 -> 'os'
        + s4("system")
        + b"\x93"
        + CALL_ECHO
        + b"."
    )
    f = caught(data, "MH101", Category.COMMAND_EXEC, "os.system")
    assert f.location.offset == data.rindex(b"R")


def test_picklescan_type_confusion_memo_counting() -> None:
    """picklescan commit d3273f4 (type-confusion-exploit): MEMOIZE numbers every value, not only
    strings; an int memoized first shifts the index of the module name."""
    data = (
        b"\x80\x04"
        + b"K\x2a\x94"  # 42, MEMOIZE -> memo[0]
        + b"0"
        + s4("os")
        + b"\x94"  # memo[1]
        + b"0"
        + b"h\x01"
        + s4("system")
        + b"\x93"
        + CALL_ECHO
        + b"."
    )
    caught(data, "MH101", Category.COMMAND_EXEC, "os.system")


def test_picklescan_keyerror_memo_overwritten() -> None:
    """picklescan commit d3273f4 (keyerror-exploit): a memo slot rewritten by a later PUT; the GET
    reads the last value stored there."""
    data = (
        b"\x80\x02"
        + b"X\x08\x00\x00\x00builtins"
        + b"p3\n0"  # PUT 3 = 'builtins'
        + b"X\x02\x00\x00\x00os"
        + b"p3\n0"  # PUT 3 = 'os'
        + b"g3\n"  # GET 3 -> 'os'
        + b"X\x06\x00\x00\x00system"
        + b"\x93"
        + b"X"
        + struct.pack("<I", len(ECHO))
        + ECHO.encode()
        + b"\x85R."
    )
    caught(data, "MH101", Category.COMMAND_EXEC, "os.system")


def test_stack_global_operands_computed_by_reduce() -> None:
    """STACK_GLOBAL with non-string operands (picklescan commit 7f994d6 marks them unknown): both
    names are produced by codecs.decode(..., 'rot13') calls while loading."""
    rot = sglobal("_codecs", "decode")
    data = b"\x80\x04" + rot + s4("bf") + s4("rot13") + b"\x86R" + rot + s4("flfgrz") + s4("rot13") + b"\x86R"
    data += b"\x93" + CALL_ECHO + b"."
    f = caught(data, "MH102", Category.COMMAND_EXEC, "os.system")
    assert "computed name" in f.message


def test_stack_global_with_an_int_operand_is_not_clean() -> None:
    """STACK_GLOBAL given an int (the unpickler refuses it): the stream is reported, never clean."""
    data = b"\x80\x04" + b"K\x2a" + s4("system") + b"\x93" + CALL_ECHO + b"."
    report = scan(data)
    assert report.verdict is not Verdict.CLEAN, summary(report)
    assert {f.rule for f in report.findings} & {"MH106", "MH108", "MH901"}, summary(report)


def test_ghsa_5j3x_jp52_966f_dotted_name_through_another_module() -> None:
    """fickling GHSA-5j3x-jp52-966f: STACK_GLOBAL 'pathlib' 'os.system' reaches os.system via pathlib."""
    data = b"\x80\x04" + sglobal("pathlib", "os.system") + CALL_ECHO + b"."
    f = caught(data, "MH102", Category.COMMAND_EXEC, "os.system")
    assert "attribute chain" in f.message


def test_ext_opcode_with_registry_preloaded_elsewhere() -> None:
    """PEP 307 extension registry: EXT1 names a global only a loader that registered the code knows;
    not resolvable here, so suspicious (MH110), never clean."""
    data = b"\x80\x02" + b"\x82\xf0" + b"X" + struct.pack("<I", len(ECHO)) + ECHO.encode() + b"\x85R."
    report = scan(data)
    f = next(f for f in report.findings if f.rule == "MH110")
    assert report.verdict is Verdict.SUSPICIOUS and "extension code 240" in f.message, summary(report)


def test_ext_opcode_registered_by_the_stream_itself() -> None:
    """PEP 307 extension registry: the stream calls copyreg.add_extension('os', 'system', 240) and then
    imports code 240 with EXT1; the finding names os.system."""
    register = call("copyreg.add_extension", "os", "system", 240)
    data = b"\x80\x02" + payload_ops([register], 2) + b"\x82\xf0"
    data += b"X" + struct.pack("<I", len(ECHO)) + ECHO.encode() + b"\x85R."
    f = caught(data, "MH102", Category.COMMAND_EXEC, "os.system", evidence=ECHO)
    assert f.severity is Severity.CRITICAL and "copyreg extension code" in f.message


def test_reduce_result_popped_is_still_a_call() -> None:
    """https://news.ycombinator.com/item?id=47266286 (ModelAudit write-up): fickling lost a call whose
    result was POPped; the call runs all the same."""
    data = b"\x80\x04" + sglobal("subprocess", "getoutput") + CALL_ECHO + b"0" + b"}."
    caught(data, "MH101", Category.COMMAND_EXEC, "subprocess.getoutput")


def test_setitems_on_a_non_dict_then_payload() -> None:
    """CVE-2026-24747 (torch weights_only unpickler): SETITEMS applied to a non-dict; a scanner that
    stops there would miss what follows."""
    data = b"\x80\x04]" + b"(" + s4("k") + s4("v") + b"u" + b"0" + sglobal("os", "system") + CALL_ECHO + b"."
    caught(data, "MH101", Category.COMMAND_EXEC, "os.system")


def test_legacy_torch_magic_number_computed_by_reduce() -> None:
    """picklescan GHSA-97f8-7cmv-76j2: the legacy torch magic number is produced by eval() in the first
    pickle instead of a literal, so a scanner expecting a literal skips the stream."""
    magic = pickle_of([call("builtins.eval", "0x1950a86a20f9469cfc6c")], protocol=2)
    rest = pickle.dumps(1001, protocol=2) + pickle.dumps({"protocol_version": 1001}, protocol=2)
    f = caught(magic + rest, "MH101", Category.CODE_EXEC, "eval", evidence="0x1950a86a20f9469cfc6c")
    assert f.location.offset == magic.rindex(b"R")


def test_copyreg_reconstructor_runs_the_base_init() -> None:
    """Protocol < 2 __reduce_ex__ (https://docs.python.org/3/library/copyreg.html): copyreg._reconstructor
    (cls, base, state) runs base.__init__(obj, state); base is subprocess.Popen here."""
    expr = call("copyreg._reconstructor", Global("subprocess", "Popen"), Global("subprocess", "Popen"), ECHO)
    report = scan(pickle_of([expr], protocol=2))
    f = caught(pickle_of([expr], protocol=2), "MH101", Category.COMMAND_EXEC, "subprocess.Popen", evidence=ECHO)
    assert "_reconstructor" in f.evidence
    assert "MH109" not in {x.rule for x in report.findings}  # the class argument is part of this call


def test_functools_reduce_getattr_chain() -> None:
    """fickling UNSAFE_IMPORTS `functools` (trailofbits/fickling fickle.py): functools.reduce(getattr,
    ['path', 'os', 'system'], module) walks an attribute chain no single import shows."""
    chain = call("functools.reduce", Global("builtins", "getattr"), ["path", "os", "system"], Global("pathlib", "Path"))
    f = caught(pickle_of([Call(chain, (ECHO,))], protocol=4), "MH102", Category.COMMAND_EXEC, "os.system")
    assert "functools.reduce" in f.message


def test_build_state_plants_setstate_exec() -> None:
    """Pickle BUILD semantics (https://docs.python.org/3/library/pickle.html#object.__setstate__): one
    BUILD puts __setstate__ = exec into an instance's dict, the next BUILD calls it with the code."""
    data = setstate_exec(CODE)
    f = caught(data, "MH102", Category.CODE_EXEC, "exec", evidence=CODE)
    assert "BUILD __setstate__" in f.message


def test_allowlisted_torch_rebuild_helper_calls_its_argument() -> None:
    """CVE-2025-32434 technique class (https://safeguard.sh/resources/blog/pytorch-cve-2025-32434-torch-load-weights-only-bypass:
    allow-listed torch internals whose construction path calls a user-controlled callable):
    torch._tensor._rebuild_from_type_v2(func, new_type, args, state) runs func(*args)."""
    expr = call("torch._tensor._rebuild_from_type_v2", Global("os", "system"), Global("torch", "Tensor"), (ECHO,), {})
    f = caught(pickle_of([expr], protocol=2), "MH102", Category.COMMAND_EXEC, "os.system", evidence=ECHO)
    assert "_rebuild_from_type_v2" in f.message and f.severity is Severity.CRITICAL


def test_builtins_map_applies_a_dangerous_function() -> None:
    """picklescan scanner.py `builtins` entry lists eval/exec/… only: list(map(os.system, [cmd])) calls
    os.system through builtins.map, which is not on it."""
    expr = call("builtins.list", call("builtins.map", Global("os", "system"), [ECHO]))
    f = caught(pickle_of([expr], protocol=4), "MH102", Category.COMMAND_EXEC, "os.system", evidence=ECHO)
    assert "through map" in f.message and f.severity is Severity.CRITICAL


def test_builtins_filter_and_itertools_starmap_apply_a_dangerous_function() -> None:
    """Same gap as builtins.map: filter(exec, [code]) and itertools.starmap(os.system, [(cmd,)])."""
    expr = call("builtins.tuple", call("builtins.filter", Global("builtins", "exec"), [CODE]))
    caught(pickle_of([expr], protocol=4), "MH102", Category.CODE_EXEC, "exec", evidence=CODE)
    expr = call("builtins.set", call("itertools.starmap", Global("os", "system"), [(ECHO,)]))
    f = caught(pickle_of([expr], protocol=4), "MH102", Category.COMMAND_EXEC, "os.system", evidence=ECHO)
    assert "itertools.starmap" in f.message


def test_operator_call_applies_a_dangerous_function() -> None:
    """picklescan `operator` entries (attrgetter/itemgetter/methodcaller, PRs #53/#54) leave operator.call
    (Python 3.11+): operator.call(os.system, cmd)."""
    expr = call("operator.call", Global("os", "system"), ECHO)
    f = caught(pickle_of([expr], protocol=2), "MH102", Category.COMMAND_EXEC, "os.system", evidence=ECHO)
    assert "operator.call" in f.message


def test_vars_and_getattribute_are_getattr_equivalents() -> None:
    """fickling UNSAFE_IMPORTS ("attribute access: getattr equivalent bypasses"): vars(module)['system']
    and object.__getattribute__(module, 'system')."""
    module = call("builtins.__import__", "os")
    via_vars = Call(call("operator.getitem", call("builtins.vars", module), "system"), (ECHO,))
    f = caught(pickle_of([via_vars], protocol=4), "MH102", Category.COMMAND_EXEC, "os.system")
    assert "vars" in f.message
    via_getattribute = Call(call("builtins.object.__getattribute__", module, "system"), (ECHO,))
    report = scan(pickle_of([via_getattribute], protocol=4))
    assert rules(report) == {"MH102"}, summary(report)


def test_call_dunder_nested_partial_and_getattr_static() -> None:
    """fickling UNSAFE_IMPORTS (`functools`, `inspect`: getattr equivalents): getattr(os.system, '__call__'),
    partial(partial(os.system, cmd)) and inspect.getattr_static(module, 'system') all reach os.system."""
    system = Global("os", "system")
    dunder = Call(call("builtins.getattr", system, "__call__"), (ECHO,))
    nested = Call(call("functools.partial", call("functools.partial", system, ECHO)), ())
    static = Call(call("inspect.getattr_static", call("builtins.__import__", "os"), "system"), (ECHO,))
    for expr, how in ((dunder, "getattr"), (nested, "partial → partial"), (static, "getattr_static")):
        f = caught(pickle_of([expr], protocol=4), "MH102", Category.COMMAND_EXEC, "os.system", evidence="system")
        assert how in f.message and f.severity is Severity.CRITICAL
