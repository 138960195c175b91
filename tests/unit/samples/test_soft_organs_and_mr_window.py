"""What a reader expects round the lumbar spine on CT and MR (issue 18): the kidneys' lower poles
at L3 (the right lower), the psoas against the vertebral body, the iliacus in the iliac fossa,
fatty streaks in an adult's paraspinal muscles; and the stored MR window set from the spine, so
STIR oedema is bright and fluid white, not set by the bowel."""

import numpy as np
import pytest

from app.findings.model import Level
from app.samples import dicomwrite, labels as T, render_mr
from app.samples.cases import case_by_number
from app.samples.phantom import Grid, label_volume, model_for
from app.samples.soft_detail import refine_soft_labels

_STEP_MM = 1.0


def _plane(number: int, z: float, refine: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels of one axial plane at ``z`` (1 mm, x -120..120, y from 150 mm in front of the spine
    to 110 mm behind it) and the x, y of its points."""
    case = case_by_number(number)
    ys = float(np.interp(z, *model_for(case).spine_y_at_z))
    grid = Grid((-120.0, ys - 150.0), (0.0, _STEP_MM), (_STEP_MM, 0.0), 260, 240, (z,))
    lab = label_volume(case, grid, soft_quantum_mm=0.5)
    if refine:
        refine_soft_labels(case, lab, grid, soft_quantum_mm=0.5)
    x, y = grid.xy(np.arange(grid.n0, dtype=np.float64), np.arange(grid.n1, dtype=np.float64))
    return lab[0], x, y


def _z(number: int, level: Level, dz: float = 0.0) -> float:
    return float(model_for(case_by_number(number)).geometry.poses[level].origin[2]) + dz


def test_kidney_lower_poles_at_l3_the_right_lower():
    above, x, _y = _plane(4, _z(4, Level.L3, 12.0))
    kid = above == T.KIDNEY
    assert np.count_nonzero(kid & (x > 40)) > 150 and np.count_nonzero(kid & (x < -40)) > 150  # both, lateral
    below, x, _y = _plane(4, _z(4, Level.L3, -8.0))
    kid = below == T.KIDNEY
    assert np.count_nonzero(kid & (x > 0)) == 0  # the left lower pole ends higher
    assert np.count_nonzero(kid & (x < 0)) > 20  # the right one still there
    l4, _x, _y = _plane(4, _z(4, Level.L4))
    assert np.count_nonzero(l4 == T.KIDNEY) == 0


def _muscle_gap_mm(lab: np.ndarray, x: np.ndarray, y: np.ndarray, y_mm: float) -> float:
    """On the row at ``y_mm``: from the vertebral body's lateral edge (x > 0) to the first muscle."""
    r = int(np.argmin(np.abs(y[:, 0] - y_mm)))
    row, xs = lab[r], x[r]
    bone = np.nonzero(np.isin(row, tuple(T.BONE_LABELS)) & (np.abs(xs) < 40))[0]
    edge = xs[bone].max()
    mus = np.nonzero((row == T.MUSCLE) & (xs > edge))[0]
    return float(xs[mus].min() - edge)


def test_psoas_lies_against_the_side_of_the_vertebral_body():
    z = _z(4, Level.L5)
    ys = float(np.interp(z, *model_for(case_by_number(4)).spine_y_at_z))
    plain, x, y = _plane(4, z, refine=False)
    refined, _x, _y = _plane(4, z)
    gap_plain = _muscle_gap_mm(plain, x, y, ys)
    gap = _muscle_gap_mm(refined, x, y, ys)
    assert gap <= 3.0 < gap_plain, (gap, gap_plain)  # only a fat plane between psoas and bone


def test_iliacus_lines_the_iliac_wing_at_s1():
    z = _z(4, Level.S1, -10.0)
    plain, x, _y = _plane(4, z, refine=False)
    refined, _x, _y = _plane(4, z)
    lateral = np.abs(x) > 55
    added = np.count_nonzero((refined == T.MUSCLE) & (plain != T.MUSCLE) & lateral)
    assert added * _STEP_MM ** 2 > 300, added  # several cm2 of iliacus on each side together
    for side in (1, -1):
        assert np.count_nonzero((refined == T.MUSCLE) & (plain != T.MUSCLE) & lateral & (x * side > 0)) > 50


def test_adult_paraspinal_muscle_has_more_fatty_streaks_than_an_adolescents():
    def fatty_fraction(number: int) -> float:
        lab, _x, y = _plane(number, _z(number, Level.L4))
        ys = float(np.interp(_z(number, Level.L4), *model_for(case_by_number(number)).spine_y_at_z))
        back = y > ys + 35  # behind the lamina: erector spinae and multifidus
        muscle = np.count_nonzero(np.isin(lab, (T.MUSCLE, T.MUSCLE_FATTY)) & back)
        return np.count_nonzero((lab == T.MUSCLE_FATTY) & back) / muscle

    adult, young = fatty_fraction(4), fatty_fraction(1)
    assert 0.08 < adult < 0.5, adult
    assert young < 0.7 * adult, (young, adult)


@pytest.mark.slow
def test_stir_window_from_the_spine_makes_oedema_bright_and_fluid_white():
    case = case_by_number(3)  # complete L5 fractures with oedema
    lab, geo = render_mr.render_mr_labels(case)
    stir = render_mr.render_mr(case, "STIR", lab).astype(np.float64)
    lo, hi = dicomwrite.mr_window(case, "STIR", stir, geo)
    # the pure-label output pixels (4 x 2 x 2 samples of one label) of the oversampled grid
    nz, nx, ny = lab.shape
    b = lab.reshape(nz // 2, 2, nx // 4, 4, ny // 2, 2).transpose(2, 0, 4, 1, 3, 5).reshape(nx // 4, nz // 2, ny // 2, 16)
    pure = np.where(np.all(b == b[..., :1], axis=-1), b[..., 0], 255)
    shown = np.clip((stir - lo) / (hi - lo), 0.0, 1.0)
    box, frac = render_mr.edema_fraction(lab)
    f = np.zeros(lab.shape, dtype=np.float32)
    f[box] = frac
    core = f.reshape(nz // 2, 2, nx // 4, 4, ny // 2, 2).mean(axis=(1, 3, 5)).transpose(1, 0, 2) > 0.7
    assert np.count_nonzero(core) > 15  # enough core to take a median of (23 since the waisted pedicles)
    assert np.median(shown[pure == T.CSF]) >= 0.97  # fluid white, as a reader windows STIR
    # oedema in the upper grey values (0.90 measured; 0.64 in the whole-image window it replaced)
    assert np.median(shown[core]) >= 0.8, np.median(shown[core])
    assert np.median(shown[pure == T.CANCELLOUS]) <= 0.35  # normal marrow dark
    assert hi < np.percentile(stir, 99.9)  # not the whole image's bright end (bowel fluid, CSF)
    # T1: fat is the brightest tissue and stays below the top of its window
    t1 = render_mr.render_mr(case, "T1", lab).astype(np.float64)
    _lo1, hi1 = dicomwrite.mr_window(case, "T1", t1, geo)
    assert np.median(t1[pure == T.EPIDURAL_FAT]) < hi1
