"""The abdomen and the CT as a radiologist reads them: bowel as discrete loops of varying
calibre and content (gas above an air-fluid level, fluid, faeces mottled with gas in the colon
at the flanks) in mesenteric fat, not a web of thin outlines; a CT table under the patient;
band-pass (bone-kernel) CT noise; STIR oedema brightest next to the fracture."""

import numpy as np
import pytest
import SimpleITK as sitk

from app.findings.model import Level
from app.samples import labels as T, render_ct, render_mr
from app.samples.cases import case_by_number
from app.samples.phantom import Grid, label_volume, model_for
from app.samples.soft_detail import refine_soft_labels

_BOWEL = (T.VISCERA, T.BOWEL_FLUID, T.CHYME, T.FAECES, T.BOWEL_GAS)
_STEP_MM = 0.5


def _axial_plane(number: int, level: Level, dz: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels of one axial plane through ``level`` (0.5 mm, 300 x 200 mm in front of the spine,
    rows = y, columns = x) with the CT / MR soft-tissue detail, and the x, y of its points."""
    case = case_by_number(number)
    pose = model_for(case).geometry.poses[level]
    z = float(pose.origin[2]) + dz
    y_back = float(pose.origin[1])
    grid = Grid((-150.0, y_back - 200.0), (0.0, _STEP_MM), (_STEP_MM, 0.0), 400, 600, (z,))
    lab = label_volume(case, grid, soft_quantum_mm=0.5)
    refine_soft_labels(case, lab, grid, soft_quantum_mm=0.5)
    x, y = grid.xy(np.arange(grid.n0, dtype=np.float64), np.arange(grid.n1, dtype=np.float64))
    return lab[0], x, y


def _components(mask: np.ndarray) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ConnectedComponent(sitk.GetImageFromArray(mask.astype(np.uint8))))


def _erode(mask: np.ndarray, n: int) -> np.ndarray:
    m = mask.copy()
    for _ in range(n):
        m[1:-1, 1:-1] &= m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
        m[[0, -1], :] = False
        m[:, [0, -1]] = False
    return m


@pytest.mark.parametrize("number", [1, 4])
def test_bowel_is_discrete_loops_with_a_lumen_not_a_web_of_outlines(number):
    lab, _x, _y = _axial_plane(number, Level.L4)
    bowel = np.isin(lab, _BOWEL)
    assert np.count_nonzero(bowel) * _STEP_MM ** 2 > 3000.0  # at least ~30 cm2 of bowel on the slice
    # thick: most bowel lies more than 2.5 mm from the fat (a web of 1 mm lines would vanish)
    assert np.count_nonzero(_erode(bowel, 5)) > 0.4 * np.count_nonzero(bowel)
    # separate loops (mesenteric fat or a wall between them) of small-bowel to colon calibre
    comp = _components(bowel)
    sizes = np.bincount(comp.ravel())[1:] * _STEP_MM ** 2
    diameters = 2 * np.sqrt(sizes / np.pi)
    assert np.count_nonzero(diameters >= 10.0) >= 8, np.sort(diameters)[-12:]
    # no single structure fills the abdomen
    assert sizes.max() < 0.5 * sizes.sum()


def test_loops_have_their_own_content_and_gas_lies_anterior_above_the_fluid():
    lab, _x, y = _axial_plane(4, Level.L4)
    assert np.count_nonzero(lab == T.BOWEL_FLUID) > 0
    assert np.count_nonzero(lab == T.BOWEL_GAS) > 0
    assert np.count_nonzero(lab == T.FAECES) > 0
    assert np.count_nonzero(lab == T.CHYME) > 0
    # an air-fluid level: in a loop lumen with both, the gas is in front (smaller y) of the fluid
    # (water or semi-fluid chyme); every such loop on three axial planes (which loops a plane
    # cuts with both contents moved with the bone shapes around them: the L4 plane alone had one)
    checked = 0
    for level in (Level.L3, Level.L4, Level.L5):
        lab, _x, y = _axial_plane(4, level)
        lumen = _components(np.isin(lab, (T.BOWEL_FLUID, T.CHYME, T.BOWEL_GAS)))
        for k in range(1, int(lumen.max()) + 1):
            m = lumen == k
            gas, fluid = m & (lab == T.BOWEL_GAS), m & np.isin(lab, (T.BOWEL_FLUID, T.CHYME))
            if np.count_nonzero(gas) >= 20 and np.count_nonzero(fluid) >= 20:
                assert y[gas].max() <= y[fluid].min() + _STEP_MM, (level, k)
                checked += 1
    assert checked >= 1


def test_colon_with_mottled_faeces_lies_at_both_flanks():
    lab, x, _y = _axial_plane(4, Level.L4)
    faeces = np.isin(lab, (T.FAECES,))
    assert np.count_nonzero(faeces & (x < -60.0)) > 200  # ascending colon (patient right, -x)
    assert np.count_nonzero(faeces & (x > 60.0)) > 200  # descending colon (left)
    # mottled: gas bubbles inside the faeces, not only a gas cap
    comp = _components(np.isin(lab, (T.FAECES, T.BOWEL_GAS)))
    right = np.bincount(comp[faeces & (x < -60.0)]).argmax()
    in_colon = comp == right
    bubbles = _components(in_colon & (lab == T.BOWEL_GAS))
    assert bubbles.max() >= 3


def test_bowel_fluid_is_bright_on_t2_and_stir_and_dark_on_t1_gas_black():
    case = case_by_number(4)
    lab, _geo = render_mr.render_mr_labels(case)
    sig = {s: render_mr.render_mr(case, s, lab).astype(np.float64) for s in ("T1", "T2", "STIR")}
    nz, nx, ny = lab.shape
    b = lab.reshape(nz // 2, 2, nx // 4, 4, ny // 2, 2).transpose(2, 0, 4, 1, 3, 5).reshape(nx // 4, nz // 2, ny // 2, 16)
    pure = np.where(np.all(b == b[..., :1], axis=-1), b[..., 0], 255)
    core = pure.copy()
    core[:, 1:-1, 1:-1] = np.where((pure[:, 1:-1, 1:-1] == pure[:, :-2, 1:-1]) & (pure[:, 1:-1, 1:-1] == pure[:, 2:, 1:-1])
                                   & (pure[:, 1:-1, 1:-1] == pure[:, 1:-1, :-2]) & (pure[:, 1:-1, 1:-1] == pure[:, 1:-1, 2:]),
                                   pure[:, 1:-1, 1:-1], 255)
    mean = {s: {t: float(img[core == t].mean()) for t in (T.BOWEL_FLUID, T.BOWEL_GAS, T.MUSCLE, T.FAT)}
            for s, img in sig.items()}
    assert all(np.count_nonzero(core == t) >= 20 for t in (T.BOWEL_FLUID, T.BOWEL_GAS))
    assert mean["T2"][T.BOWEL_FLUID] > 2.5 * mean["T2"][T.MUSCLE], mean["T2"]
    assert mean["STIR"][T.BOWEL_FLUID] > 2.5 * mean["STIR"][T.MUSCLE], mean["STIR"]
    assert mean["T1"][T.BOWEL_FLUID] < 0.6 * mean["T1"][T.MUSCLE], mean["T1"]
    for s in ("T1", "T2", "STIR"):
        assert mean[s][T.BOWEL_GAS] < 0.25 * mean[s][T.MUSCLE], (s, mean[s])


def test_ct_table_lies_under_the_patients_back():
    case = case_by_number(4)
    hu, geo = render_ct.render_ct(case)
    pose = model_for(case).geometry.poses[Level.L4]
    _x0, y0, ztop = geo.positions[0]
    k = int(round((ztop - pose.origin[2]) / geo.slice_spacing))
    j = int(round((pose.origin[1] - y0) / geo.pixel_spacing[0]))
    mid = hu.shape[2] // 2
    column = hu[k - 2:k + 3, :, mid - 2:mid + 3].astype(np.float64).mean(axis=(0, 2))  # rows = y, anterior first
    # from the spine backwards: soft tissue to the skin, then air, then the table's
    # carbon-fibre top (a thin bright line), then its foam core
    first_air = j + int(np.argmax(column[j:] < -500.0))
    assert first_air > j
    tail = column[first_air:]
    line = int(np.argmax(tail > 150.0))
    assert tail[line] > 150.0 and line >= 5, tail[:40]
    assert tail[2:line - 2].max() < -800.0  # air between the back and the table (edges blurred)
    assert tail[line + 6:line + 20].mean() < -800.0  # foam core


def test_ct_noise_is_band_pass_like_a_bone_kernel_not_white():
    """Radially averaged noise power: low at the lowest frequencies (the ramp filter), peaking
    at mid frequencies and falling towards Nyquist (the kernel's roll-off)."""
    n = render_ct._ct_noise(case_by_number(4), (6, 128, 128)).astype(np.float64)
    ps = np.mean([np.abs(np.fft.fft2(s - s.mean())) ** 2 for s in n], axis=0)
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(128), np.fft.fftfreq(128), indexing="ij"))
    band = lambda lo, hi: float(ps[(f >= lo) & (f < hi)].mean())  # noqa: E731
    low, mid, nyq = band(0.01, 0.06), band(0.15, 0.3), band(0.45, 0.5)
    assert low < 0.5 * mid, (low, mid)
    assert nyq < 0.7 * mid, (nyq, mid)
    assert abs(float(n.std()) - render_ct.CT_NOISE_HU) < 1.0


def test_stir_oedema_is_brightest_next_to_the_fracture():
    case = case_by_number(3)  # complete L5 fractures with oedema
    lab, _geo = render_mr.render_mr_labels(case)
    box, frac = render_mr.edema_fraction(lab)
    lb = lab[box]
    gap = (lb == T.GAP_FLUID).astype(np.float32)
    near = gap.copy()
    for axis, n in ((0, 7), (1, 2), (2, 7)):  # ~3 mm, ~2 sub-slices
        near = np.maximum.reduce([np.roll(near, s, axis=axis) for s in range(-n, n + 1)])
    oedema = lb == T.EDEMA
    near_gap = frac[oedema & (near > 0)]
    far = frac[oedema & (near == 0)]
    assert near_gap.size > 50 and far.size > 50
    assert near_gap.mean() > 1.2 * far.mean(), (near_gap.mean(), far.mean())


def _t2_profile_across_disc(number: int) -> np.ndarray:
    """T2 signal along z (rows) through the centre of the L2-L3 nucleus on the midline slice,
    from 4 rows above to 4 rows below the disc's mid-plane (0.9 mm rows)."""
    case = case_by_number(number)
    g = model_for(case).geometry
    pu, pl = g.poses[Level.L2], g.poses[Level.L3]
    c = (pu.origin - pu.axes[:, 2] * pu.half[2] + pl.origin + pl.axes[:, 2] * pl.half[2]) / 2
    lab, geo = render_mr.render_mr_labels(case)
    t2 = render_mr.render_mr(case, "T2", lab).astype(np.float64)
    k = int(np.argmin([abs(p[0]) for p in geo.positions]))
    _x, y_first, z_first = geo.positions[k]
    r = int(round((z_first - c[2]) / geo.pixel_spacing[0]))
    col = int(round((c[1] - y_first) / geo.pixel_spacing[1]))
    return t2[k, r - 4:r + 5, col - 1:col + 2].mean(axis=1)


def test_adult_nucleus_has_an_intranuclear_cleft_on_t2_and_the_adolescent_one_not():
    adult = _t2_profile_across_disc(4)  # 38 years
    assert adult[3:6].min() < 0.85 * min(adult[:3].max(), adult[6:].max()), adult
    young = _t2_profile_across_disc(3)  # 15 years
    assert young[3:6].min() > 0.9 * min(young[:3].max(), young[6:].max()), young
