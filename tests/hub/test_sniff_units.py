"""What the hub plan sniffs, and what a file's first bytes say (no network)."""

from __future__ import annotations

import pytest

from malhug.analyzers.api import sniff_head
from malhug.core import filetypes
from malhug.hub.sniff import SNIFF_BYTES, candidates
from tests.hub import payloads as P


@pytest.mark.parametrize(
    ("head", "size", "expected"),
    [
        (P.evil_pickle(), len(P.evil_pickle()), "pickle"),
        # Protocol 0 reads as text, but the unpickler runs it: a pickle.
        (b"cposix\nsystem\n(S'echo malhug'\ntR.", 33, "pickle"),
        # The head of a large pickle: what follows is unknown, so it is scanned.
        (P.evil_pickle()[:-2] + b"X" + b"\xff\xff\x00\x00" + b"a" * 100, 10 * 2**20, "pickle"),
        # A zip whose directory lies past the head: "zip" (the scan then reads it as a PyTorch zip).
        (P.torch_zip(P.evil_pickle())[:SNIFF_BYTES], 64 * 2**20, "zip"),
        (b"\x93NUMPY\x01\x00v\x00{'descr': '|O'", 4096, "numpy"),
        (b"\x89HDF\r\n\x1a\n" + b"\x00" * 64, 4096, "hdf5"),
        (b"training notes\nlearning rate 3e-4\n", 35, None),
        (b'{"a": [1, 2, 3]}', 16, None),  # JSON: data unless its name says otherwise
        (b"import os\nos.system('echo hi')\n", 31, None),  # Python under a data name: nothing imports it
        (b"PAR1" + b"\x15\x04" * 50, 10_000, None),
        (b"", 0, None),
    ],
)
def test_sniff_head(head: bytes, size: int, expected: str | None) -> None:
    assert sniff_head(head, size, "backup.data") == expected


def test_data_files_and_git_files_are_not_sniffed() -> None:
    paths = [
        "backup.data",
        "LICENSE",
        "data/train.PARQUET",
        "img/cat.jpg",
        "notes.txt",
        ".gitattributes",
        "sub/.gitignore",
        "model.safetensors",
        "weights.v2",
    ]
    assert candidates(paths, selected={"model.safetensors"}) == ["LICENSE", "backup.data", "weights.v2"]
    assert filetypes.is_data("A/B/Cover.PNG") and not filetypes.is_data("x.pkl") and not filetypes.is_data("x.yaml")
