"""``builtins.str.join`` on constant strings is data (issue: false alarms on real files).

Writers that pickle a joined string by reference (``str.join`` as a REDUCE) build text, nothing else:
the call is folded and the file stays clean. When the joined text names a dangerous callable and a
name resolver (``pydoc.locate``) turns it into a function that is called, the chain is reported.
"""

from __future__ import annotations

import pytest

from malhug.core.model import Category, Verdict
from tests.pickle.helpers import one, rules, s4, scan, summary

JOIN = s4("builtins") + s4("str.join") + b"\x93"


def joined(sep: str, *parts: str) -> bytes:
    """``sep.join([parts])`` as STACK_GLOBAL + REDUCE, leaving the result on the stack."""
    return JOIN + s4(sep) + b"](" + b"".join(s4(p) for p in parts) + b"e\x86R"


@pytest.mark.quiet("MH106")
def test_str_join_of_constants_is_data() -> None:
    report = scan(b"\x80\x04" + joined(" ", "weights", "v2") + b".")
    assert "MH106" not in rules(report)
    assert report.findings == [], summary(report)
    assert report.verdict is Verdict.CLEAN


@pytest.mark.quiet("MH106")
def test_protocol_2_global_of_str_join_is_data() -> None:
    data = b"\x80\x02cbuiltins\nstr.join\nX\x01\x00\x00\x00-]q\x00(X\x01\x00\x00\x00aX\x01\x00\x00\x00be\x86R."
    report = scan(data)
    assert "MH106" not in rules(report)
    assert report.verdict is Verdict.CLEAN


@pytest.mark.fires("MH102")
def test_str_join_building_os_system_for_a_resolver_is_reported() -> None:
    data = b"\x80\x04" + s4("pydoc") + s4("locate") + b"\x93" + joined("", "os.", "system") + b"\x85R"
    data += s4("echo joined") + b"\x85R."
    report = scan(data)
    found = one(report, "MH102")
    assert found.category is Category.COMMAND_EXEC
    assert "os.', 'system'" in found.evidence and "echo joined" in found.evidence
    assert report.verdict is Verdict.MALICIOUS


def test_dunder_of_a_builtin_type_is_still_a_chain() -> None:
    data = b"\x80\x04" + s4("builtins") + s4("str.__subclasses__") + b"\x93)R."
    report = scan(data)
    assert report.verdict is not Verdict.CLEAN, summary(report)
