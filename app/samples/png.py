"""A tiny PNG writer (8-bit grey or RGB) with zlib, no imaging library needed."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(image: np.ndarray) -> bytes:
    """PNG of a uint8 image, shape (rows, cols) grey or (rows, cols, 3) RGB."""
    img = np.ascontiguousarray(image, dtype=np.uint8)
    if img.ndim == 2:
        colour = 0
    elif img.ndim == 3 and img.shape[2] == 3:
        colour = 2
    else:
        raise ValueError(f"expected a (rows, cols) or (rows, cols, 3) image, got shape {img.shape}")
    rows, cols = img.shape[:2]
    raw = img.reshape(rows, -1)
    data = b"".join(b"\x00" + raw[r].tobytes() for r in range(rows))
    header = struct.pack(">IIBBBBB", cols, rows, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(data, 6)) + _chunk(b"IEND", b"")


def write_png(path, image: np.ndarray) -> None:
    Path(path).write_bytes(png_bytes(image))
