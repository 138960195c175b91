"""The pelvis, sacrum and lower ribs of the phantom have the shapes a radiograph reader expects
(issue 18, the last pass on the radiographs): the iliac wing is a plate thick at its crest and
thin in its fossa, curved (not an arc of a circle); the sacral alae slope down laterally; the
11th and 12th ribs taper to a point. Measured on the shapes themselves (no rendering)."""

import numpy as np

from app.findings.model import Level
from app.samples import anatomy_extra as ax
from app.samples.cases import case_by_number
from app.samples.labels import CANCELLOUS, CORTICAL
from app.samples.phantom import Grid, model_for, part_volume


def _wing():
    shape = ax._wing_shape(np.zeros(3), 1.0, 1.0)
    return shape, shape.extra["inside"]


def _thickness_mm(wing, u: float, z: float) -> float:
    """Thickness of the plate along the radius at arc position ``u`` and height ``z`` (mm)."""
    th = wing.th0 + u * (wing.th1 - wing.th0)
    r_mid = float(wing.mid_r(np.float32([u]), np.float32([z]))[0])
    rs = r_mid + np.arange(-20.0, 20.0, 0.05)
    x = (wing.polar_c[0] + rs * np.cos(th)).astype(np.float32)
    y = (wing.polar_c[1] + rs * np.sin(th)).astype(np.float32)
    z_arr = np.full_like(x, z)
    q = (x - np.float32(wing.box_c[0]), y - np.float32(wing.box_c[1]), z_arr - np.float32(wing.box_c[2]))
    return float(wing(*q, 0.0).sum()) * 0.05


def test_the_iliac_crest_is_much_thicker_than_the_iliac_fossa():
    _shape, wing = _wing()
    for u in (0.45, 0.6, 0.7):
        top = float(wing.top(np.array([u]))[0])
        crest = _thickness_mm(wing, u, top - 4.0)
        fossa = _thickness_mm(wing, u, top - 35.0)
        # 8.7-10.5 mm at the crest, 1.35-1.45 mm in the fossa when set (the wing before: 9 and 3 mm)
        assert crest > 6.0, (u, crest)
        assert 0.5 < fossa < 2.0, (u, fossa)


def test_the_iliac_crest_is_rounded_not_cut_flat():
    _shape, wing = _wing()
    top = float(wing.top(np.array([0.6]))[0])
    # the section narrows over its last millimetres (a half-disc), not a flat top
    assert _thickness_mm(wing, 0.6, top - 0.2) < 0.5 * _thickness_mm(wing, 0.6, top - 5.0)


def test_the_iliac_wing_is_not_an_arc_of_a_circle():
    _shape, wing = _wing()
    u = np.linspace(0.0, 1.0, 60)
    th = wing.th0 + u * (wing.th1 - wing.th0)
    r = wing.mid_r(u.astype(np.float32), np.zeros(60, np.float32)).astype(np.float64)
    x, y = wing.polar_c[0] + r * np.cos(th), wing.polar_c[1] + r * np.sin(th)
    # least-squares circle through the mid-surface's axial section
    a = np.stack([2 * x, 2 * y, np.ones_like(x)], axis=1)
    cx, cy, c = np.linalg.lstsq(a, x * x + y * y, rcond=None)[0]
    resid = np.abs(np.hypot(x - cx, y - cy) - np.sqrt(c + cx * cx + cy * cy))
    assert resid.max() > 4.0  # mm; 0 for the circular wing before


def test_the_sacral_alae_slope_down_laterally():
    model = model_for(case_by_number(4))
    half = next(op.shape for op in model.ops
                if op.part == 11 and op.label == CORTICAL and "sacrum_side" in (op.shape.extra or {}))
    fn = half.extra["inside"]

    def top_mm(x: float) -> float:
        """Highest point of the sacrum above (x, y' = 0) in the S1 frame (the joint's cut aside)."""
        z = np.arange(-30.0, 25.0, 0.1, dtype=np.float32)
        q = (np.full_like(z, x - fn.box_c[0]), np.full_like(z, -fn.box_c[1]), z - np.float32(fn.box_c[2]))
        return float(z[fn(*q, 0.0)].max())

    # 11.8 mm lower at 50 mm from the mid-line than at 15 mm when set (about 5 mm before)
    assert top_mm(50.0) < top_mm(15.0) - 8.0


def test_the_eleventh_and_twelfth_ribs_taper_to_a_point_and_the_twelfth_is_shorter():
    model = model_for(case_by_number(4))
    segs = [op.shape for op in model.ops if op.part == ax.PART_RIB and op.label != CANCELLOUS]
    # four ribs (11th and 12th, both sides), each a chain of segments from head to tip
    n = len(segs) // 4
    ribs = [segs[i * n:(i + 1) * n] for i in range(4)]
    lengths = []
    for rib in ribs:
        head, tip = rib[0].half, rib[-1].half
        assert tip[0] < 0.25 * head[0] and tip[1] < 0.5 * head[1]  # height and thickness
        lengths.append(sum(2 * (seg.half[2] - seg.half[1] * 0.5) for seg in rib))
    twelfth, eleventh = lengths[:2], lengths[2:]  # T12's ribs are built first
    assert max(twelfth) < 0.7 * min(eleventh)


def _si_joint_rows(case_no: int, dz_mm: float) -> list[tuple[float, float, float]]:
    """(y mm, lateral edge of the sacrum mm, medial edge of the ilium beyond it mm) along the
    rows of an axial grid through the left sacroiliac joint, ``dz_mm`` from the S1 body centre."""
    case = case_by_number(case_no)
    c = model_for(case).geometry.poses[Level.S1].origin
    step = 0.5
    grid = Grid((float(c[0]), float(c[1]) - 40.0), (0.0, step), (step, 0.0), 160, 200, (float(c[2]) + dz_mm,))
    parts = part_volume(case, grid)[0]
    rows = []
    for a in range(grid.n0):
        sac = np.nonzero(parts[a] == 11)[0]
        if sac.size == 0:
            continue
        edge = int(sac.max())
        il = np.nonzero(parts[a, edge:] == ax.PART_ILIUM)[0]
        if il.size:
            rows.append((a * step - 40.0, edge * step, (edge + int(il.min())) * step))
    return rows


def test_the_sacroiliac_joint_is_a_thin_oblique_cleft_at_s1():
    # at S1-S2 the ilium lies across a thin gap of soft tissue from the ala (not a sliver far
    # lateral of a lens-shaped sacrum), and the cleft runs obliquely in the axial plane, from
    # anterolateral to posteromedial
    for dz in (-12.0, -17.0):
        rows = [(y, e, i) for y, e, i in _si_joint_rows(4, dz) if 0.0 < i - e <= 4.0]
        assert rows, dz
        ys = np.array([r[0] for r in rows])
        edges = np.array([r[1] for r in rows])
        # 20 mm or more of the cleft's AP extent, within which the sacrum's edge moves medially
        # backwards by 5 mm or more
        assert ys.max() - ys.min() >= 20.0, (dz, ys.min(), ys.max())
        back, front = edges[ys > ys.max() - 5.0].mean(), edges[ys < ys.min() + 5.0].mean()
        assert front - back >= 5.0, (dz, front, back)
