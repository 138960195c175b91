"""No hatch or moire from the radiograph renderer inside large bones (issue 18: "no banding or
ringing from the renderer").

Two causes were found and measured on case 4's AP (docs/samples.md):

- the trabecular texture's variance followed the fractional position between its lattice planes
  (z spacing 3 mm); every ray of a row shares its z, so the mean of the ridged noise along the
  rows rose and fell with a 3 mm period: a horizontal hatch (row-mean ripple of the sacrum's line
  integrals 5.0e-3 at a 17.6-pixel period, 1.4e-3 at most at any period once fixed);
- the chord lengths through a thin plate crossing the rays at a grazing angle (the iliac wing on
  the AP) jumped in whole ray steps, which drew a regular moire (a peak 39 times the median of
  the 2-D spectrum's band, 11 with a random shift of every ray's samples).
"""

import numpy as np
import pytest

from app.samples import render_dx as rd
from app.samples.cases import case_by_number
from app.samples.texture import trabecular_factor

_CACHE: dict = {}


def _ap_line_integrals():
    if "ap" not in _CACHE:
        case = case_by_number(4)
        _CACHE["ap"] = (rd.render_line_integrals(case, "AP"), rd.dx_projection(case, "AP"))
    return _CACHE["ap"]


def _patch(li: np.ndarray, proj, x_mm: float, dz_mm: float, half_rows: int, half_cols: int) -> np.ndarray:
    """The pixels around the point ``x_mm`` left of and ``dz_mm`` above the projection centre."""
    c = proj.centre_lps
    r, col = proj.project((c[0] + x_mm, c[1], c[2] + dz_mm))
    r, col = int(round(r)), int(round(col))
    return li[r - half_rows:r + half_rows, col - half_cols:col + half_cols].astype(np.float64)


def test_the_trabecular_texture_has_the_same_mean_on_every_horizontal_plane():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-80.0, 80.0, size=(2, 200_000))
    means = [float(trabecular_factor(x, y, np.full_like(x, z)).mean(dtype=np.float64))
             for z in np.linspace(0.0, 3.0, 7)]  # one lattice period in z
    # 0.050 before the texture's variance was made uniform, 0.003 after
    assert max(means) - min(means) < 0.01


def test_no_periodic_row_to_row_hatch_inside_the_sacrum_on_the_ap():
    li, proj = _ap_line_integrals()
    a = _patch(li, proj, 0.0, -75.0, 150, 100)  # S2-S3, between the foramina
    prof = a.mean(axis=1)
    k = np.exp(-0.5 * (np.arange(-24, 25) / 6.0) ** 2)
    k /= k.sum()
    res = prof - np.convolve(np.pad(prof, 24, mode="edge"), k, mode="valid")
    f = np.abs(np.fft.rfft(res * np.hanning(res.size))) / res.size
    period_px = res.size / np.maximum(np.arange(f.size), 1)
    band = (period_px >= 6) & (period_px <= 40)
    # 5.0e-3 at a 17.6-pixel period (3 mm, the texture lattice) before; 1.4e-3 after
    assert f[band].max() < 2.5e-3


@pytest.mark.parametrize("x_mm", [-106.0, 106.0])
def test_no_moire_in_the_iliac_wings_on_the_ap(x_mm):
    li, proj = _ap_line_integrals()
    a = _patch(li, proj, x_mm, -60.0, 64, 64)
    a = a - a.mean()
    w = np.hanning(128)[:, None] * np.hanning(128)[None, :]
    spec = np.abs(np.fft.fft2(a * w))
    fr = np.hypot(np.fft.fftfreq(128)[:, None], np.fft.fftfreq(128)[None, :])
    band = (fr > 1 / 24) & (fr < 1 / 3)  # periods of 3 to 24 pixels
    # a regular moire is a peak in the band: 33-39 times its median before, 10-11 after
    assert spec[band].max() / np.median(spec[band]) < 20.0
