"""The sagittal shapes of the bones: sloping laminae, spinous blades, ligamenta flava, the wedged L5
(case 1, an adolescent without lesions; small mid-line and para-sagittal grids, no rendering)."""

import numpy as np
import pytest

from app.findings.model import Level
from app.samples import labels as T
from app.samples.cases import case_by_number
from app.samples.phantom import Grid, label_volume, model_for, part_volume

LAMINA, SPINOUS, BODY, ENDPLATE = 6, 10, 1, 2
STEP_MM = 0.4


def _sagittal(case, lv: Level, x_mm: float, parts: bool = True):
    """A sagittal slice at ``x_mm`` round ``lv`` and the slice's points in ``lv``'s arch frame (y', z')."""
    arch = model_for(case).geometry.arch_poses[lv]
    o = arch.origin
    zs = tuple(float(z) for z in np.arange(o[2] + 30.0, o[2] - 50.0, -STEP_MM))
    grid = Grid((x_mm, o[1] - 30.0), (1.0, 0.0), (0.0, STEP_MM), 1, int(110 / STEP_MM), zs)
    vol = (part_volume if parts else label_volume)(case, grid)[:, 0, :]
    y = grid.origin_xy[1] + np.arange(grid.n1) * STEP_MM
    Y, Z = np.meshgrid(y, np.asarray(zs), indexing="xy")
    d = np.stack([np.zeros_like(Y), Y - o[1], Z - o[2]], axis=-1)
    local = d @ arch.axes  # (x, y', z')
    return vol, local[..., 1], local[..., 2]


@pytest.fixture(scope="module")
def case1():
    return case_by_number(1)


@pytest.mark.parametrize("lv", [Level.L2, Level.L4])
def test_the_laminae_slope_down_and_back_near_the_mid_line(case1, lv):
    parts, yp, zp = _sagittal(case1, lv, 3.0)
    sel = (parts == LAMINA) & (zp < 0) & (zp > -24.0)  # this level's laminae, not the next one's
    assert sel.sum() > 100
    slope = np.polyfit(zp[sel], yp[sel], 1)[0]  # posterior mm per mm of height
    assert slope < -0.25, slope  # the upper edge lies forwards (measured -0.47 at L2 and L4)


def _run_through(z: np.ndarray, z0: float) -> float:
    """Length (mm) of the run of contiguous samples ``z`` (one column) that contains ``z0``."""
    z = np.sort(z)
    breaks = np.nonzero(np.diff(z) > 1.5 * STEP_MM)[0]
    for lo, hi in zip(np.r_[0, breaks + 1], np.r_[breaks, len(z) - 1], strict=True):
        if z[lo] - STEP_MM <= z0 <= z[hi] + STEP_MM:
            return float(z[hi] - z[lo])
    return 0.0


@pytest.mark.parametrize("lv", [Level.L2, Level.L4])
def test_the_spinous_process_is_a_blade_taller_at_its_rounded_tip(case1, lv):
    parts, yp, zp = _sagittal(case1, lv, 0.0)
    arch = model_for(case1).geometry.arch_poses[lv]
    hy, hz = arch.half[1], arch.half[2]
    k = model_for(case1).geometry.scale
    sel = parts == SPINOUS
    # the blade's axis runs from (hy + 20, -hz - 1) back and down to (hy + 44, -hz - 6) (y', z'; mm
    # times the scale)

    def height(y: float) -> float:
        band = sel & (np.abs(yp - y) < 0.5)
        z_axis = -hz - 1.0 * k - 5.0 * (y - hy - 20.0 * k) / 24.0
        return _run_through(zp[band], z_axis) if band.any() else 0.0

    base, tip, end = height(hy + 26.0 * k), height(hy + 36.0 * k), height(hy + 43.4 * k)
    assert tip > 1.4 * base, (base, tip)  # measured 7.2 against 15.8 mm at L2
    # the posterior end is rounded (measured 8.0 against 12.5 mm at L2); a square-cut end keeps the full height
    assert 0 < end < 0.75 * tip, (end, tip)


def test_a_ligamentum_flavum_closes_each_interlaminar_space(case1):
    lab, yp, zp = _sagittal(case1, Level.L3, 0.0, parts=False)
    hz = model_for(case1).geometry.arch_poses[Level.L3].half[2]
    behind_canal = (zp < -hz - 6.0) & (zp > -hz - 30.0) & (yp > 0)
    assert (lab[behind_canal] == T.FASCIA).sum() * STEP_MM ** 2 > 20.0  # mm^2 of ligament


def test_l5_is_taller_in_front_than_behind(case1):
    parts, yp, zp = _sagittal(case1, Level.L5, 0.0)
    hy = model_for(case1).geometry.poses[Level.L5].half[1]
    hz = model_for(case1).geometry.poses[Level.L5].half[2]
    body = ((parts == BODY) | (parts == ENDPLATE)) & (np.abs(zp) < hz + 4.0)

    def height(y: float) -> float:
        band = body & (np.abs(yp - y) < 1.0)
        return float(np.ptp(zp[band]))

    front, back = height(-0.6 * hy), height(0.6 * hy)
    assert front - back > 2.0, (front, back)  # configured 4 mm over the whole depth
    for lv in (Level.L2, Level.L3):  # the upper bodies are not wedged
        p, y2, z2 = _sagittal(case1, lv, 0.0)
        h = model_for(case1).geometry.poses[lv].half[1]
        b = ((p == BODY) | (p == ENDPLATE)) & (np.abs(z2) < model_for(case1).geometry.poses[lv].half[2] + 4.0)
        f = float(np.ptp(z2[b & (np.abs(y2 + 0.6 * h) < 1.0)]))
        k = float(np.ptp(z2[b & (np.abs(y2 - 0.6 * h) < 1.0)]))
        assert abs(f - k) < 1.0, (lv, f, k)
