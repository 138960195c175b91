"""Window/level at display resolution: a radiograph fitted smaller than 1:1 is box-averaged
before its LUT, so a fine line stays visible and the reduced image is the mean of its blocks."""

import numpy as np
import pytest

from app.dicom.model import Calibration, CalibrationBasis, Modality, Radiograph, RadiographView
from app.viewer.display import RadiographDisplay
from app.viewer.render import ReducedImageCache, area_decimate, display_step, render_slice
from app.viewer.window_level import WindowLevel


def _block_mean(a, step):
    """Reference: float mean of each block (partial blocks at the edges average what is there)."""
    h, w = a.shape
    out = np.empty((-(-h // step), -(-w // step)))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = a[r * step:(r + 1) * step, c * step:(c + 1) * step].astype(np.float64).mean()
    return out


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.uint8, np.float32])
@pytest.mark.parametrize("shape,step", [((40, 30), 2), ((41, 29), 3), ((37, 53), 5), ((9, 9), 4)])
def test_area_decimate_is_the_block_mean(dtype, shape, step):
    rng = np.random.default_rng(step)
    lo, hi = (-3000, 3000) if dtype == np.int16 else (0, 255 if dtype == np.uint8 else 4095)
    a = rng.integers(lo, hi, size=shape).astype(dtype)
    got = area_decimate(a, step)
    ref = _block_mean(a, step)
    assert got.dtype == a.dtype
    assert got.shape == ref.shape == (-(-shape[0] // step), -(-shape[1] // step))
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(got, np.floor(ref + 0.5))  # rounded half up
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-3)


def test_step_one_is_the_image_itself():
    a = np.arange(12, dtype=np.uint16).reshape(3, 4)
    assert area_decimate(a, 1) is a


def test_area_decimate_rejects_a_volume_by_name():
    with pytest.raises(ValueError, match="2D"):
        area_decimate(np.zeros((2, 3, 4), np.uint16), 2)


@pytest.mark.parametrize("px_per_pixel,step", [(4.0, 1), (1.0, 1), (0.99, 1), (0.5, 2), (0.34, 2), (0.188, 5),
                                               (0.0, 1), (float("nan"), 1)])
def test_display_step_keeps_one_rendered_pixel_per_screen_pixel(px_per_pixel, step):
    assert display_step(px_per_pixel) == step


@pytest.mark.parametrize("phase", range(5))
def test_a_one_pixel_line_survives_at_any_phase(phase):
    """A fine bright line (a cortical edge, a pars lucency's rim) is never dropped: every-5th-pixel
    sampling would show it at one phase of five; the box mean shows it at all, at 1/5 contrast."""
    a = np.full((50, 50), 1000, np.uint16)
    a[:, 20 + phase] = 3000
    reduced = area_decimate(a, 5)
    strided = a[::5, ::5]
    assert reduced.max() == 1000 + 2000 // 5
    assert (strided.max() == 3000) == (phase == 0)


def test_fine_pattern_beats_at_a_quarter_of_the_sampling_moire():
    a = np.zeros((60, 60), np.uint16)
    a[:, ::3] = 3000  # lines every 3 px seen at a step of 4: both beat, at very different strength
    reduced = area_decimate(a, 4)[:, :-1]  # full blocks: one or two lines each
    strided = a[::4, ::4]
    assert set(np.unique(reduced)) == {750, 1500}  # bands of 1/4 contrast around the true mean 1000
    assert set(np.unique(strided)) == {0, 3000}  # full-contrast false bands
    assert abs(float(reduced.mean()) - float(a[:, :56].mean())) < 1.0


def _radiograph(array):
    return Radiograph(array, "MONOCHROME2", Calibration(CalibrationBasis.IMAGER_CORRECTED, (0.14, 0.14), 1.1),
                      RadiographView.LEFT_OBLIQUE, Modality.DX, "s", "i", window_center_width=(2048, 4096),
                      patient_orientation=("L", "F"))


def test_fitted_radiograph_frame_is_the_block_mean_of_the_full_frame():
    rng = np.random.default_rng(7)
    a = rng.integers(500, 3500, size=(250, 203)).astype(np.uint16)  # inside the window: no clipping
    d = RadiographDisplay(_radiograph(a))
    full = d.frame()
    small = d.frame(max_step=4)
    assert (full.step, full.source_shape) == (1, (250, 203))
    assert (small.step, small.source_shape) == (4, (250, 203))
    assert small.pixels.shape == (63, 51) and small.pixels.dtype == np.uint8
    assert small.spacing_mm == full.spacing_mm == (0.14, 0.14)  # the item still maps full-res pixels
    # a linear window commutes with averaging: within one grey level of the averaged full frame
    assert np.abs(small.pixels.astype(float) - _block_mean(full.pixels, 4)).max() <= 1.0


def test_fitted_radiograph_keeps_inversion_and_lut():
    a = np.tile(np.arange(400, dtype=np.uint16) * 10, (300, 1))
    r = _radiograph(a)
    r.photometric = "MONOCHROME1"
    small = RadiographDisplay(r).frame(max_step=3)
    ref = render_slice(area_decimate(a, 3), WindowLevel(2048, 4096), invert=True)
    np.testing.assert_array_equal(small.pixels, ref)
    assert small.pixels[0, 0] > small.pixels[0, -1]


def test_window_change_on_a_fitted_radiograph_reuses_the_reduced_image():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4096, size=(120, 90)).astype(np.uint16)
    cache = ReducedImageCache()
    first = cache.get(a, 4)
    assert cache.get(a, 4) is first  # a window/level drag: no second pass over the full image
    assert cache.get(a, 3).shape == (40, 30)  # zoom changed the step: reduced again
    assert cache.get(a, 1) is a
    d = RadiographDisplay(_radiograph(a))
    d.frame(max_step=4)
    d.options.wl = WindowLevel(1000, 500)
    fresh = RadiographDisplay(_radiograph(a))
    fresh.options.wl = WindowLevel(1000, 500)
    np.testing.assert_array_equal(d.frame(max_step=4).pixels, fresh.frame(max_step=4).pixels)
