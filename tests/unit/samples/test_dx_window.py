"""The radiographs open with the anatomy's contrast: the DX writer's VOI window comes from the
image's own histogram of the anatomy (not the full 12-bit range)."""

import numpy as np
import pydicom

from app.samples.cases import case_by_number
from app.samples.dicomwrite import dx_voi_window, write_dx


def _film(rng: np.random.Generator) -> np.ndarray:
    """Air (40) on both sides of a body whose pixels span 900-2900."""
    img = np.full((200, 160), 40, dtype=np.uint16)
    img[:, 30:130] = rng.uniform(900, 2900, size=(200, 100)).astype(np.uint16)
    return img


def test_the_window_spans_the_anatomy_and_leaves_out_the_air_beside_the_body():
    centre, width = dx_voi_window(_film(np.random.default_rng(1)))
    lo, hi = centre - width / 2, centre + width / 2
    assert 880 <= lo <= 960 and 2840 <= hi <= 2920  # 1st-99.7th percentile of 900..2900
    assert width < 2500  # not the 4096 full range


def test_an_image_without_anatomy_gets_the_full_range():
    assert dx_voi_window(np.full((50, 50), 40, dtype=np.uint16)) == (2048.0, 4096.0)


def test_the_written_radiograph_carries_the_anatomy_window_first_and_the_full_range_second(tmp_path):
    img = _film(np.random.default_rng(2))
    path = write_dx(case_by_number(1), "AP", img, tmp_path, 0.2, 1.15)
    ds = pydicom.dcmread(path)
    assert list(ds.WindowCenterWidthExplanation) == ["ANATOMY", "FULL RANGE"]
    centre, width = float(ds.WindowCenter[0]), float(ds.WindowWidth[0])
    assert (centre, width) == dx_voi_window(img)
    assert float(ds.WindowWidth[1]) == 4096.0
