"""Pickles that reach code through gadgets outside the usual deny lists, rebuilt from published
descriptions (nothing here is unpickled; every stream is written opcode by opcode, payloads are
``echo``):

- the Hide-and-Seek study's risky-function surface (Liu et al., "The Art of Hide and Seek: Making
  Pickle-Based Model Supply Chain Poisoning Stealthy Again", arXiv:2508.19774): standard-library and
  ML-library functions that evaluate a string, resolve a dotted name and call it, or spawn a
  process a few calls down (``typing.get_type_hints`` on string annotations,
  ``logging.config.dictConfig``'s ``'()'`` factory key, test and build helpers of NumPy,
  scikit-learn and joblib);
- name resolvers fed a dangerous name (``pkgutil.resolve_name('os:system')``, the picklescan
  bypass its reporters published in 2025; Hydra's ``instantiate`` with ``_target_``), also
  with the name split into pieces the pickle machine folds back together.

``GADGET_EVASIONS`` maps a file name to a builder taking a scratch folder and returning the bytes;
``GADGET_LOOKALIKES`` holds benign files that use the same helpers with harmless names (the policy
still calls them suspicious: a function outside the allowlist), never malicious.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.builders.pickles import Call, call, pickle_of

ECHO = "echo malhug"
PY = "__import__('os').system('echo malhug')"


def _annotated_class(annotation: str) -> Call:
    """``type('M', (), {'__annotations__': {'x': annotation}})``: a class whose annotation is text."""
    return call("builtins.type", "M", (), {"__annotations__": {"x": annotation}})


def typing_get_type_hints(_: Path) -> bytes:
    # get_type_hints evaluates string annotations with eval() (typing.ForwardRef._evaluate).
    return pickle_of([call("typing.get_type_hints", _annotated_class(PY))], protocol=4)


def _dict_config(factory: object) -> dict[str, object]:
    return {"version": 1, "handlers": {"h": {"()": factory, "command": ECHO}}, "root": {"handlers": ["h"]}}


def logging_dictconfig_factory(_: Path) -> bytes:
    # logging.config resolves the '()' key with __import__ + getattr and calls it with the other keys.
    return pickle_of([call("logging.config.dictConfig", _dict_config("os.system"))], protocol=4)


def logging_dictconfig_split_name(_: Path) -> bytes:
    # The factory name built while loading: operator.add('os.sys', 'tem').
    factory = call("operator.add", "os.sys", "tem")
    return pickle_of([call("logging.config.dictConfig", _dict_config(factory))], protocol=4)


def hydra_instantiate_target(_: Path) -> bytes:
    # hydra.utils.instantiate imports and calls the dotted '_target_' (not in any deny list).
    target = {"_target_": "subprocess.Popen", "args": ["echo", "malhug"]}
    return pickle_of([call("hydra.utils.instantiate", target)], protocol=4)


def pkgutil_resolve_split(_: Path) -> bytes:
    # pkgutil.resolve_name('os:system') with the name folded from two halves, then called.
    resolved = call("pkgutil.resolve_name", call("operator.add", "os:", "system"))
    return pickle_of([Call(resolved, (ECHO,))], protocol=4)


def numpy_cpuinfo_getoutput(_: Path) -> bytes:
    # numpy.distutils.cpuinfo.getoutput(cmd) -> subprocess.getstatusoutput(cmd).
    return pickle_of([call("numpy.distutils.cpuinfo.getoutput", ECHO)], protocol=4)


def sklearn_run_python_script(_: Path) -> bytes:
    # A scikit-learn test helper that runs a Python script in a subprocess.
    source = "import os; os.system('echo malhug')"
    return pickle_of([call("sklearn.utils._testing.assert_run_python_script_without_output", source)], protocol=4)


def joblib_loky_prepare(_: Path) -> bytes:
    # loky's spawn.prepare runs a module as __main__ (runpy.run_module) named in its data.
    return pickle_of(
        [call("joblib.externals.loky.backend.spawn.prepare", {"init_main_from_name": "malhug"})], protocol=4
    )


FX_CODE = "def forward(self, x):\n    import os\n    os.system('echo malhug')\n    return x\n"


def torch_fx_graph_module_code(_: Path) -> bytes:
    # torch.fx rebuilds a GraphModule by exec()-ing the forward source stored in the pickle
    # (torch/fx/graph_module.py: reduce_graph_module -> _forward_from_src -> exec).
    body = {"_code": FX_CODE, "_graphmodule_cls_name": "GraphModule"}
    return pickle_of([call("torch.fx.graph_module.reduce_graph_module", body, "import torch\n")], protocol=4)


def torch_fx_graph_module_benign(_: Path) -> bytes:
    """A real ``torch.save`` of a traced torch.fx GraphModule (its forward is carried as source)."""
    import io

    import torch
    from torch.fx import symbolic_trace

    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save(symbolic_trace(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU())), buf)
    return buf.getvalue()


def logging_dictconfig_lookalike(_: Path) -> bytes:
    """A configuration helper outside our tables handed harmless class names."""
    config = {"handlers": {"h": {"()": "logging.StreamHandler"}}, "model": "torch.nn.Linear"}
    return pickle_of([call("mylib.config.configure", config)], protocol=4)


def hydra_instantiate_lookalike(_: Path) -> bytes:
    return pickle_of([call("hydra.utils.instantiate", {"_target_": "torch.nn.Linear", "in_features": 4})], protocol=4)


GADGET_EVASIONS: dict[str, Callable[[Path], bytes]] = {
    "typing_get_type_hints.pkl": typing_get_type_hints,
    "logging_dictconfig_factory.pkl": logging_dictconfig_factory,
    "logging_dictconfig_split_name.pkl": logging_dictconfig_split_name,
    "hydra_instantiate_target.pkl": hydra_instantiate_target,
    "pkgutil_resolve_split.pkl": pkgutil_resolve_split,
    "numpy_cpuinfo_getoutput.pkl": numpy_cpuinfo_getoutput,
    "sklearn_run_python_script.pkl": sklearn_run_python_script,
    "joblib_loky_prepare.pkl": joblib_loky_prepare,
    "torch_fx_graph_module_code.pkl": torch_fx_graph_module_code,
}

GADGET_LOOKALIKES: dict[str, Callable[[Path], bytes]] = {
    "config_helper_harmless_names.pkl": logging_dictconfig_lookalike,
    "hydra_instantiate_harmless_target.pkl": hydra_instantiate_lookalike,
    "torch_fx_graph_module.pt": torch_fx_graph_module_benign,
}
