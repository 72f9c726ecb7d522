"""Functions that benign model files call while loading, measured on real files (generated).

Written by ``tools/gadgets/allowlist.py --write`` from the benign files of the model benchmark
(torch, NumPy, scikit-learn, joblib, h5py, plain pickles: ``tests/builders/benign*.py``) and the
pandas and transformers files of ``tools/gadgets/benign_extra.py`` (``requirements/gadgets.txt``).
Do not edit by hand: re-measure. ``allowlist.ALLOWED`` includes these names.
"""

from __future__ import annotations

# 126 files: tests/builders/benign.py, tests/builders/benign_matrix.py, tools/gadgets/benign_extra.py
MEASURED_CALLS = frozenset(
    {
        "builtins.bytearray",
        "builtins.complex",
        "builtins.frozenset",
        "builtins.getattr",
        "builtins.set",
        "builtins.slice",
        "codecs.encode",
        "collections.defaultdict",
        "collections.deque",
        "copyreg._reconstructor",
        "datetime.date",
        "datetime.datetime",
        "datetime.timedelta",
        "datetime.timezone",
        "functools.partial",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy.dtype",
        "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random._pickle.__randomstate_ctor",
        "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
        "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked",
        "pandas._libs.internals._unpickle_block",
        "pandas._libs.interval.__pyx_unpickle_IntervalMixin",
        "pandas.core.indexes.base._new_Index",
        "pyarrow.lib._restore_array",
        "pyarrow.lib.py_buffer",
        "pyarrow.lib.type_for_alias",
        "re._compile",
        "sklearn.metrics._dist_metrics.newObj",
        "sklearn.neighbors._kd_tree.newObj",
        "torch._tensor._rebuild_from_type_v2",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_tensor_v2",
        "torch.device",
    }
)
