"""Gadgets named in public advisories and fixes published after the deny-list comparison of GADGETS.md.

Not the Hide-and-Seek study's list (arXiv:2508.19774; its gadget table could not be read here):
each name below is taken from the public thread cited beside it. For each, the test pins whether
the mined table (``knowledge/gadgets.jsonl``) has it and with which sink, and what a pickle that
calls it with the advisory's kind of argument gets: the rule family and the verdict. GADGETS.md
("Gadgets named since") lists the same rows. Payloads are defanged (``echo``, 127.0.0.1, /tmp);
nothing is unpickled.
"""

from __future__ import annotations

import pytest

from malhug.analyzers.knowledge.gadgets import gadget_of
from malhug.core.model import Verdict
from tests.builders.pickles import Call, call, pickle_of
from tests.pickle.helpers import rules, scan, summary

CALLS_FAMILY = {"MH101", "MH102", "MH103", "MH104", "MH105"}  # a catalogued dangerous callable
MARSHALLED = bytes.fromhex("e3000000000000000000000000")  # the start of a code object: never loaded

PICKLESCAN = "https://github.com/mmaitre314/picklescan"
MODELAUDIT = "https://github.com/promptfoo/modelaudit"
NLTK = "https://github.com/nltk/nltk"

# (name, arguments, where it was named, the table's sink or None, expected rule family, verdict)
ROWS: list[tuple[str, tuple[object, ...], str, str | None, str, Verdict]] = [
    (
        "mailcap.findmatch",
        ({"text/plain": [{"view": "cat %s", "test": "echo findmatch"}]}, "text/plain"),
        "https://github.com/protectai/modelscan/pull/346",
        "command-exec",
        "MH101",
        Verdict.MALICIOUS,
    ),
    ("marshal.loads", (MARSHALLED,), f"{PICKLESCAN}/pull/74", None, "MH101", Verdict.MALICIOUS),
    ("importlib.import_module", ("os",), f"{PICKLESCAN}/pull/74", None, "MH101", Verdict.MALICIOUS),
    ("importlib.util.find_spec", ("os",), f"{PICKLESCAN}/issues/66", "name-resolve", "MH101", Verdict.MALICIOUS),
    ("importlib.util.module_from_spec", ("os",), f"{PICKLESCAN}/issues/66", None, "MH101", Verdict.MALICIOUS),
    ("pkgutil.resolve_name", ("os:system",), f"{PICKLESCAN}/pull/65", None, "MH101", Verdict.MALICIOUS),
    ("uuid._get_command_stdout", ("echo", "x"), f"{MODELAUDIT}/pull/581", "command-exec", "MH101", Verdict.MALICIOUS),
    (
        "pip.main",
        (["install", "http://127.0.0.1/x.tar.gz"],),
        f"{MODELAUDIT}/pull/598",
        None,
        "MH101",
        Verdict.MALICIOUS,
    ),
    (
        "pip._vendor.distlib.scripts.ScriptMaker",
        ("/tmp", "/tmp"),
        f"{MODELAUDIT}/pull/598",
        None,
        "MH101",
        Verdict.MALICIOUS,
    ),
    ("codecs.open", ("/tmp/x", "w"), f"{MODELAUDIT}/pull/1059", None, "MH101", Verdict.MALICIOUS),
    ("aifc.open", ("/tmp/x", "wb"), f"{MODELAUDIT}/pull/1059", "file-write", "MH112", Verdict.MALICIOUS),
    ("bz2.open", ("/tmp/x", "wb"), f"{MODELAUDIT}/pull/1059", None, "MH101", Verdict.MALICIOUS),
    ("argparse.FileType", ("w",), f"{MODELAUDIT}/pull/1059", None, "MH108", Verdict.CLEAN),
    ("configparser.RawConfigParser.read", ("/tmp/x",), f"{MODELAUDIT}/pull/1059", None, "MH106", Verdict.SUSPICIOUS),
    ("functools.reduce", ("x", [1]), f"{MODELAUDIT}/pull/903", None, "MH101", Verdict.MALICIOUS),
    ("logging.config.listen", (9999,), f"{MODELAUDIT}/pull/903", "code-exec", "MH112", Verdict.MALICIOUS),
    ("builtins.help", ("os",), f"{MODELAUDIT}/pull/1216", None, "MH106", Verdict.SUSPICIOUS),
    (
        "asyncio.unix_events._UnixSubprocessTransport",
        ("echo x",),
        "https://github.com/trailofbits/fickling/pull/210",
        None,
        "MH101",
        Verdict.MALICIOUS,
    ),
    (
        "_io.FileIO",
        ("/tmp/x", "w"),
        "https://github.com/trailofbits/fickling/pull/210",
        None,
        "MH101",
        Verdict.MALICIOUS,
    ),
    (
        "operator.methodcaller",
        ("system", "echo x"),
        "https://github.com/trailofbits/fickling/pull/210",
        None,
        "MH101",
        Verdict.MALICIOUS,
    ),
    (
        "torch.utils.bottleneck.__main__.run_autograd_prof",
        ("print('echo x')", {}),
        f"{PICKLESCAN}/pull/49",
        None,
        "MH101",
        Verdict.MALICIOUS,
    ),
    (
        "_frozen_importlib_external.spec_from_file_location",
        ("x", "/tmp/x.py"),
        f"{NLTK}/pull/3757",
        None,
        "MH106",
        Verdict.SUSPICIOUS,
    ),
    ("pandas.io.pickle.read_pickle", ("x.pkl",), f"{NLTK}/pull/3757", "deserialize", "MH112", Verdict.MALICIOUS),
    ("scipy.sparse.load_npz", ("x.npz",), f"{NLTK}/pull/3757", None, "MH106", Verdict.SUSPICIOUS),
    ("scipy.sparse.save_npz", ("/tmp/x.npz", 1), f"{NLTK}/pull/3757", None, "MH101", Verdict.MALICIOUS),
    ("scipy.datasets.face", (), f"{NLTK}/pull/3757", None, "MH101", Verdict.MALICIOUS),
    ("_ctypes.CFuncPtr", (("system", None),), f"{NLTK}/pull/3757", None, "MH101", Verdict.MALICIOUS),
    ("tempfile.mkstemp", (), f"{NLTK}/pull/3757", None, "MH101", Verdict.MALICIOUS),
    ("posixpath.expandvars", ("$HOME",), f"{NLTK}/pull/3794", None, "MH106", Verdict.SUSPICIOUS),
]


@pytest.mark.parametrize(("name", "args", "source", "sink", "family", "verdict"), ROWS, ids=[r[0] for r in ROWS])
def test_published_gadget(
    name: str, args: tuple[object, ...], source: str, sink: str | None, family: str, verdict: Verdict
) -> None:
    assert source.startswith("https://github.com/")
    mined = gadget_of(name)
    assert (mined.sink if mined is not None else None) == sink
    report = scan(pickle_of([call(name, *args)], protocol=4))
    found = rules(report)
    if family == "MH101":
        assert found & CALLS_FAMILY, summary(report)
    else:
        assert family in found, summary(report)
        assert not found & CALLS_FAMILY, summary(report)
    assert report.verdict is verdict, summary(report)


def test_file_type_applied_to_a_path_is_a_call_outside_the_allowlist() -> None:
    # argparse.FileType('w') is only a factory (MH108); applying it opens the file: MH106.
    report = scan(pickle_of([Call(call("argparse.FileType", "w"), ("/tmp/x",))], protocol=4))
    assert {"MH106", "MH108"} <= rules(report)
    assert report.verdict is Verdict.SUSPICIOUS


@pytest.mark.parametrize("opener", ["bz2.open", "gzip.open", "lzma.open", "gzip.GzipFile"])
def test_compressed_file_opener_follows_the_mode_like_open(opener: str) -> None:
    # Written: the file-write family, as open(path, 'w'); read (the default mode 'rb'): a call
    # outside the allowlist, as open(path).
    written = scan(pickle_of([call(opener, "/tmp/x", "wb")], protocol=4))
    assert rules(written) & CALLS_FAMILY, summary(written)
    assert written.verdict is Verdict.MALICIOUS
    assert {f.category.value for f in written.findings if f.rule in CALLS_FAMILY} == {"file-write"}
    read = scan(pickle_of([call(opener, "/tmp/x")], protocol=4))
    assert "MH106" in rules(read) and not rules(read) & CALLS_FAMILY, summary(read)
    assert read.verdict is Verdict.SUSPICIOUS
