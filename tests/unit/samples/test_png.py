"""The montage PNG writer (Pillow): what is written reads back identical, bad shapes are refused."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.samples.png import png_bytes, write_png


@pytest.mark.parametrize("shape", [(12, 7), (12, 7, 3)])
def test_png_reads_back_identical(tmp_path, shape):
    image = (np.arange(np.prod(shape)) * 37 % 256).astype(np.uint8).reshape(shape)
    write_png(tmp_path / "m.png", image)
    back = np.asarray(Image.open(tmp_path / "m.png"))
    assert back.shape == image.shape and (back == image).all()
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(image)))), image)


def test_png_refuses_other_shapes():
    with pytest.raises(ValueError, match="shape"):
        png_bytes(np.zeros((2, 2, 4), np.uint8))
