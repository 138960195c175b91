"""Tissue contrast of the sample CT and MR as a radiologist expects it: fat nulled on STIR and
bright on T1, CSF bright on T2 / STIR and dark on T1, nucleus brighter than annulus on T2, roots
in the dorsal thecal sac, the basivertebral vein, oedema feathering into the neighbouring marrow,
fat planes around the psoas, fat and muscle CT numbers."""

import numpy as np
import pytest

from app.findings.model import Level
from app.samples import labels as T, render_ct, render_mr
from app.samples.cases import case_by_number
from app.samples.phantom import _psoas, model_for, psoas_key, psoas_of_key

_MR: dict = {}


def _mr(number):
    if number not in _MR:
        case = case_by_number(number)
        lab, geo = render_mr.render_mr_labels(case)
        sig = {s: render_mr.render_mr(case, s, lab).astype(np.float64) for s in ("T1", "T2", "STIR")}
        _MR[number] = (case, lab, geo, sig)
    return _MR[number]


def _pure_voxels(lab):
    """[slice, row, col] label of each MR voxel whose 2 x 4 x 2 oversampled labels all agree, else 255."""
    nz, nx, ny = lab.shape
    b = lab.reshape(nz // 2, 2, nx // 4, 4, ny // 2, 2).transpose(2, 0, 4, 1, 3, 5).reshape(nx // 4, nz // 2, ny // 2, 16)
    pure = np.all(b == b[..., :1], axis=-1)
    return np.where(pure, b[..., 0], 255)


def _tissue_means(number):
    _case, lab, _geo, sig = _mr(number)
    pure = _pure_voxels(lab)
    # erode by one voxel in-plane so that blur and partial volume do not leak in
    core = pure.copy()
    core[:, 1:-1, 1:-1] = np.where((pure[:, 1:-1, 1:-1] == pure[:, :-2, 1:-1]) & (pure[:, 1:-1, 1:-1] == pure[:, 2:, 1:-1])
                                   & (pure[:, 1:-1, 1:-1] == pure[:, 1:-1, :-2]) & (pure[:, 1:-1, 1:-1] == pure[:, 1:-1, 2:]),
                                   pure[:, 1:-1, 1:-1], 255)
    out = {}
    for seq, img in sig.items():
        out[seq] = {t: float(img[core == t].mean()) for t in (T.FAT, T.MUSCLE, T.CANCELLOUS, T.CSF, T.NUCLEUS, T.ANNULUS)
                    if np.count_nonzero(core == t) >= 20}
    return out


@pytest.mark.slow
def test_mr_tissue_contrast_per_sequence():
    m = _tissue_means(3)
    stir, t1, t2 = m["STIR"], m["T1"], m["T2"]
    # STIR: fat suppressed (darker than muscle and far below CSF), fluid bright
    assert stir[T.FAT] < 0.6 * stir[T.MUSCLE], stir
    assert stir[T.FAT] < 0.2 * stir[T.CSF], stir
    # T1: fat and marrow bright, CSF dark
    assert t1[T.FAT] > t1[T.CANCELLOUS] > t1[T.MUSCLE] > t1[T.CSF], t1
    # T2 (FSE): CSF brightest, fat fairly bright, nucleus bright against the annulus
    assert t2[T.CSF] > t2[T.FAT] > t2[T.MUSCLE], t2
    assert t2[T.NUCLEUS] > 1.8 * t2[T.ANNULUS], t2


@pytest.mark.slow
def test_cauda_equina_roots_layer_in_the_dorsal_thecal_sac_below_the_conus():
    case, lab, geo, sig = _mr(3)
    g = model_for(case).geometry
    km = len(geo.positions) // 2
    # one row through the middle of L3 (the sac runs about craniocaudally there)
    z0, _y0 = geo.positions[0][2], geo.positions[0][1]
    row = int(round((z0 - g.poses[Level.L3].origin[2]) / geo.pixel_spacing[0]))
    pure = _pure_voxels(lab)[km, row]
    sac = np.nonzero(np.isin(pure, (T.CSF, T.NERVE)))[0]
    assert sac.size >= 6
    profile = sig["T2"][km, row, sac.min():sac.max() + 1]
    # dark roots inside the bright CSF: a dip to well below the brightest CSF in the dorsal half
    dorsal = profile[len(profile) // 2:]
    assert dorsal.min() < 0.8 * profile.max(), profile
    # and the labels hold nerve in the dorsal sac below the conus, in most midline slices
    nz = lab.shape[0]
    l3_rows = slice(2 * row - 10, 2 * row + 10)
    nerve_slices = sum(bool(np.any(lab[l3_rows, 4 * k:4 * k + 4] == T.NERVE)) for k in range(km - 1, km + 2))
    assert nerve_slices == 3 and nz > 0


def test_basivertebral_vein_is_bright_on_t2_behind_the_body_centre():
    case, _lab, geo, sig = _mr(1)
    g = model_for(case).geometry
    km = len(geo.positions) // 2
    z0, y0 = geo.positions[0][2], geo.positions[0][1]
    ratios = []
    for lv in (Level.L2, Level.L3, Level.L4):
        pose = g.poses[lv]
        vein = pose.to_lps((0.0, 0.8 * pose.half[1], 0.0))
        marrow = pose.to_lps((0.0, -0.4 * pose.half[1], 0.5 * pose.half[2]))

        def px(p, z0=z0, y0=y0):
            return int(round((z0 - p[2]) / geo.pixel_spacing[0])), int(round((p[1] - y0) / geo.pixel_spacing[1]))

        (rv, cv), (rm, cm) = px(vein), px(marrow)
        ratios.append(sig["T2"][km, rv, cv - 1:cv + 2].max() / sig["T2"][km, rm - 1:rm + 2, cm - 1:cm + 2].mean())
    assert min(ratios) > 1.25, ratios


def test_stir_oedema_feathers_into_neighbouring_marrow_unevenly():
    """Beyond the labelled oedema the fraction does not fall off as one smooth shell: within the
    normal marrow it reaches, it is streaky and patchy (a wide spread of values at a given
    distance), and some of it is strong (> 0.2: a fifth of the way to full oedema signal, ~2x
    normal marrow on STIR). Measured 2026-11 (cases 2, 3, 5): 11-14 % of the reached marrow
    above 0.2, coefficient of variation 0.58-0.61."""
    _case, lab, _geo, _sig = _mr(2)
    box, frac = render_mr.edema_fraction(lab)
    normal = lab[box] == T.CANCELLOUS
    reached = frac[normal & (frac > 0.05)]
    assert reached.size > 500
    assert np.count_nonzero(reached > 0.2) > 0.07 * reached.size, np.percentile(reached, [50, 90, 99])
    assert reached.std() / reached.mean() > 0.4, (reached.mean(), reached.std())
    # streaks along the vertical trabeculae: the fraction changes faster across (y) than along
    # (z) them, at the same 0.45 mm sample spacing (measured ratio 2.2-2.3; a smooth shell ~1)
    m = normal & (frac > 0.05)
    along = np.abs(np.diff(frac, axis=0))[m[1:] & m[:-1]].mean()
    across = np.abs(np.diff(frac, axis=2))[m[:, :, 1:] & m[:, :, :-1]].mean()
    assert across > 1.6 * along, (across, along)


_CT: dict = {}


def _ct(number):
    if number not in _CT:
        case = case_by_number(number)
        _CT[number] = (case, *render_ct.render_ct(case))
    return _CT[number]


def _ct_index(geo, p):
    x0, y0, ztop = geo.positions[0]
    return (int(round((ztop - p[2]) / geo.slice_spacing)), int(round((p[1] - y0) / geo.pixel_spacing[0])),
            int(round((p[0] - x0) / geo.pixel_spacing[1])))


@pytest.mark.slow
def test_ct_fat_and_muscle_numbers_and_the_fat_plane_around_the_psoas():
    case, hu, geo = _ct(4)
    g = model_for(case).geometry
    pose = g.poses[Level.L4]
    s = g.scale
    k, j, i = _ct_index(geo, pose.origin)
    ys = int(j)
    # the left psoas as the phantom lays it out at this height (it grows and moves laterally
    # caudally: phantom._psoas); its centre is muscle
    z = float(pose.origin[2])
    spine_y = float(np.interp(z, *model_for(case).spine_y_at_z))
    psoas_ellipse = _psoas(s, spine_y, psoas_of_key(int(psoas_key(case, np.array([z]))[0])))[0]
    _k, jp, ip = _ct_index(geo, np.array([psoas_ellipse.cx, psoas_ellipse.cy, z]))
    psoas = hu[k - 2:k + 3, jp - 5:jp + 6, ip - 5:ip + 6].astype(np.float64)
    assert 35 <= psoas.mean() <= 65, psoas.mean()
    # posterior subcutaneous fat (adult: ~20 mm thick, behind the paraspinal muscles) at the midline
    col = hu[k - 2:k + 3, ys:, i - 3:i + 4].astype(np.float64).mean(axis=(0, 2))
    fat_runs = np.nonzero((col < -60) & (col > -300))[0]  # not the air behind the skin
    assert fat_runs.size >= 8, col
    assert -125 <= col[fat_runs].mean() <= -75, col[fat_runs].mean()
    # fat plane: the CT numbers along the psoas' anterior margin (retroperitoneal fat against
    # the bowel; averaged over slices, against noise) dip well below the muscle just inside it
    prof = hu[k - 5:k + 6, :, ip - 2:ip + 3].astype(np.float64).mean(axis=(0, 2))
    edge = jp - int(round(psoas_ellipse.ay / geo.pixel_spacing[0]))
    inside = prof[edge + 4:edge + 9].mean()
    rim = prof[edge - 3:edge + 4].min()
    assert rim < inside - 40, (inside, prof[edge - 8:edge + 9])
