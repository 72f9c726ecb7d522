"""Canonical names of what a pickle (or a Keras config) imports: aliases (``posix`` -> ``os``) and
module attribute chains (``torch.os.system`` -> ``os.system``)."""

from __future__ import annotations

from malhug.analyzers.knowledge.families import MODULE_ALIASES, SYSTEM_MODULES

# Names of modules that other modules hold as attributes: reaching one of them through a dotted chain
# (``posixpath.os``, ``torch.os``) switches the name to that module.
MODULE_TOKENS = SYSTEM_MODULES | frozenset(
    {
        "socket",
        "pickle",
        "_pickle",
        "ctypes",
        "urllib",
        "requests",
        "pdb",
        "timeit",
        "cProfile",
        "getpass",
        "pydoc",
        "pkgutil",
        "multiprocessing",
        "dill",
        "torch",
        "numpy",
        "np",
        "joblib",
        "yaml",
        "pandas",
        "pd",
    }
)

ALIASES = {
    **MODULE_ALIASES,
    "np": "numpy",
    "pd": "pandas",
    "__builtins__": "builtins",
    "exceptions": "builtins",
    "copy_reg": "copyreg",
    "_io": "io",
    "_operator": "operator",
    "_functools": "functools",
    "_codecs": "codecs",
    "cloudpickle.cloudpickle_fast": "cloudpickle.cloudpickle",
    "numpy._core": "numpy.core",
    "setuptools._distutils": "distutils",
}


_ALIAS_PREFIXES = tuple(ALIASES)  # every aliased name starts with its alias


# Builtin data types: ``builtins.str.join`` is a method of a type, not an attribute chain through a
# module or object (their dunder attributes still are: ``str.__subclasses__``).
_DATA_TYPES = frozenset(
    {"str", "bytes", "bytearray", "int", "float", "complex", "bool", "dict", "list", "tuple", "set", "frozenset"}
)


def canonical(module: str, name: str) -> tuple[str, bool]:
    """The canonical dotted name for ``module`` + qualname ``name`` and whether a chain was followed.

    ``("posixpath", "os.system")`` -> ``("os.system", True)``; ``("posix", "system")`` ->
    ``("os.system", False)``. Only the qualname is an attribute chain: the module part is an import
    path (``tests.pickle.models`` is a package of its own, not the ``pickle`` module).
    """
    mod_parts = [p for p in module.split(".") if p]
    name_parts = [p for p in name.split(".") if p]
    chained = False
    # A module reached as an attribute of another module: restart the name there (``timeit.timeit``
    # is the function named like its module, not the module again).
    for i in range(len(name_parts) - 1, -1, -1):
        before = name_parts[i - 1] if i else (mod_parts[-1] if mod_parts else "")
        if name_parts[i] in MODULE_TOKENS and name_parts[i] != before and (i or mod_parts):
            mod_parts, name_parts = [], name_parts[i:]
            chained = True
            break
    builtin_method = (
        mod_parts == ["builtins"]
        and len(name_parts) == 2
        and name_parts[0] in _DATA_TYPES
        and not name_parts[1].startswith("_")
    )
    if not chained and not builtin_method and any(not looks_like_class(part) for part in name_parts[:-1]):
        # ``sklearn.base`` + ``np.load``: the qualname passes through a lowercase attribute (a module
        # or an object), not through nested classes; allowlists of the module do not cover it.
        chained = True
    if not chained and len(mod_parts) > 1 and mod_parts[-1] in SYSTEM_MODULES:
        # ``torch.os`` + ``system``: a loader that resolves the module path by attribute lookup
        # lands on the os module; no package names its own module like these.
        mod_parts, chained = mod_parts[-1:], True
    dotted = ".".join(mod_parts + name_parts)
    if dotted.startswith(_ALIAS_PREFIXES):  # one test for the usual case: no alias
        for alias, real in ALIASES.items():
            if dotted == alias or dotted.startswith(alias + "."):
                dotted = real + dotted[len(alias) :]
                break
    return dotted, chained


def looks_like_class(name: str) -> bool:
    """A CapWords leaf (``MyModel``, ``_Private``) is a class that pickle rebuilds, not a function."""
    leaf = name.rpartition(".")[2].lstrip("_")
    return bool(leaf) and leaf[0].isupper() and not leaf.isupper()
