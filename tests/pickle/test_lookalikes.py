"""Each pickle rule next to a benign look-alike of what makes it fire: the rule must stay silent.

The positive side of each pair lives with its analyzer's tests (marked ``fires``); here each case
changes one thing that matters (the callable, what is done with it, where the bytes go) and asserts
the rule's id is absent.
"""

from __future__ import annotations

import base64
import collections
import functools
import operator
import pickle

import pytest

from malhug.core.model import Verdict
from tests.builders.pickles import Global, Writer, call, pickle_of
from tests.pickle.helpers import rules, scan, summary

ECHO = "echo malhug"


def _root(value: object, protocol: int = 4) -> bytes:
    w = Writer(protocol).header()
    w.value(value)
    return bytes(w.op(b"."))


@pytest.mark.parametrize(
    ("rule", "data"),
    [
        # MH101 fires on os.system('echo ...') called while loading; the same text kept as data does not.
        pytest.param(
            "MH101",
            pickle.dumps({"cmd": f"os.system('{ECHO}')", "fn": "subprocess.Popen"}),
            marks=pytest.mark.quiet("MH101"),
        ),
        # MH102 fires on functools.partial(os.system, ...); a partial of a harmless function does not.
        pytest.param(
            "MH102", pickle.dumps(functools.partial(operator.add, 1), protocol=4), marks=pytest.mark.quiet("MH102")
        ),
        # MH104 fires on pickle.loads(<pickle>); the same pickle kept as bytes is not loaded.
        pytest.param(
            "MH104",
            pickle.dumps({"blob": pickle_of([call("os.system", ECHO)], protocol=2)}, protocol=4),
            marks=pytest.mark.quiet("MH104"),
        ),
        # MH105 fires on exec(base64.b64decode(...)); decoding the same text into a value runs nothing.
        pytest.param(
            "MH105",
            pickle_of([call("base64.b64decode", base64.b64encode(ECHO.encode()).decode())], protocol=4),
            marks=pytest.mark.quiet("MH105"),
        ),
        # MH106 fires on an unknown function called with text; an unknown class rebuilt and kept is a note.
        pytest.param(
            "MH106", pickle_of([call("mytools.models.TinyNet", 3)], protocol=4), marks=pytest.mark.quiet("MH106")
        ),
        # MH107 fires on setting items of os.environ; setting items of a new OrderedDict changes no module.
        pytest.param(
            "MH107",
            pickle.dumps(collections.OrderedDict(LD_PRELOAD="/tmp/x.so"), protocol=4),
            marks=pytest.mark.quiet("MH107"),
        ),
        # MH108 fires on an unknown class; a standard-library value class is known.
        pytest.param("MH108", pickle.dumps(collections.Counter("abc"), protocol=4), marks=pytest.mark.quiet("MH108")),
        # MH109 fires on os.system stored but not called; a stored harmless builtin is not dangerous.
        pytest.param("MH109", _root({"hook": Global("builtins", "len")}), marks=pytest.mark.quiet("MH109")),
        # MH110 fires on an extension code (EXT1) calling an unknown callable; the same call by name does not.
        pytest.param(
            "MH110", b"\x80\x02c__builtin__\nset\nX\x03\x00\x00\x00abc\x85R.", marks=pytest.mark.quiet("MH110")
        ),
        # MH111 fires on bytes after the last pickle; a second complete pickle (joblib writes several) is no trailer.
        pytest.param(
            "MH111",
            pickle.dumps({"a": 1}, protocol=4) + pickle.dumps([2], protocol=4),
            marks=pytest.mark.quiet("MH111"),
        ),
    ],
)
def test_benign_lookalike_stays_quiet(rule: str, data: bytes) -> None:
    report = scan(data)
    assert rule not in rules(report), summary(report)
    assert report.verdict is Verdict.CLEAN, summary(report)
