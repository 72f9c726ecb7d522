"""Files downloaded and then loaded or run: the ``downloaded`` taint on the path value (MH504)."""

from __future__ import annotations

import pytest

from malhug.analyzers.scripts.analyzer import analyze_text
from malhug.analyzers.shared.embedded import assess_python
from malhug.core.model import Category, Severity
from tests.scripts.helpers import by_rule, line_of

FETCH_IN_FUNCTION = """import os, subprocess, tempfile
import tensorflow as tf

def download_file(url):
    temp_dir = tempfile.mkdtemp()
    subprocess.run(['wget', '-q', url, '-O', os.path.join(temp_dir, 'tf_model.h5')])
    return os.path.join(temp_dir, 'tf_model.h5')

model = tf.keras.models.load_model(download_file('http://127.0.0.1:8000/m.h5'))
"""

POSITIVE = {
    "keras_after_wget_in_function": (FETCH_IN_FUNCTION, "load_model(", "tensorflow.keras.models.load_model"),
    "torch_after_curl_fixed_path": (
        "import os, torch\nos.system('curl -s http://127.0.0.1/w.bin -o /tmp/w.bin')\nsd = torch.load('/tmp/w.bin')\n",
        "torch.load(",
        "torch.load",
    ),
    "pickle_of_urlretrieve": (
        "import pickle, urllib.request\np = '/tmp/m.pkl'\nurllib.request.urlretrieve('http://127.0.0.1/m.pkl', p)\n"
        "obj = pickle.load(open(p, 'rb'))\n",
        "pickle.load(",
        "pickle.load",
    ),
    "joblib_of_saved_response": (
        "import joblib, os, requests\ndef fetch(d):\n    r = requests.get('http://127.0.0.1/m.joblib')\n"
        "    path = os.path.join(d, 'm.joblib')\n    with open(path, 'wb') as f:\n        f.write(r.content)\n"
        "    return path\nclf = joblib.load(fetch(os.getcwd()))\n",
        "joblib.load(",
        "joblib.load",
    ),
    "numpy_allow_pickle": (
        "import numpy as np, subprocess\nsubprocess.run(['wget', 'http://127.0.0.1/a.npy', '-O', '/tmp/a.npy'])\n"
        "a = np.load('/tmp/a.npy', allow_pickle=True)\n",
        "np.load(",
        "numpy.load",
    ),
    "bash_runs_download": (
        "import os, subprocess, tempfile\nd = tempfile.mkdtemp()\n"
        "subprocess.run(['curl', 'http://127.0.0.1/i.sh', '-o', os.path.join(d, 'i.sh')])\n"
        "subprocess.run(['bash', os.path.join(d, 'i.sh')])\n",
        "['bash'",
        "bash",
    ),
    "runpy_of_download": (
        "import runpy, urllib.request\nurllib.request.urlretrieve('http://127.0.0.1/x.py', '/tmp/x.py')\n"
        "runpy.run_path('/tmp/x.py')\n",
        "runpy.run_path(",
        "run_path",
    ),
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_loading_or_running_a_downloaded_file_is_download_exec(name: str) -> None:
    code, needle, evidence = POSITIVE[name]
    found = by_rule(analyze_text(code, path="x.py"), "MH504")
    assert len(found) == 1, found
    f = found[0]
    assert f.category is Category.DOWNLOAD_EXEC
    assert f.severity >= Severity.HIGH
    assert f.location.line == line_of(code, needle)
    assert evidence in (f.evidence or "") + f.message
    assert f.trace[0].message.startswith(("downloads", "saves data downloaded")), f.trace
    assert len(f.trace) >= 2


def test_frogs_style_trace_follows_the_returned_path() -> None:
    f = by_rule(analyze_text(FETCH_IN_FUNCTION, path="x.py"), "MH504")[0]
    steps = [s.message for s in f.trace]
    assert steps[0] == "downloads http://127.0.0.1:8000/m.h5 to …/tf_model.h5 with wget"
    assert "returned from download_file()" in steps
    assert steps[-1] == "loaded by tensorflow.keras.models.load_model"
    assert f.trace[0].location is not None and f.trace[0].location.line == line_of(FETCH_IN_FUNCTION, "['wget'")
    assert assess_python(FETCH_IN_FUNCTION).category is Category.DOWNLOAD_EXEC


BENIGN = {
    "csv_then_pandas": (
        "import pandas as pd, subprocess\nsubprocess.run(['wget', 'http://127.0.0.1/d.csv', '-O', '/tmp/d.csv'])\n"
        "df = pd.read_csv('/tmp/d.csv')\n"
    ),
    "csv_in_function_then_pandas": (
        "import os, pandas, tempfile, urllib.request\ndef get():\n    d = tempfile.mkdtemp()\n"
        "    urllib.request.urlretrieve('http://127.0.0.1/d.csv', os.path.join(d, 'd.csv'))\n"
        "    return os.path.join(d, 'd.csv')\ndf = pandas.read_csv(get())\n"
    ),
    "numpy_plain_arrays": (
        "import numpy as np, subprocess\nsubprocess.run(['wget', 'http://127.0.0.1/a.npy', '-O', '/tmp/a.npy'])\n"
        "a = np.load('/tmp/a.npy')\n"
    ),
    "unzip_of_download": (
        "import subprocess\nsubprocess.run(['wget', 'http://127.0.0.1/d.zip', '-O', '/tmp/d.zip'])\n"
        "subprocess.run(['unzip', '/tmp/d.zip'])\n"
    ),
    # The same-looking partly-known path in another function is another file.
    "other_function_same_text": (
        "import os, subprocess, tempfile, torch\ndef fetch():\n    d = tempfile.mkdtemp()\n"
        "    subprocess.run(['wget', 'http://127.0.0.1/m.bin', '-O', os.path.join(d, 'm.bin')])\n"
        "def local(d):\n    return os.path.join(d, 'm.bin')\nm = torch.load(local(os.getcwd()))\n"
    ),
    "load_of_local_model": "import torch\nm = torch.load('/tmp/m.bin')\n",
}


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_downloads_that_are_not_loaded_or_run_are_not_download_exec(name: str) -> None:
    findings = analyze_text(BENIGN[name], path="x.py")
    assert by_rule(findings, "MH504") == []
    assert all(f.category is not Category.DOWNLOAD_EXEC for f in findings)
