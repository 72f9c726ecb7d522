"""The shared catalogue of dangerous callables: every family means the same thing to every analyzer."""

from __future__ import annotations

import pytest

from malhug.analyzers.keras import callables as keras_names
from malhug.analyzers.knowledge import families as F
from malhug.analyzers.knowledge.callables import Kind, kind_of
from malhug.analyzers.pickle import policy
from malhug.analyzers.scripts import knowledge as script
from malhug.core.model import Category

FAMILY_KINDS = [
    (F.PROCESS_SPAWNERS, Kind.SHELL, Category.COMMAND_EXEC),
    (F.BROWSER_OPENERS, Kind.BROWSER, Category.COMMAND_EXEC),
    (F.PYTHON_SOURCE_RUNNERS | F.PYTHON_CODE_RUNNERS | F.DEBUGGERS, Kind.PYTHON, Category.CODE_EXEC),
    (F.PYTHON_FILE_RUNNERS, Kind.PYFILE, Category.CODE_EXEC),
    (F.CODE_BUILDERS, Kind.CODE_OBJECT, Category.CODE_EXEC),
    (F.DESERIALIZERS | F.MODEL_LOADERS, Kind.NESTED, Category.CODE_EXEC),
    (F.CODE_DOWNLOADERS, Kind.DOWNLOAD, Category.DOWNLOAD_EXEC),
    (F.FILE_OPENERS, Kind.OPEN, Category.FILE_WRITE),
    (F.FILE_COPIERS, Kind.FILE_WRITE, Category.FILE_WRITE),
    (F.FILE_MOVERS | F.FILE_DELETERS | F.TREE_DELETERS, Kind.DESTRUCTIVE, Category.DESTRUCTIVE),
    (F.IDENTITY_GETTERS | F.DIRECTORY_LISTERS, Kind.RECON, Category.RECON),
    (F.HTTP_CONNECTIONS | F.REMOTE_SESSIONS, Kind.NETWORK, Category.EXFILTRATION),
]


@pytest.mark.parametrize(("names", "kind", "category"), FAMILY_KINDS)
def test_every_family_member_is_dangerous_to_the_pickle_judge(
    names: frozenset[str], kind: Kind, category: Category
) -> None:
    for name in sorted(names):
        danger = policy.danger_of(name)
        assert danger is not None and danger.kind is kind, name
        assert danger.category is category


def test_the_script_engine_uses_the_same_families() -> None:
    assert script.COMMANDS == F.PROCESS_SPAWNERS
    assert script.TAKES_SOURCE == F.PYTHON_SOURCE_RUNNERS
    assert F.PYTHON_SOURCE_RUNNERS | F.PYTHON_FILE_RUNNERS | F.CODE_BUILDERS | F.DEBUGGERS <= script.CODE_EXEC
    assert script.DESERIALIZERS == F.DESERIALIZERS and script.MODEL_LOADERS == F.MODEL_LOADERS
    assert script.COPIERS == F.FILE_COPIERS | F.FILE_MOVERS
    assert F.IDENTITY_GETTERS <= script.SYSINFO_STRONG
    assert set(F.DECODERS) <= set(script.DECODERS)
    # Names canonicalised the same way before the tables are consulted.
    for alias, real in F.MODULE_ALIASES.items():
        assert script.ALIASES[alias] == real
        assert policy.canonical(alias, "system")[0] == f"{real}.system"


def test_keras_vocabulary_is_built_from_the_families() -> None:
    assert {"remove", "unlink", "rmtree"} <= keras_names.DESTRUCTIVE_NAMES
    assert F.SYSTEM_MODULES <= keras_names.DANGEROUS_MODULES
    assert keras_names.is_dangerous_module("subprocess") and keras_names.is_dangerous_module("requests.api")
    assert not keras_names.is_dangerous_module("keras.layers")


def test_prefixes_and_generic_leaves() -> None:
    assert kind_of("subprocess.anything") is Kind.SHELL
    assert kind_of("os.execvpe") is Kind.SHELL
    assert kind_of("collections.OrderedDict") is None
    # Ordinary words among the leaves of dangerous names are not dangerous attribute names alone.
    assert "check_output" in policy.DANGEROUS_LEAVES and "system" in policy.DANGEROUS_LEAVES
    assert not {"call", "local", "repeat"} & policy.DANGEROUS_LEAVES
