"""A window onto part of another byte source (a stored zip member, a tar member, npy object data)."""

from __future__ import annotations

from malhug.analyzers.limits import LimitExceeded
from malhug.analyzers.shared.source import ByteSource, BytesSource, SourceBase
from malhug.analyzers.shared.sourceio import SourceIO

# tarfile and py7zr read headers and blocks through ``read``; none of their honest reads is this big.
MAX_SINGLE_READ = 64 * 1024 * 1024


class SliceSource(SourceBase):
    """``length`` bytes of ``parent`` from ``offset``; reads go through the parent (and count there)."""

    def __init__(self, parent: ByteSource, offset: int, length: int):
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        super().__init__(max(0, min(length, parent.size - offset)))
        self._parent = parent
        self._offset = offset

    def _read_range(self, offset: int, length: int) -> bytes:
        data = self._parent.read_at(self._offset + offset, length)
        self._read += len(data)
        return data


class HeadSource(BytesSource):
    """The first bytes of a larger stream, for sniffing: ``size`` is the real size, reads past the
    head return nothing (as a truncated file would)."""

    def __init__(self, head: bytes, size: int):
        super().__init__(head)
        self._size = max(size, len(head))


class BoundedSourceIO(SourceIO):
    """A file object for tarfile/py7zr whose single reads are capped: a hostile header that
    announces gigabytes (a pax record, a 7z header) raises ``LimitExceeded`` instead of allocating."""

    def __init__(self, src: ByteSource, max_read: int = MAX_SINGLE_READ):
        super().__init__(src)
        self._total = src.size
        self._max_read = max_read

    def read(self, size: int | None = -1) -> bytes:
        left = max(0, self._total - self.tell())
        n = left if size is None or size < 0 else min(size, left)
        if n > self._max_read:
            raise LimitExceeded("single read from an archive header", self._max_read, n)
        return super().read(n) or b""

    def readall(self) -> bytes:
        return self.read(-1)
