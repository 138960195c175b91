"""Issue 18, soft tissue last pass: the great vessels (a tapering aorta with a wall and flow
signal, the IVC with slow-flow signal), the interspinous space as fat with ligament strands and a
supraspinous ligament over the tips, the exiting roots in irregular foraminal fat, muscle
outlines lobulated differently per muscle, and the MR bowel smear leaving the mesenteric fat
between loops alone."""

import numpy as np

from app.findings.model import Level
from app.samples import labels as T
from app.samples.cases import case_by_number
from app.samples.phantom import Grid, _Ellipse, label_volume, model_for
from app.samples.render_mr import _bowel_motion, _flow_signal
from app.samples.soft_detail import _lobulation, _vessels, paint_posterior_canal, refine_soft_labels
from tests.unit.samples.midline import level_z, midline_l3_l4


def _ys(number: int, z: float) -> float:
    return float(np.interp(z, *model_for(case_by_number(number)).spine_y_at_z))


def test_aorta_tapers_and_the_ivc_is_a_vein():
    case = case_by_number(4)
    z1, z3 = level_z(4, Level.L1), level_z(4, Level.L3, -10.0)
    a1 = _vessels(case, _ys(4, z1), z1)[0]
    a3 = _vessels(case, _ys(4, z3), z3)[0]
    assert a1.ax - a3.ax > 0.7  # wider high up than near the bifurcation
    assert not a1.vein  # type: ignore[attr-defined]
    ivc = _vessels(case, _ys(4, z1), z1)[1]
    assert ivc.vein and ivc.cx < 0  # type: ignore[attr-defined]  # right (patient x < 0 in LPS)


def test_axial_plane_has_aortic_wall_and_ivc_labels():
    case = case_by_number(4)
    z = level_z(4, Level.L3, 4.0)
    ys = _ys(4, z)
    grid = Grid((-60.0, ys - 90.0), (0.0, 0.5), (0.5, 0.0), 180, 240, (z,))
    lab = label_volume(case, grid, soft_quantum_mm=0.5)
    refine_soft_labels(case, lab, grid, soft_quantum_mm=0.5)
    x, y = grid.xy(np.arange(180, dtype=np.float64), np.arange(240, dtype=np.float64))
    aorta = _vessels(case, ys, z)[0]
    r = np.hypot(x - aorta.cx, y - aorta.cy)
    # lumen in the middle, a fibrous wall round it, fat outside
    assert np.all(lab[0][r < 4.0] == T.VESSEL)
    ring = (r > aorta.ax - 1.3) & (r < aorta.ax - 0.3)
    assert np.count_nonzero(lab[0][ring] == T.FASCIA) > 0.3 * np.count_nonzero(ring)
    assert np.count_nonzero(lab[0] == T.VEIN) * 0.25 > 100.0  # the IVC, mm^2
    assert np.all(x[lab[0] == T.VEIN] < 0.0)


def test_mr_flow_signal_varies_in_the_aorta_and_the_veins_are_brighter():
    case = case_by_number(4)
    lab = np.full((64, 8, 32), T.FAT, dtype=np.uint8)
    lab[:, :, 4:14] = T.VESSEL
    lab[:, :, 18:28] = T.VEIN
    table = T.mr_signal_table("T2", case.adolescent)
    sig = table[lab]
    _flow_signal(case, lab, sig)
    art, vein = sig[lab == T.VESSEL], sig[lab == T.VEIN]
    assert art.min() >= table[T.VESSEL] - 1e-3  # a flow void with patches of signal, not darker
    assert np.percentile(art, 95) > 1.8 * table[T.VESSEL]
    assert np.median(art) < 1.5 * table[T.VESSEL]  # still mostly void
    assert vein.std() > 0.1 * vein.mean()
    assert np.median(vein) > 3.0 * np.median(art)
    assert np.all(sig[lab == T.FAT] == table[T.FAT])


def test_interspinous_space_is_fat_with_ligament_strands_and_a_supraspinous_ligament():
    case = case_by_number(4)
    grid, lab = midline_l3_l4(4, 240)
    refine_soft_labels(case, lab, grid, soft_quantum_mm=0.5)
    paint_posterior_canal(case, lab, grid)
    y = grid.xy(np.arange(3, dtype=np.float64), np.arange(240, dtype=np.float64))[1][1]
    mid = lab[:, 1]
    sac_back = float(y[np.any(mid == T.CSF, axis=0)].max())
    behind = mid[:, (y > sac_back + 8.0) & (y < sac_back + 30.0)]
    soft = np.isin(behind, (T.FAT, T.LIGAMENT, T.MUSCLE, T.MUSCLE_FATTY))
    lig = np.count_nonzero(behind == T.LIGAMENT) / max(np.count_nonzero(soft), 1)
    fat = np.count_nonzero(behind == T.FAT) / max(np.count_nonzero(soft), 1)
    # strands in fat: neither a solid dark block nor fat alone
    assert 0.1 < lig < 0.6 and fat > 0.35
    # the strands are broken: several separate runs of ligament down a column
    col = behind[:, behind.shape[1] // 2]
    runs = np.count_nonzero(np.diff((col == T.LIGAMENT).astype(np.int8)) == 1)
    assert runs >= 2
    # the supraspinous ligament: on most rows the last ligament voxel borders the subcutaneous
    # fat (5 mm of fat behind it), a continuous line over the tips and the spaces between them
    bordered = 0
    for row in mid:
        idx = np.nonzero(row == T.LIGAMENT)[0]
        if idx.size and idx[-1] + 11 <= row.size and np.all(row[idx[-1] + 1:idx[-1] + 11] == T.FAT):
            bordered += 1
    assert bordered > 0.6 * mid.shape[0]


def test_exiting_root_fat_is_not_a_concentric_ring():
    case = case_by_number(4)
    g = model_for(case).geometry
    z = float(g.poses[Level.L4].origin[2]) - 12.0
    ys = float(g.poses[Level.L4].origin[1])
    grid = Grid((-50.0, ys - 10.0), (0.0, 0.5), (0.5, 0.0), 100, 200, (z,))
    lab = label_volume(case, grid, soft_quantum_mm=0.5)
    nerve_before = lab == T.NERVE
    paint_posterior_canal(case, lab, grid)
    x, y = grid.xy(np.arange(100, dtype=np.float64), np.arange(200, dtype=np.float64))
    root = (lab[0] == T.NERVE) & ~nerve_before[0] & (x > 12.0)
    cx, cy = float(x[root].mean()), float(y[root].mean())
    # the fat's reach from the root's centre along 16 directions
    reach = []
    for th in np.linspace(0, 2 * np.pi, 16, endpoint=False):
        r = np.arange(0.0, 12.0, 0.25)
        ix = np.clip(np.rint((cx + r * np.cos(th) - x[0, 0]) / 0.5).astype(int), 0, 199)
        iy = np.clip(np.rint((cy + r * np.sin(th) - y[0, 0]) / 0.5).astype(int), 0, 99)
        labs = lab[0][iy, ix]
        out = np.nonzero((labs != T.FAT) & (labs != T.NERVE))[0]
        reach.append(r[out[0]] if out.size else 12.0)
    assert np.ptp(reach) > 2.0  # eccentric and irregular (a concentric sleeve: all ~5 mm)


def test_each_muscle_is_lobulated_differently():
    e = _Ellipse(0.0, 0.0, 20.0, 15.0)
    th = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    x, y = 20.0 * np.cos(th), 15.0 * np.sin(th)
    spectra = []
    for i in range(4):
        f = np.abs(np.fft.rfft(_lobulation(e, i, x, y, 0.0, 2.6)))[1:12]
        spectra.append(f / f.sum())
    for a in range(4):
        for b in range(a + 1, 4):
            assert np.abs(spectra[a] - spectra[b]).sum() > 0.2


def test_mr_bowel_smear_leaves_mesenteric_fat_between_loops():
    case = case_by_number(4)
    sig = np.full((3, 80, 80), 300.0, dtype=np.float32)
    bowel = np.zeros_like(sig)
    bowel[:, :, :30] = 1.0
    bowel[:, :, 42:] = 1.0
    sig[:, :, 30:42] = 900.0  # 12 pixels (~11 mm) of fat between two loops
    rng = np.random.default_rng(1)
    sig[bowel > 0] += rng.normal(0, 50, size=int(np.count_nonzero(bowel))).astype(np.float32)
    out = _bowel_motion(case, sig, bowel)
    assert np.allclose(out[:, :, 35:37], 900.0, rtol=0.02)  # the middle of the fat untouched
