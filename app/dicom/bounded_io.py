"""A file object for pydicom that never allocates more than the file holds.

pydicom reads an element's value with ``fp.read(length)``; CPython allocates ``length`` bytes
before reading, so one damaged length field (0xFFFFFFF0) costs a 4 GiB allocation for a 2 KB
file. Reads here are clamped to the bytes that remain, which gives the same result (a short
read, which pydicom reports as the end of the file) without the allocation."""

from __future__ import annotations

import io
import os
from pathlib import Path


class BoundedReader(io.BufferedReader):
    def __init__(self, path: str | Path) -> None:
        super().__init__(io.FileIO(os.fspath(path), "rb"))
        self._size = os.fstat(self.fileno()).st_size

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size > 0:
            size = max(0, min(size, self._size - self.tell()))
            if size == 0:
                return b""
        return super().read(size)


class BoundedFile(io.FileIO):
    """Unbuffered BoundedReader (for the fast header reader, which reads in a few large steps):
    reads are clamped to the bytes that remain, so no read allocates more than the file holds."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(os.fspath(path), "rb")
        st = os.fstat(self.fileno())
        self.size = st.st_size
        self.stat_key = file_identity(st)  # what tells a changed file from the one read

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size > 0:
            size = min(size, self.size - self.tell())
            if size <= 0:
                return b""
        return super().read(size)


def file_identity(st: os.stat_result) -> tuple[int, int, int, int]:
    """(size, mtime_ns, ctime_ns, inode): a file rewritten or replaced since differs in at least
    one of them (a rename-over changes the inode; an in-place write the times)."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def stat_key(path: str | Path) -> tuple[int, int, int, int] | None:
    """The file_identity of ``path`` now, None when it cannot be read."""
    try:
        return file_identity(os.stat(path))
    except (OSError, ValueError):
        return None


def _reopen(path: str | Path, mode: str = "rb") -> BoundedReader:
    return BoundedReader(path)


def dcmread_bounded(path: str | Path, **kwargs):
    """pydicom.dcmread(path, **kwargs) through a BoundedReader (the file is closed afterwards;
    deferred values are re-read by file name, through a BoundedReader too)."""
    from pydicom import dcmread

    with BoundedReader(path) as fp:
        ds = dcmread(fp, **kwargs)
    ds.fileobj_type = _reopen
    return ds


def open_bounded(path: str | Path) -> BoundedReader:
    """Open ``path`` for reading with allocations bounded by the file size (a context manager)."""
    return BoundedReader(path)
