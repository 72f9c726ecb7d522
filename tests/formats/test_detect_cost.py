"""Detection stays cheap: every file of a hub scan goes through it.

The pickle walk stops within a few bytes on ordinary binary formats, a long first argument is
skipped by its length (never read), and detection of a huge file reads only its head (and a zip's
end records), as an HTTP ``Range`` source would serve it. Work is counted (opcodes, bytes, reads),
never timed.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from malhug.analyzers import formats
from malhug.analyzers.detect import WINDOW, detect_analyses
from malhug.analyzers.limits import DEFAULT_LIMITS
from malhug.analyzers.pickle.reach import walk
from malhug.analyzers.shared.source import BytesSource, clamp_read
from tests.builders import benign
from tests.containers.test_detect import CountingSource

BUILDERS: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "torch zip": (benign.torch_transformer, formats.PYTORCH_ZIP),
    "npy": (benign.numpy_npy, formats.NUMPY),
    "npz": (benign.numpy_npz, formats.NPZ),
    "keras h5": (benign.keras_h5_dense, formats.HDF5),
    "keras v3": (benign.keras_v3_dense, formats.KERAS_V3),
    "keras metadata": (benign.keras_metadata_dense, formats.KERAS_METADATA),
    "safetensors": (benign.safetensors_file, formats.SAFETENSORS),
    "gguf": (benign.gguf_llama3, formats.GGUF),
    "onnx": (benign.onnx_model, formats.ONNX),
    "joblib zlib": (benign.sklearn_joblib_compressed, formats.ZLIB),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_walk_stops_within_a_few_bytes_on_binary_formats(name: str, tmp_path: Path) -> None:
    build, fmt = BUILDERS[name]
    data = build(tmp_path)
    reach = walk(BytesSource(data), DEFAULT_LIMITS, data[:WINDOW])
    assert reach.reached is None
    assert reach.stop <= 16 and reach.ops <= 2, reach
    assert detect_analyses(BytesSource(data), "model.bin") == [fmt]


class SparseSource:
    """A ``size``-byte source: ``head`` then zeros; counts what is read (an HTTP Range source's cost)."""

    def __init__(self, head: bytes, size: int, tail: bytes = b""):
        self.head, self.tail, self._size = head, tail, size
        self.bytes_read = 0
        self.reads: list[tuple[int, int]] = []

    @property
    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, length: int) -> bytes:
        length = clamp_read(offset, length, self._size)
        self.reads.append((offset, length))
        self.bytes_read += length
        out = bytearray(length)
        if offset < len(self.head):
            part = self.head[offset : offset + length]
            out[: len(part)] = part
        tail_at = self._size - len(self.tail)
        if offset + length > tail_at and self.tail:
            start = max(offset, tail_at)
            out[start - offset :] = self.tail[start - tail_at : start - tail_at + offset + length - start]
        return bytes(out)


GIB = 1 << 30


def test_long_first_argument_is_skipped_by_its_length() -> None:
    # BINBYTES8 of ~1 GiB, then the payload: the walk reads the length and jumps.
    payload = b"cos\nsystem\n(S'echo malhug'\ntR."
    head = b"\x8e" + struct.pack("<Q", GIB) + b"\0" * 64
    src = SparseSource(head, 1 + 8 + GIB + 1 + len(payload), tail=b"0" + payload)
    reach = walk(src, DEFAULT_LIMITS)
    assert reach.reached == 1 + 8 + GIB + 1
    assert reach.what == "GLOBAL os.system"
    assert src.bytes_read <= 2 * 64 * 1024


def test_detection_of_a_huge_safetensors_reads_only_its_head() -> None:
    header = b'{"w":{"dtype":"F32","shape":[268435456],"data_offsets":[0,1073741824]}}'
    head = struct.pack("<Q", len(header)) + header
    src = SparseSource(head, len(head) + GIB)
    assert detect_analyses(src, "model.safetensors") == [formats.SAFETENSORS]
    assert src.bytes_read <= 2 * WINDOW


def test_line_argument_is_read_in_chunks() -> None:
    # A protocol-0 string line of 4 MiB before the payload: read in 64 KiB chunks, never whole.
    line = b"S'" + b"A" * (4 << 20) + b"'\n0"
    payload = b"cos\nsystem\n(S'echo malhug'\ntR."
    data = line + payload
    src = CountingSource(data)
    reach = walk(src, DEFAULT_LIMITS)
    assert reach.reached == len(line)
    assert max(length for _, length in src.reads) <= 64 * 1024


def test_head_only_source_ends_the_walk_as_reached() -> None:
    # A container member sniffed from its first 4 KiB: a string line longer than that cannot be
    # followed, so the member gets the pickle analysis (it reads the whole member).
    from malhug.analyzers.shared.slices import HeadSource

    head = (b"S'" + b"A" * 10_000)[:4096]
    reach = walk(HeadSource(head, 20_000), DEFAULT_LIMITS)
    assert reach.limited and reach.reached is not None
    far = b"\x8e" + struct.pack("<Q", 10_000) + b"\0" * 100
    reach = walk(HeadSource(far, 20_000), DEFAULT_LIMITS)
    assert reach.limited and reach.reached == 1 + 8 + 10_000


def test_whole_text_classification_parses_a_bounded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    # 500,000 statements after a long docstring: the parse covers the docstring and 64 KiB past
    # the first statement, not the module (a whole-module parse costs seconds and gigabytes).
    import ast

    from malhug.analyzers.containers import sniff_text

    parsed: list[int] = []
    real_parse = ast.parse

    def counting_parse(source: str, *args: object, **kwargs: object) -> ast.AST:
        parsed.append(len(source))
        return real_parse(source)

    monkeypatch.setattr(sniff_text.ast, "parse", counting_parse)
    docstring = b'"""' + b"doc " * 50_000 + b'"""\n'
    module = docstring + b"import os\n" + b"x = 1\n" * 500_000
    assert detect_analyses(BytesSource(module), "notes.txt") == [formats.PYTHON]
    assert parsed and max(parsed) <= len(docstring) + 10 + sniff_text.PARSE_PAST_STATEMENT + 16
    parsed.clear()
    assert detect_analyses(BytesSource(module), "loader.py") == [formats.PYTHON]
    assert max(parsed, default=0) <= WINDOW  # the name decides: only the head is classified


def test_bounded_line_reads_no_further_than_its_bound() -> None:
    # A tar whose first member is "pytorch_model/...": 'p' (PUT) takes a decimal line; with no newline
    # in the head the walk stops at the line's bound instead of fetching another 64 KiB block.
    head = b"pytorch_model/data.pkl" + b"\0" * (WINDOW - 22)
    src = SparseSource(head, 100 * 1024 * 1024)
    reach = walk(src, DEFAULT_LIMITS, src.read_at(0, WINDOW))
    assert reach.reached is None and reach.stop == 0
    assert src.bytes_read <= WINDOW + 16
