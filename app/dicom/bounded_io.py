"""A read-only file whose ``read(n)`` never asks for more than what is left in the file.

pydicom reads a value with ``fp.read(declared_length)``, and Python allocates the full requested
size before reading: a damaged length field (0xFFFFFFF0 on a 2 kB file) meant a multi-GiB
allocation. Reading through this wrapper bounds every allocation by the file size."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Optional, Union


class BoundedFile(io.BufferedReader):
    def __init__(self, path: Union[str, Path]) -> None:
        super().__init__(io.FileIO(os.fspath(path), "rb"))
        self._size = os.fstat(self.fileno()).st_size

    def read(self, size: Optional[int] = -1) -> bytes:
        if size is not None and size > 0:
            size = max(0, min(size, self._size - self.tell()))
        return super().read(size)


def open_bounded(path: Union[str, Path]) -> BoundedFile:
    """Open ``path`` for reading with allocations bounded by the file size (use as a context manager)."""
    return BoundedFile(path)
