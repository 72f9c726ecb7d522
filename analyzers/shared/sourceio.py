"""A read-only, seekable file object over a ``ByteSource`` (for libraries that want a file, like h5py).

Reads go straight to ``read_at``, so an HDF5 file is parsed by reading only its metadata blocks,
wherever the source lives.
"""

from __future__ import annotations

import io

from malhug.analyzers.shared.source import ByteSource


class SourceIO(io.RawIOBase):
    def __init__(self, src: ByteSource):
        super().__init__()
        self._src = src
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._src.size + offset
        else:
            raise ValueError(f"bad whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self._src.read_at(self._pos, len(view)) if self._pos < self._src.size else b""
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)
