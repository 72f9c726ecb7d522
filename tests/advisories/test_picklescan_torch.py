"""picklescan advisories about PyTorch helpers that run code, spawn commands or unpickle again.

Sources: picklescan security advisories (ids below) and the fix commits 7f994d6 / 93764d6 that
list them; the callables are looked up by name only, torch is never imported by the analyzer.
"""

from __future__ import annotations

from malhug.core.model import Category, Severity
from tests.advisories.helpers import CODE, ECHO, caught
from tests.builders.pickles import Call, Global, call, pickle_of


def _nested() -> bytes:
    return pickle_of([call("posix.system", ECHO)], protocol=2)


def test_ghsa_4r9r_ch6f_vxmx_bottleneck_run_cprofile() -> None:
    """GHSA-4r9r-ch6f-vxmx: torch.utils.bottleneck.__main__.run_cprofile(code, globs) executes code."""
    data = pickle_of([call("torch.utils.bottleneck.__main__.run_cprofile", CODE, {})], protocol=4)
    f = caught(data, "MH101", Category.CODE_EXEC, "run_cprofile")
    assert f.severity is Severity.CRITICAL


def test_ghsa_4whj_rm5r_c2v8_bottleneck_run_autograd_prof() -> None:
    """GHSA-4whj-rm5r-c2v8: torch.utils.bottleneck.__main__.run_autograd_prof(code, globs)."""
    data = pickle_of([call("torch.utils.bottleneck.__main__.run_autograd_prof", CODE, {})], protocol=4)
    caught(data, "MH101", Category.CODE_EXEC, "run_autograd_prof")


def test_ghsa_86cj_95qr_2p4f_dynamo_guard_builder_get() -> None:
    """GHSA-86cj-95qr-2p4f: torch._dynamo.guards.GuardBuilder.get(builder, name) evals the name."""
    data = pickle_of([Call(Global("torch._dynamo.guards", "GuardBuilder.get"), (None, CODE))], protocol=4)
    caught(data, "MH101", Category.CODE_EXEC, "GuardBuilder.get")


def test_ghsa_f4x7_rfwp_v3xw_symbolic_shapes_evaluate_guards_expression() -> None:
    """GHSA-f4x7-rfwp-v3xw: ShapeEnv.evaluate_guards_expression(env, code, args) evals the code."""
    qual = "ShapeEnv.evaluate_guards_expression"
    data = pickle_of([Call(Global("torch.fx.experimental.symbolic_shapes", qual), (None, CODE, []))], protocol=4)
    caught(data, "MH101", Category.CODE_EXEC, qual)


def test_ghsa_vr7h_p6mm_wpmh_jit_exec_wrapper() -> None:
    """GHSA-vr7h-p6mm-wpmh: torch.jit.unsupported_tensor_ops.execWrapper(code, globals, locals) execs it."""
    data = pickle_of([call("torch.jit.unsupported_tensor_ops.execWrapper", CODE, {}, {})], protocol=4)
    caught(data, "MH101", Category.CODE_EXEC, "execWrapper")


def test_ghsa_f745_w6jp_hpxx_collect_env_run() -> None:
    """GHSA-f745-w6jp-hpxx: torch.utils.collect_env.run(command) runs a shell command."""
    data = pickle_of([call("torch.utils.collect_env.run", ECHO)], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "torch.utils.collect_env.run")


def test_ghsa_jhph_76pp_mggw_collect_env_run_and_read_all() -> None:
    """GHSA-jhph-76pp-mggw: torch.utils.collect_env.run_and_read_all(run, command) via a partial of run."""
    runner = Global("torch.utils.collect_env", "run")
    data = pickle_of([call("torch.utils.collect_env.run_and_read_all", runner, ECHO)], protocol=2)
    caught(data, "MH101", Category.COMMAND_EXEC, "run_and_read_all")


def test_inductor_codecache_compile_file() -> None:
    """picklescan commit 93764d6: torch._inductor.codecache.compile_file(in, out, cmd) runs cmd (3rd arg)."""
    data = pickle_of([call("torch._inductor.codecache.compile_file", "", "", ["sh", "-c", ECHO])], protocol=2)
    f = caught(data, "MH101", Category.COMMAND_EXEC, "compile_file")
    assert "constant command" in f.message


def test_ghsa_vv6j_3g6g_2pvj_config_module_load_config() -> None:
    """GHSA-vv6j-3g6g-2pvj: torch.utils._config_module.ConfigModule.load_config(cfg, data) unpickles data."""
    data = pickle_of(
        [Call(Global("torch.utils._config_module", "ConfigModule.load_config"), (None, _nested()))], protocol=4
    )
    caught(data, "MH104", Category.CODE_EXEC, "ConfigModule.load_config")
    inner = caught(data, "MH101", Category.COMMAND_EXEC, "os.system", evidence=ECHO)
    assert inner.location.member is not None


def test_ghsa_h3qp_7fh3_f8h4_datapipes_basichandlers() -> None:
    """GHSA-h3qp-7fh3-f8h4: datapipes decoder basichandlers('pickle', data) unpickles data (2nd arg)."""
    name = "torch.utils.data.datapipes.utils.decoder.basichandlers"
    data = pickle_of([call(name, "pickle", _nested())], protocol=2)
    caught(data, "MH104", Category.CODE_EXEC, "basichandlers")
    caught(data, "MH101", Category.COMMAND_EXEC, "os.system", evidence=ECHO)


def test_torch_serialization_load() -> None:
    """picklescan commit 93764d6: torch.serialization.load of another file is a second-stage load."""
    data = pickle_of([call("torch.serialization.load", "/tmp/malhug-other.pt")], protocol=2)
    caught(data, "MH104", Category.CODE_EXEC, "torch.serialization.load")


def test_picklescan_todo_nested_loaders() -> None:
    """picklescan scanner.py TODO list (methods loading other pickles: numpy.load, pandas.read_pickle,
    joblib.load, torch.load, tf.keras load_model) plus the torch/numpy internals behind them."""
    for name in (
        "pandas.read_pickle",
        "joblib.load",
        "numpy.lib.format.read_array",
        "torch.serialization._legacy_load",
        "torch.jit.load",
        "tensorflow.keras.models.load_model",
    ):
        data = pickle_of([call(name, "/tmp/malhug-sentinel-other.bin")], protocol=2)
        caught(data, "MH104", Category.CODE_EXEC, name)


def test_picklescan_todo_numpy_ctypeslib_load_library() -> None:
    """picklescan scanner.py TODO list: numpy.ctypeslib.load_library(name, path) loads native code."""
    data = pickle_of([call("numpy.ctypeslib.load_library", "libmalhug", "/tmp/malhug-sentinel")], protocol=2)
    f = caught(data, "MH101", Category.CODE_EXEC, "numpy.ctypeslib.load_library")
    assert f.severity is Severity.HIGH


def test_torch_package_importer_runs_packaged_code() -> None:
    """Nested code loaders (picklescan TODO list, torch family): torch.package.PackageImporter(path)
    imports the Python modules stored in a package file."""
    data = pickle_of([call("torch.package.PackageImporter", "/tmp/malhug-sentinel.pt")], protocol=2)
    caught(data, "MH101", Category.CODE_EXEC, "torch.package.PackageImporter")
