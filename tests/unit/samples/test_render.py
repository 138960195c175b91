"""What the rendered images show: pars gaps on the obliques, STIR edema, CT numbers."""

import numpy as np
import pytest

from app.findings.model import Level, ParsStatus, Side
from app.samples import labels as T, render_ct, render_dx, render_mr
from app.samples.cases import case_by_number
from app.samples.phantom import model_for

OBLIQUE_OF = {Side.LEFT: "LT OBL", Side.RIGHT: "RT OBL"}


def _profile(img, a, b, n=80, half_width=2):
    """Mean intensity along the projected pars from end a to end b (a few pixels wide)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = (b - a) / np.linalg.norm(b - a)
    perp = np.array([-d[1], d[0]])
    out = []
    for t in np.linspace(0.0, 1.0, n):
        p = a + (b - a) * t
        vals = [img[int(round(q[0])), int(round(q[1]))] for q in (p + perp * k for k in range(-half_width, half_width + 1))]
        out.append(np.mean(vals))
    return np.array(out)


def _dip(img, pars):
    """Depth of the darkest spot around the defect point below the pars profile's baseline, as a
    fraction. The band is ~1.2 mm wide (as before at 0.26 mm pixels: now 7 pixels of 0.17 mm).
    Since the radiographs have the anatomy under both ends of the pars (pedicle and body at one
    end, the facet joint at the other), the profile slopes from end to end; the dip is measured
    against a straight line fitted to the whole profile, after a 3-point (~1 mm) smoothing
    against quantum noise, not against the profile's median."""
    half_width = int(round(0.5 / render_dx.DX_OBJECT_PIXEL_MM))
    prof = _profile(img, pars["a"], pars["b"], half_width=half_width)
    x = np.arange(len(prof))
    smooth = np.convolve(prof, np.ones(3) / 3, mode="same")
    base = np.polyval(np.polyfit(x, prof, 1), x)
    mid = slice(int(len(prof) * 0.3), int(len(prof) * 0.8))
    return float(np.max((base[mid] - smooth[mid]) / base[mid]))


_CACHE = {}


def _oblique(number, side):
    key = (number, side)
    if key not in _CACHE:
        case = case_by_number(number)
        view = OBLIQUE_OF[side]
        _CACHE[key] = (render_dx.render_radiograph(case, view).astype(np.float64), render_dx.projected_pars(case, view))
    return _CACHE[key]


@pytest.mark.slow
def test_oblique_shows_a_gap_in_the_pars_where_there_is_a_defect_and_none_where_intact():
    dips = {}
    for number, side in ((1, Side.LEFT), (3, Side.LEFT), (3, Side.RIGHT), (4, Side.LEFT), (5, Side.RIGHT)):
        img, proj = _oblique(number, side)
        for level in (Level.L4, Level.L5):
            status = proj[(level, side)]["status"]
            dips[(number, side.value, level.value, status.value)] = _dip(img, proj[(level, side)])
    intact = {k: v for k, v in dips.items() if k[3] == ParsStatus.INTACT.value}
    defects = {k: v for k, v in dips.items() if k[3] in (ParsStatus.COMPLETE_FRACTURE.value, ParsStatus.CHRONIC_NONUNION.value)}
    assert len(intact) >= 4 and len(defects) >= 4
    # thresholds re-set for the new radiographs (2026-11): the dip is relative to the local baseline,
    # which the latitude compression lowers; measured intact <= 0.065, defects >= 0.113. Re-set
    # again (issue 18) when the articular processes became columns cut at a facet joint (a 1.3 mm
    # lucent joint space) and the ray sums got per-ray sample shifts: measured intact <= 0.086
    # (case 5, right L5; L4s 0.054-0.080), defects >= 0.138
    assert max(intact.values()) < 0.10, intact
    assert min(defects.values()) > 0.095, defects


@pytest.mark.slow
def test_projected_pars_points_lie_on_the_image_and_follow_the_view():
    case = case_by_number(3)
    lt = render_dx.projected_pars(case, "LT OBL")
    rt = render_dx.projected_pars(case, "RT OBL")
    for proj in (lt, rt):
        for pts in proj.values():
            for key in ("a", "b", "mid"):
                r, c = pts[key]
                assert 0 <= r < render_dx.DX_ROWS and 0 <= c < render_dx.DX_COLS
    # the left pars lies lower on the image than L4's and the pars runs downwards from a to b
    assert lt[(Level.L5, Side.LEFT)]["mid"][0] > lt[(Level.L4, Side.LEFT)]["mid"][0]
    assert lt[(Level.L5, Side.LEFT)]["b"][0] > lt[(Level.L5, Side.LEFT)]["a"][0]


def _mr_roi(case, seq, p_lps, half=2):
    lab, geo = render_mr.render_mr_labels(case)
    sig = render_mr.render_mr(case, seq, lab).astype(np.float64)
    xs = np.array([p[0] for p in geo.positions])
    k = int(np.argmin(np.abs(xs - p_lps[0])))
    y0, z0 = geo.positions[0][1], geo.positions[0][2]
    i = int(round((p_lps[1] - y0) / geo.pixel_spacing[1]))
    j = int(round((z0 - p_lps[2]) / geo.pixel_spacing[0]))
    return sig[k, j - half:j + half + 1, i - half:i + half + 1].mean()


def _pedicle_centre(case, level, side):
    pose = model_for(case).geometry.poses[level]
    s = model_for(case).geometry.scale
    sx = 1.0 if side is Side.LEFT else -1.0
    hy = pose.half[1]
    x = sx * (11.5 * s + (5.5 if level is Level.L5 else 4.3) * s)
    return pose.to_lps((x, hy + 2.0 * s, 3.0 * s))


def test_stir_edema_in_pedicle_is_well_above_normal_marrow():
    case = case_by_number(2)
    edema = _mr_roi(case, "STIR", _pedicle_centre(case, Level.L5, Side.LEFT), half=1)
    normal_marrow = _mr_roi(case, "STIR", model_for(case).geometry.poses[Level.L3].origin)
    normal_pedicle = _mr_roi(case, "STIR", _pedicle_centre(case, Level.L3, Side.LEFT), half=1)
    assert edema > 2.5 * normal_marrow
    assert edema > 2.0 * normal_pedicle
    # and dark on T1 relative to normal marrow
    assert _mr_roi(case, "T1", _pedicle_centre(case, Level.L5, Side.LEFT), half=1) < 0.8 * _mr_roi(
        case, "T1", model_for(case).geometry.poses[Level.L3].origin)


def test_no_stir_edema_in_the_normal_case():
    case = case_by_number(1)
    ped = _mr_roi(case, "STIR", _pedicle_centre(case, Level.L5, Side.LEFT), half=1)
    marrow = _mr_roi(case, "STIR", model_for(case).geometry.poses[Level.L3].origin)
    assert ped < 1.6 * marrow


def test_ct_numbers_of_bone_marrow_and_disc_are_in_their_real_ranges():
    for number, lo, hi in ((3, 250, 380), (4, 150, 300)):  # adolescent marrow is denser
        case = case_by_number(number)
        hu, geo = render_ct.render_ct(case)
        g = model_for(case).geometry
        x0, y0, ztop = geo.positions[0]

        def ijk(p, ztop=ztop, geo=geo, x0=x0, y0=y0):
            return (int(round((ztop - p[2]) / geo.slice_spacing)), int(round((p[1] - y0) / geo.pixel_spacing[0])),
                    int(round((p[0] - x0) / geo.pixel_spacing[1])))

        k, j, i = ijk(g.poses[Level.L4].origin)
        marrow = hu[k, j - 4:j + 5, i - 4:i + 5].mean()
        assert lo <= marrow <= hi, marrow
        cortical = np.sort(hu[k, :, i])[-3:].mean()  # the body's anterior/posterior cortex on this column
        assert 1000 <= cortical <= 1800, cortical
        up = g.poses[Level.L4]
        disc_centre = up.origin - up.axes[:, 2] * (up.half[2] + 3.0)
        k, j, i = ijk(disc_centre)
        disc = hu[k, j - 3:j + 4, i - 3:i + 4].mean()
        assert 70 <= disc <= 110, disc
        assert hu.dtype == np.int16


def _ct_index(geo, p):
    x0, y0, ztop = geo.positions[0]
    return (int(round((ztop - p[2]) / geo.slice_spacing)), int(round((p[1] - y0) / geo.pixel_spacing[0])),
            int(round((p[0] - x0) / geo.pixel_spacing[1])))


def test_ct_is_thin_slice_with_bone_kernel_noise_in_soft_tissue():
    case = case_by_number(3)
    hu, geo = render_ct.render_ct(case)
    assert geo.slice_thickness <= 1.0 and geo.slice_spacing <= 1.0
    g = model_for(case).geometry
    # the psoas (homogeneous muscle, 40 mm lateral of the L4 body centre, phantom._soft_layout)
    k, j, i = _ct_index(geo, g.poses[Level.L4].origin + np.array([40.0 * g.scale, -2.0, 0.0]))
    roi = hu[k - 1:k + 2, j - 5:j + 6, i - 5:i + 6].astype(np.float64)
    assert 20.0 <= roi.std() <= 40.0, roi.std()
    assert 20.0 <= roi.mean() <= 80.0, roi.mean()  # and it is muscle


def test_ct_cortical_edges_have_partial_volume_values():
    """Across the anterior cortex of L4 the CT numbers climb through intermediate values (the
    voxels that hold part cortex, part soft tissue), not in one step from ~50 to ~1500 HU."""
    case = case_by_number(4)
    hu, geo = render_ct.render_ct(case)
    pose = model_for(case).geometry.poses[Level.L4]
    k, j, i = _ct_index(geo, pose.origin)
    column = hu[k - 1:k + 2, :j, i - 1:i + 2].astype(np.float64).mean(axis=(0, 2))  # anterior to the centre
    j_edge = int(np.argmax(column > 700))  # the first voxel past half way up the cortex
    assert 0 < j_edge < j
    assert 250 < column[j_edge - 1] < 1200 or 250 < column[j_edge] < 1200, column[j_edge - 3:j_edge + 3]


def test_stir_edema_is_graded_not_a_uniform_block():
    """Marrow oedema fades into normal marrow over millimetres: the STIR signal between the
    oedema core and normal marrow takes intermediate values."""
    case = case_by_number(2)
    lab, _geo = render_mr.render_mr_labels(case)
    box, frac = render_mr.edema_fraction(lab)
    marrow = np.isin(lab[box], (T.CANCELLOUS, T.EDEMA))
    values = frac[marrow]
    assert values.max() > 0.8  # the core is oedema
    affected = values[values > 0.05]
    assert np.mean(affected < 0.7) > 0.5  # most affected marrow is in the transition, not at full signal
    # oedema reaches into marrow that the phantom labels normal (ill-defined margin)
    normal = lab[box] == T.CANCELLOUS
    assert np.count_nonzero(frac[normal] > 0.1) > 0.1 * np.count_nonzero(lab[box] == T.EDEMA)


def test_an_active_fracture_cleft_is_fluid_bright_only_where_it_crosses_the_oedema():
    """A cleft crossing a band of pars oedema: bright (fluid) inside the oedema, intermediate
    (fibrous) where it runs on through the cortex; uniformly fluid-bright it drew a sharp "X"."""
    table = T.mr_signal_table("STIR", False)
    lab = np.full((40, 8, 40), T.CORTICAL, dtype=np.uint8)
    lab[15:25, :, :] = T.EDEMA  # a band of oedema across the pars (along y)
    lab[:, :, 18:22] = T.GAP_FLUID  # the cleft crossing it (along z)
    sig = table[lab].astype(np.float32)
    box = (slice(0, 40), slice(0, 8), slice(0, 40))
    e = np.zeros(lab.shape, np.float32)
    e[15:25] = 1.0
    render_mr._cleft_fluid_within_edema(lab, sig, table, box, e)
    inside, outside = sig[20, 4, 20], sig[2, 4, 20]
    assert inside == pytest.approx(table[T.GAP_FLUID], rel=0.05)
    assert outside == pytest.approx(table[T.GAP_FIBROUS], rel=0.05)
    assert table[T.GAP_FIBROUS] < 0.5 * table[T.GAP_FLUID]
