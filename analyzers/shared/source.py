"""Random-access byte sources: analyzers read through these, never through open files directly.

A local file, an in-memory buffer and (in the hub layer) an HTTP object read by ``Range`` requests
all look the same to an analyzer, so a multi-gigabyte checkpoint is scanned by reading only its
zip directory and pickle members wherever it lives.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

from malhug.analyzers.limits import LimitExceeded


def clamp_read(offset: int, length: int, size: int) -> int:
    """How many bytes a read of ``length`` at ``offset`` may return from a source of ``size`` bytes.

    Every ByteSource checks its reads this way: negative arguments are a caller bug (ValueError),
    reads past the end return fewer bytes (none at or after the end).
    """
    if offset < 0 or length < 0:
        raise ValueError("negative offset or length")
    return max(0, min(length, size - offset))


@runtime_checkable
class ByteSource(Protocol):
    """What analyzers need of a file: its size and reads at an offset."""

    @property
    def size(self) -> int: ...

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset`` (fewer only at the end of the source)."""
        ...

    @property
    def bytes_read(self) -> int:
        """How many bytes were actually transferred so far (for scan statistics)."""
        ...


class SourceBase:
    """What every byte source of a fixed size repeats: ``size``, ``bytes_read`` and the read clamp.

    ``read_at`` checks a read with ``clamp_read`` and hands a non-empty one to ``_read_range``, which
    returns those bytes and adds what it transferred to ``self._read`` (the bytes returned for a local
    source; what crossed the network, read-ahead included, for a remote one).
    """

    def __init__(self, size: int):
        self._size = size
        self._read = 0

    @property
    def size(self) -> int:
        return self._size

    @property
    def bytes_read(self) -> int:
        return self._read

    def read_at(self, offset: int, length: int) -> bytes:
        length = clamp_read(offset, length, self._size)
        return self._read_range(offset, length) if length else b""

    def _read_range(self, offset: int, length: int) -> bytes:
        """``length`` (> 0) bytes from ``offset``, within the size (fewer only if the data ends sooner)."""
        raise NotImplementedError


def covered(segments: Iterable[tuple[int, bytes]], offset: int, length: int) -> bytes | None:
    """The ``length`` bytes at ``offset`` out of the first of ``segments`` (offset, bytes) that holds
    all of them, or None when none does."""
    for start, data in segments:
        if start <= offset and offset + length <= start + len(data):
            return data[offset - start : offset - start + length]
    return None


class BytesSource(SourceBase):
    """A source over bytes already in memory (nested members, tests)."""

    def __init__(self, data: bytes | bytearray | memoryview):
        self._data = bytes(data)
        super().__init__(len(self._data))

    def _read_range(self, offset: int, length: int) -> bytes:
        chunk = self._data[offset : offset + length]
        self._read += len(chunk)
        return chunk

    def read_all(self) -> bytes:
        return self.read_at(0, self.size)


class FileSource(SourceBase):
    """A source over a local file, read with ``pread``; the file is never loaded whole."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDONLY)
        super().__init__(os.fstat(self._fd).st_size)

    def _read_range(self, offset: int, length: int) -> bytes:
        parts = []
        while length > 0:
            chunk = os.pread(self._fd, length, offset)
            if not chunk:
                break
            parts.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        data = b"".join(parts)
        self._read += len(data)
        return data

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_all(source: ByteSource, limit: int) -> bytes:
    """The whole source, or raise ``LimitExceeded`` when it is larger than ``limit`` bytes."""
    if source.size > limit:
        raise LimitExceeded("file size", limit, source.size)
    return source.read_at(0, source.size)
