"""Pickle streams (protocols 0-5, dill, cloudpickle, joblib, legacy torch): analyzed, never loaded.

- ``machine``: the symbolic pickle machine (every opcode over raw bytes; joblib raw arrays skipped
  by size; the trace of imports, calls and mutations up to any fault).
- ``values``: the symbolic values and their Python-like rendering (the evidence).
- ``fold``: constant folding of arguments (base64/hex/zlib decoding, joins), bounded.
- ``resolve``: what a call really invokes (getattr/import chains, partial, attrgetter, namespaces).
- ``policy``: names that are allowed, dangerous (and how), or unknown.
- ``judge``: findings from the trace (rules MH101-MH111 in ``core/rules/pickle.toml``).
- ``analyzer``: the entry point ``analyze(ctx, src)`` for the ``pickle`` and ``joblib`` formats.
"""
