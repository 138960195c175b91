"""Issue 18, soft tissue third pass: the aorta follows the lordosis and is not a circle, the
back's outline curves with the lordosis on CT / MR, muscle outlines are lobulated, the bowel on
MR is smeared by peristalsis into a mottled texture, and the back of the canal has the
ligamentum flavum, a posterior epidural fat pad and the interspinous ligament."""

import numpy as np

from app.findings.model import Level
from app.samples import labels as T
from app.samples.bowel import anterior_spine_y
from app.samples.cases import case_by_number
from app.samples.phantom import Grid, _soft_layout, label_volume, model_for, psoas_key, psoas_of_key
from app.samples.render_mr import _bowel_motion
from app.samples.soft_detail import _muscle_masks, _vessels, back_curve_mm, paint_posterior_canal, refine_soft_labels
from tests.unit.samples.midline import level_z, midline_l3_l4


def test_aorta_follows_the_front_of_the_lordotic_spine():
    case = case_by_number(4)
    gaps, ys_aorta = [], []
    for lv in (Level.L1, Level.L2, Level.L3):
        z = level_z(4, lv)
        ys = float(np.interp(z, *model_for(case).spine_y_at_z))
        aorta = _vessels(case, ys, z)[0]
        front = float(anterior_spine_y(case, z))
        gaps.append(front - (aorta.cy + aorta.ay))  # fat between the aorta and the bodies
        ys_aorta.append(aorta.cy)
    assert max(gaps) - min(gaps) < 0.5 and 0.0 < min(gaps) < 6.0
    # the lordosis brings L3 forwards of L1: the aorta goes with it (it was a straight tube)
    assert ys_aorta[0] - ys_aorta[2] > 4.0


def test_vessel_outline_is_not_a_circle():
    case = case_by_number(4)
    z = level_z(4, Level.L2)
    aorta = _vessels(case, float(np.interp(z, *model_for(case).spine_y_at_z)), z)[0]
    th = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    r = np.linspace(0.0, 15.0, 601)
    x = aorta.cx + r[:, None] * np.cos(th)[None]
    y = aorta.cy + r[:, None] * np.sin(th)[None]
    radius = r[np.argmax(aorta.signed_mm(x, y) > 0, axis=0)]
    assert radius.max() - radius.min() > 1.0


def test_back_outline_curves_with_the_lordosis():
    for number in (1, 4):
        case = case_by_number(number)
        zs = np.linspace(level_z(number, Level.S1), level_z(number, Level.L1), 40)
        c = np.array([back_curve_mm(case, float(z)) for z in zs])
        assert c.max() <= 0.0 and c.max() > -0.5  # on the table at one end
        at = {lv: back_curve_mm(case, level_z(number, lv)) for lv in (Level.L1, Level.L3, Level.L4, Level.S1)}
        for mid in (Level.L3, Level.L4):  # in over L3-L4, out at L1 and the sacrum
            assert at[mid] < at[Level.L1] - 2.0 and at[mid] < at[Level.S1] - 2.0


def test_back_of_the_ct_plane_moves_forwards_over_the_lordosis():
    case = case_by_number(4)
    z = level_z(4, Level.L4)
    ys = float(np.interp(z, *model_for(case).spine_y_at_z))
    grid = Grid((-5.0, ys + 40.0), (0.0, 0.5), (0.5, 0.0), 160, 20, (z,))
    lab = label_volume(case, grid, soft_quantum_mm=0.5)
    before = int(np.count_nonzero(lab != T.AIR))
    refine_soft_labels(case, lab, grid, soft_quantum_mm=0.5)
    after = int(np.count_nonzero(lab != T.AIR))
    shift = back_curve_mm(case, z)
    assert shift < -3.0
    assert abs((before - after) * 0.5 / 20 + shift) < 1.0  # the skin came forwards by |shift|


def test_muscle_outlines_are_lobulated():
    case = case_by_number(4)
    z = level_z(4, Level.L4)
    ys = float(np.interp(z, *model_for(case).spine_y_at_z))
    pk = int(psoas_key(case, np.array([z]))[0])
    x, y = np.meshgrid(np.arange(-110.0, 110.0, 0.5), np.arange(ys - 60.0, ys + 100.0, 0.5))
    _para, _band, grow, shrink = _muscle_masks(case, x, y, ys, psoas_of_key(pk))
    assert np.count_nonzero(grow) * 0.25 > 40.0 and np.count_nonzero(shrink) * 0.25 > 40.0  # mm^2
    # round the left psoas: the outline's distance from the centre swings by more than 3 mm
    ps = _soft_layout(case, ys, psoas_of_key(pk)).psoas[0]
    th = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    inside = ((x - ps.cx) / ps.ax) ** 2 + ((y - ps.cy) / ps.ay) ** 2 <= 1.0
    muscle = (inside & ~shrink) | grow
    rad = []
    for t in th:
        r = np.arange(0.0, max(ps.ax, ps.ay) + 6.0, 0.25)
        ix = np.clip(np.rint((ps.cx + r * np.cos(t) + 110.0) / 0.5).astype(int), 0, x.shape[1] - 1)
        iy = np.clip(np.rint((ps.cy + r * np.sin(t) - (ys - 60.0)) / 0.5).astype(int), 0, x.shape[0] - 1)
        out = np.nonzero(~muscle[iy, ix])[0]
        ell = 1.0 / np.sqrt((np.cos(t) / ps.ax) ** 2 + (np.sin(t) / ps.ay) ** 2)
        rad.append(r[out[0]] - ell)
    assert np.ptp(rad) > 3.0


def test_mr_bowel_is_smeared_and_the_rest_untouched():
    case = case_by_number(4)
    rng = np.random.default_rng(0)
    sig = np.full((3, 80, 80), 200.0, dtype=np.float32)
    bowel = np.zeros_like(sig)
    bowel[:, :, :40] = 1.0
    blobs = (rng.random((3, 80, 80)) < 0.02)
    sig[blobs] = 900.0  # sharp bright specks everywhere
    out = _bowel_motion(case, sig, bowel)
    far = slice(60, 80)
    assert np.array_equal(out[:, :, far], sig[:, :, far])
    in_bowel = slice(0, 30)
    assert out[:, :, in_bowel].max() < 0.6 * sig[:, :, in_bowel].max()  # specks smeared
    assert abs(float(out[:, :, in_bowel].mean()) - float(sig[:, :, in_bowel].mean())) < 0.1 * float(sig.mean())


def test_back_of_the_canal_has_flavum_epidural_pad_and_interspinous_ligament():
    case = case_by_number(4)
    grid, lab = midline_l3_l4(4, 140)
    fat_before = int(np.count_nonzero(lab == T.EPIDURAL_FAT))
    paint_posterior_canal(case, lab, grid)
    lig = lab == T.LIGAMENT
    assert np.count_nonzero(lig[:, 1]) * 0.25 > 20.0  # mm^2 on the mid-line
    assert np.count_nonzero(lab == T.EPIDURAL_FAT) > fat_before
    # the ligament lies behind the thecal sac
    y = grid.xy(np.arange(3, dtype=np.float64), np.arange(140, dtype=np.float64))[1]
    csf_y = y[1][np.any(lab[:, 1] == T.CSF, axis=0)]
    lig_y = y[1][np.any(lig[:, 1], axis=0)]
    assert np.median(lig_y) > np.median(csf_y)


def test_exiting_roots_lie_in_foraminal_fat_beside_the_canal():
    case = case_by_number(4)
    g = model_for(case).geometry
    pose = g.poses[Level.L4]
    z = float(pose.origin[2]) - 12.0
    ys = float(pose.origin[1])
    grid = Grid((-50.0, ys - 10.0), (0.0, 0.5), (0.5, 0.0), 100, 200, (z,))
    lab = label_volume(case, grid, soft_quantum_mm=0.5)
    nerve_before = lab == T.NERVE
    paint_posterior_canal(case, lab, grid)
    x, _y = grid.xy(np.arange(100, dtype=np.float64), np.arange(200, dtype=np.float64))
    new = (lab[0] == T.NERVE) & ~nerve_before[0]
    for side in (1.0, -1.0):  # a root on each side, lateral to the canal, in fat
        root = new & (x * side > 12.0)
        assert np.count_nonzero(root) * 0.25 > 5.0
        rows, cols = np.nonzero(root)
        ring = lab[0, max(rows.min() - 6, 0):rows.max() + 7, max(cols.min() - 6, 0):cols.max() + 7]
        assert np.count_nonzero(ring == T.FAT) > np.count_nonzero(root)
