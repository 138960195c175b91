"""PNG files of 8-bit images (montages) through Pillow, which highdicom already installs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np


def png_bytes(image: np.ndarray) -> bytes:
    """PNG of a uint8 image, shape (rows, cols) grey or (rows, cols, 3) RGB."""
    from PIL import Image

    img = np.ascontiguousarray(image, dtype=np.uint8)
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
        raise ValueError(f"expected a (rows, cols) or (rows, cols, 3) image, got shape {img.shape}")
    out = io.BytesIO()
    Image.fromarray(img).save(out, format="PNG")  # uint8 arrays: mode "L" (grey) or "RGB"
    return out.getvalue()


def write_png(path: str | Path, image: np.ndarray) -> None:
    Path(path).write_bytes(png_bytes(image))
