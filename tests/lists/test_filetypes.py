"""One list of model-file suffixes (``malhug.core.filetypes``): what the hub reads, the editor watches,
and how names are compared (in any case)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from malhug.core import filetypes
from malhug.hub import select
from malhug.server import workspace


def glob_matches(glob: str, path: str) -> bool:
    """``**/*.{a,b}`` as VS Code and LSP clients read it: any folder, a name ending in one alternative."""
    assert glob.startswith("**/*.{") and glob.endswith("}"), glob
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, "*." + alt) for alt in glob[len("**/*.{") : -1].split(","))


def test_suffixes_are_lower_case_dotted_and_unique() -> None:
    for suffixes in (filetypes.MODEL_SUFFIXES, filetypes.HUB_WEIGHT_SUFFIXES):
        assert len(set(suffixes)) == len(suffixes)
        assert all(s.startswith(".") and s == s.lower() and " " not in s for s in suffixes)


def test_the_hub_reads_every_model_name_and_the_ambiguous_ones() -> None:
    assert set(filetypes.WATCHED_SUFFIXES) <= set(filetypes.HUB_WEIGHT_SUFFIXES)
    assert set(filetypes.HUB_WEIGHT_SUFFIXES) - set(filetypes.WATCHED_SUFFIXES) == set(
        filetypes.AMBIGUOUS + filetypes.ARCHIVES
    )
    assert select.RISKY_SUFFIXES == filetypes.HUB_WEIGHT_SUFFIXES
    assert workspace.MODEL_SUFFIXES == filetypes.WATCHED_SUFFIXES


@pytest.mark.parametrize("suffix", filetypes.WATCHED_SUFFIXES)
def test_the_watch_glob_matches_each_model_suffix_in_any_case(suffix: str) -> None:
    glob = filetypes.watch_glob()
    for name in (f"m{suffix}", f"M{suffix.upper()}", f"m{suffix.title()}"):
        assert glob_matches(glob, f"deep/er/{name}"), name
    assert not glob_matches(glob, f"m{suffix}.txt")


@pytest.mark.parametrize("name", ["notes.txt", "train.py", "data.parquet", "tokenizer.model", "spss.sav", "a.zip"])
def test_the_watch_glob_leaves_other_names(name: str) -> None:
    assert not glob_matches(filetypes.watch_glob(), name)


def test_names_are_compared_in_any_case(tmp_path: Path) -> None:
    assert filetypes.has_suffix("dir/MODEL.PKL", filetypes.PICKLE)
    assert not filetypes.has_suffix("model.pkl.txt", filetypes.PICKLE)
    upper = tmp_path / "WEIGHTS.HDF5"
    upper.write_bytes(b"not hdf5 bytes")  # found by its name, not its bytes
    assert workspace.looks_like_model(upper)
    planned = select.classify("sub/Model.PICKLE")
    assert planned is not None and planned.kind == "weights"


def test_ambiguous_names_are_weights_on_the_hub_but_not_by_name_in_a_workspace(tmp_path: Path) -> None:
    for name in ("tokenizer.model", "survey.sav", "dump.zip"):
        planned = select.classify(name)
        assert planned is not None and planned.kind == "weights", name
        path = tmp_path / name
        path.write_bytes(b"plain bytes")
        assert not workspace.looks_like_model(path), name
