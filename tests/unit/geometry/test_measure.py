"""Measurement maths: known coordinates, boundary cases, and invariance properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from app.findings.model import MeyerdingGrade, meyerding_grade
from app.geometry import measure as m


def rot2(deg):
    t = math.radians(deg)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


def slip_points(pct, width=40.0, drop=10.0):
    """S1 endplate along +x from (0,0) to (width,0); L5 corner above, shifted by pct % anteriorly."""
    p = np.array([0.0, 0.0])
    a = np.array([width, 0.0])
    c = np.array([width * pct / 100.0, drop])
    return p, a, c


# --------------------------------------------------------------------------- distances and angles

def test_distance_2d_and_3d():
    assert m.distance_mm((0, 0), (3, 4)) == pytest.approx(5.0)
    assert m.distance_mm((1, 2, 3), (1, 2, 13)) == pytest.approx(10.0)
    with pytest.raises(m.GeometryError):
        m.distance_mm((0, 0), (1, 2, 3))


def test_angle_deg_three_points():
    assert m.angle_deg((1, 0), (0, 0), (0, 1)) == pytest.approx(90.0)
    assert m.angle_deg((1, 0), (0, 0), (1, 1)) == pytest.approx(45.0)
    assert m.angle_deg((1, 0), (0, 0), (-1, 0)) == pytest.approx(180.0)
    assert m.angle_deg((1, 0, 0), (0, 0, 0), (0, 0, 5)) == pytest.approx(90.0)
    with pytest.raises(m.GeometryError):
        m.angle_deg((0, 0), (0, 0), (1, 1))


def test_line_and_cobb_angles():
    assert m.line_angle_deg(((0, 0), (10, 0)), ((0, 0), (10, 10))) == pytest.approx(45.0)
    # undirected: reversing a line does not change the acute angle
    assert m.line_angle_deg(((10, 0), (0, 0)), ((0, 0), (10, 10))) == pytest.approx(45.0)
    # endplates tilted +20 and -15 degrees -> Cobb 35
    l1 = ((0, 0), (math.cos(math.radians(20)), math.sin(math.radians(20))))
    l2 = ((0, 5), (math.cos(math.radians(-15)), 5 + math.sin(math.radians(-15))))
    assert m.cobb_angle_deg(l1, l2) == pytest.approx(35.0)
    # parallel lines: 0
    assert m.cobb_angle_deg(((0, 0), (1, 0)), ((0, 3), (5, 3))) == pytest.approx(0.0, abs=1e-9)


def test_polygon_area_square_and_3d():
    sq = [(0, 0), (10, 0), (10, 10), (0, 10)]
    assert m.polygon_area_mm2(sq) == pytest.approx(100.0)
    sq3 = [(5, 0, 0), (5, 10, 0), (5, 10, 10), (5, 0, 10)]  # sagittal plane in LPS
    assert m.polygon_area_mm2(sq3) == pytest.approx(100.0)
    assert m.polygon_area_mm2(sq[:2]) == 0.0


# --------------------------------------------------------------------------- masks and ROI stats

def test_ellipse_mask_counts_pixel_centres():
    mask = m.ellipse_mask((21, 21), (10, 10), (5, 3))
    assert mask[10, 10] and mask[10, 15] and mask[13, 10]
    assert not mask[10, 16] and not mask[14, 10]
    # pixel count close to the analytic area
    assert abs(mask.sum() - math.pi * 5 * 3) < 8


def test_polygon_mask_rectangle_and_triangle():
    rect = m.polygon_mask((20, 30), [(4.5, 2.5), (9.5, 2.5), (9.5, 6.5), (4.5, 6.5)])
    assert rect.sum() == 5 * 4  # columns 5..9, rows 3..6
    assert rect[3, 5] and rect[6, 9] and not rect[2, 5] and not rect[3, 10]
    tri = m.polygon_mask((100, 100), [(0, 0), (99, 0), (0, 99)])
    assert abs(tri.sum() - 99 * 99 / 2) < 150


def test_roi_stats_on_synthetic_image():
    img = np.zeros((50, 60), dtype=np.int16)
    img[10:20, 10:30] = 100
    img[10:20, 30:40] = 300
    mask = np.zeros_like(img, dtype=bool)
    mask[10:20, 20:40] = True  # half 100, half 300
    s = m.roi_stats(img, mask, pixel_spacing_mm=(0.5, 0.25))
    assert s.n == 200
    assert s.mean == pytest.approx(200.0)
    assert s.sd == pytest.approx(np.std([100] * 100 + [300] * 100, ddof=1))
    assert s.area_mm2 == pytest.approx(200 * 0.125)
    assert m.roi_stats(img, mask).area_mm2 is None
    empty = m.roi_stats(img, np.zeros_like(mask))
    assert empty.n == 0 and math.isnan(empty.mean)
    with pytest.raises(m.GeometryError):
        m.roi_stats(img, mask[:10])


# --------------------------------------------------------------------------- percent slip

@pytest.mark.parametrize("pct,grade", [(24.9, MeyerdingGrade.I), (25.0, MeyerdingGrade.I), (25.1, MeyerdingGrade.II),
                                       (50.0, MeyerdingGrade.II), (50.1, MeyerdingGrade.III), (100.0, MeyerdingGrade.IV),
                                       (100.5, MeyerdingGrade.V)])
def test_percent_slip_boundaries(pct, grade):
    p, a, c = slip_points(pct)
    res = m.percent_slip(p, a, c)
    assert res.percent == pytest.approx(pct, abs=1e-9)
    assert res.direction == m.ANTEROLISTHESIS
    assert meyerding_grade(res.percent) is grade


@pytest.mark.parametrize("deg", [0, 17, 90, 133, 180, 241, 300])
@pytest.mark.parametrize("pct,grade", [(24.9, MeyerdingGrade.I), (25.0, MeyerdingGrade.I), (25.1, MeyerdingGrade.II)])
def test_percent_slip_boundaries_in_rotated_frames(deg, pct, grade):
    p, a, c = slip_points(pct, width=37.3)
    r = rot2(deg)
    shift = np.array([123.4, -56.7])
    res = m.percent_slip(r @ p + shift, r @ a + shift, r @ c + shift)
    assert res.percent == pytest.approx(pct, abs=1e-6)
    assert meyerding_grade(res.percent) is grade


def test_percent_slip_in_image_pixels_with_rows_down():
    # lateral radiograph, anterior to the left (smaller column), caudal = larger row
    s1_ps, s1_as = (300.0, 400.0), (200.0, 410.0)
    width = math.dist(s1_ps, s1_as)
    u = (np.subtract(s1_as, s1_ps)) / width
    l5 = np.array(s1_ps) + 0.18 * width * u + np.array([-u[1], u[0]]) * -15  # 18 % anterior, 15 px cranial
    res = m.percent_slip(s1_ps, s1_as, l5)
    assert res.percent == pytest.approx(18.0, abs=1e-6)
    assert res.direction == m.ANTEROLISTHESIS


def test_percent_slip_unpacks_as_percent_and_direction():
    p, a, c = slip_points(30.0)
    percent, direction = m.percent_slip(p, a, c)
    assert percent == pytest.approx(30.0) and direction == m.ANTEROLISTHESIS


def test_retrolisthesis_direction():
    p, a, c = slip_points(-12.5)
    res = m.percent_slip(p, a, c)
    assert res.direction == m.RETROLISTHESIS
    assert res.percent == pytest.approx(12.5)
    assert res.signed_percent == pytest.approx(-12.5)


def test_zero_slip_is_no_listhesis():
    p, a, c = slip_points(0.0)
    res = m.percent_slip(p, a, c)
    assert res.percent == 0.0 and res.direction == m.ANTEROLISTHESIS
    assert meyerding_grade(res.percent) is None


def test_percent_slip_3d_points_on_a_sagittal_plane():
    # sagittal plane x = 12 mm; anterior = -y in LPS (P is +y), superior = +z
    x = 12.0
    s1_ps = (x, 20.0, -100.0)
    s1_as = (x, -20.0, -104.0)  # endplate tilted (sacral slope)
    d = np.subtract(s1_as, s1_ps)
    w = np.linalg.norm(d)
    u = d / w
    normal_in_plane = np.cross(u, (1.0, 0.0, 0.0))
    l5 = np.array(s1_ps) + 0.30 * w * u + 8.0 * normal_in_plane
    res = m.percent_slip(s1_ps, s1_as, l5)
    assert res.percent == pytest.approx(30.0, abs=1e-6)
    assert res.direction == m.ANTEROLISTHESIS
    assert res.endplate_width == pytest.approx(w)


def test_technique_2_posterior_wall_tangent():
    # L5 tilted forward: the posterior wall line meets the endplate further anterior than the corner
    p, a = (0.0, 0.0), (40.0, 0.0)
    c = (10.0, 5.0)  # corner 25 % anterior, 5 above the endplate
    top = (16.0, 35.0)  # wall leaning anteriorly going up
    t1 = m.percent_slip(p, a, c)
    t2 = m.percent_slip(p, a, c, technique=m.POSTERIOR_WALL_TANGENT, l5_posterior_wall_top=top)
    # wall: x = 10 + (y-5)*6/30 -> at y=0 x = 9
    assert t1.percent == pytest.approx(25.0)
    assert t2.percent == pytest.approx(100 * 9 / 40)
    assert t2.technique == m.POSTERIOR_WALL_TANGENT
    # wall leaning posteriorly going up -> intersection anterior of the corner
    t2b = m.percent_slip(p, a, c, technique=m.POSTERIOR_WALL_TANGENT, l5_posterior_wall_top=(4.0, 35.0))
    assert t2b.percent == pytest.approx(100 * 11 / 40)


def test_technique_2_errors():
    with pytest.raises(m.GeometryError, match="wall top"):
        m.percent_slip((0, 0), (1, 0), (0.2, 0.1), technique=m.POSTERIOR_WALL_TANGENT)
    with pytest.raises(m.GeometryError, match="parallel"):
        m.percent_slip((0, 0), (1, 0), (0.2, 0.1), technique=m.POSTERIOR_WALL_TANGENT, l5_posterior_wall_top=(5, 0.1))
    with pytest.raises(m.GeometryError, match="coincide"):
        m.percent_slip((0, 0), (0, 0), (0.2, 0.1))
    with pytest.raises(m.GeometryError, match="unknown"):
        m.percent_slip((0, 0), (1, 0), (0.2, 0.1), technique="eyeball")


def test_technique_accepts_findings_enum():
    from app.findings.model import SlipTechnique
    res = m.percent_slip((0, 0), (40, 0), (8, 4), technique=SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR)
    assert res.percent == pytest.approx(20.0)
    assert SlipTechnique(res.technique) is SlipTechnique.POSTERIOR_CORNER_PERPENDICULAR


# --------------------------------------------------------------------------- slip angle

def _slip_angle_case(tilt_deg, frame_rot=0.0, flip_rows=False):
    """S1 posterior wall vertical (cranial = +y), anterior = +x. L5 endplate tilted so its
    anterior end goes DOWN by tilt_deg (kyphotic positive)."""
    wall = np.array([[0.0, 0.0], [0.0, -30.0]])  # superior, inferior
    t = math.radians(tilt_deg)
    e0 = np.array([2.0, 8.0])
    e1 = e0 + 35 * np.array([math.cos(t), -math.sin(t)])
    pts = np.vstack([e0, e1, wall])
    pts = pts @ rot2(frame_rot).T
    if flip_rows:
        pts[:, 1] = -pts[:, 1]  # image rows point down: a reflected frame
    return (pts[0], pts[1]), (pts[2], pts[3])


@pytest.mark.parametrize("tilt", [-20.0, -5.0, 0.0, 12.0, 40.0])
@pytest.mark.parametrize("rot", [0.0, 33.0, 200.0])
@pytest.mark.parametrize("flip", [False, True])
def test_slip_angle_sign_and_value(tilt, rot, flip):
    endplate, wall = _slip_angle_case(tilt, rot, flip)
    assert m.slip_angle_deg(endplate, wall) == pytest.approx(tilt, abs=1e-9)
    # with an anterior hint the endplate point order does not matter
    ant = np.array([1.0, 0.0]) @ rot2(rot).T
    if flip:
        ant[1] = -ant[1]
    assert m.slip_angle_deg(endplate[::-1], wall, anterior_direction=ant) == pytest.approx(tilt, abs=1e-9)


def test_slip_angle_3d_sagittal():
    # LPS sagittal plane x = 0: cranial = +z, anterior = -y
    wall = ((0.0, 10.0, 0.0), (0.0, 12.0, -30.0))  # wall leaning: superior end more anterior
    cranial = np.subtract(wall[0], wall[1])
    cranial /= np.linalg.norm(cranial)
    perp = np.cross((1.0, 0.0, 0.0), cranial)  # in plane, perpendicular to the wall
    if perp @ (0, -1, 0) < 0:
        perp = -perp  # point anteriorly
    t = math.radians(15)
    e_dir = math.cos(t) * perp - math.sin(t) * cranial  # anterior end down: kyphotic 15
    e0 = np.array((0.0, 8.0, 10.0))
    endplate = (e0, e0 + 30 * e_dir)
    assert m.slip_angle_deg(endplate, wall) == pytest.approx(15.0, abs=1e-9)


# --------------------------------------------------------------------------- properties

coord = st.floats(-500, 500, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(pct=st.floats(-60, 160), width=st.floats(5, 80), drop=st.floats(-20, 40),
       angle=st.floats(0, 360), tx=coord, ty=coord, scale=st.floats(0.05, 20), mirror=st.booleans())
def test_percent_slip_invariant_under_similarity(pct, width, drop, angle, tx, ty, scale, mirror):
    p, a, c = slip_points(pct, width, drop)
    base = m.percent_slip(p, a, c)
    r = rot2(angle) * scale
    if mirror:
        r = r @ np.diag([1.0, -1.0])
    t = np.array([tx, ty])
    moved = m.percent_slip(r @ p + t, r @ a + t, r @ c + t)
    assert moved.signed_percent == pytest.approx(base.signed_percent, abs=1e-4)
    assert base.signed_percent == pytest.approx(pct, abs=1e-4)


@settings(max_examples=150, deadline=None)
@given(pct=st.floats(-40, 120), drop=st.floats(1, 40), lean=st.floats(-0.5, 0.5),
       q=st.lists(st.floats(-1, 1), min_size=4, max_size=4).filter(lambda v: sum(x * x for x in v) > 0.1),
       tx=coord, ty=coord, tz=coord, scale=st.floats(0.1, 10))
def test_percent_slip_3d_rigid_motion_both_techniques(pct, drop, lean, q, tx, ty, tz, scale):
    p, a, c = slip_points(pct, 40.0, drop)
    top = c + np.array([lean * 30.0, 30.0])
    q = np.array(q) / np.linalg.norm(q)
    w, x, y, z = q
    rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    t = np.array([tx, ty, tz])

    def lift(v):
        return scale * (rot @ np.array([v[0], v[1], 0.0])) + t

    for tech, kw in ((m.POSTERIOR_CORNER_PERPENDICULAR, {}), (m.POSTERIOR_WALL_TANGENT, {"l5_posterior_wall_top": top})):
        base = m.percent_slip(p, a, c, technique=tech, **kw)
        kw3 = {k: lift(v) for k, v in kw.items()}
        moved = m.percent_slip(lift(p), lift(a), lift(c), technique=tech, **kw3)
        assert moved.signed_percent == pytest.approx(base.signed_percent, abs=1e-4)


@settings(max_examples=150, deadline=None)
@given(tilt=st.floats(-80, 80), angle=st.floats(0, 360), scale=st.floats(0.1, 10), tx=coord, ty=coord,
       mirror=st.booleans())
def test_slip_angle_invariant_under_similarity(tilt, angle, scale, tx, ty, mirror):
    endplate, wall = _slip_angle_case(tilt)
    r = rot2(angle) * scale
    if mirror:
        r = r @ np.diag([-1.0, 1.0])
    t = np.array([tx, ty])
    e2 = [r @ v + t for v in endplate]
    w2 = [r @ v + t for v in wall]
    assert m.slip_angle_deg(e2, w2) == pytest.approx(tilt, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(pts=st.lists(st.tuples(coord, coord), min_size=3, max_size=8), angle=st.floats(0, 360), tx=coord, ty=coord)
def test_polygon_area_invariant_under_rigid_motion(pts, angle, tx, ty):
    a = np.array(pts)
    r = rot2(angle)
    moved = a @ r.T + np.array([tx, ty])
    assert m.polygon_area(moved) == pytest.approx(m.polygon_area(a), rel=1e-6, abs=1e-3)


@settings(max_examples=100, deadline=None)
@given(p1=st.tuples(coord, coord), v=st.tuples(coord, coord), p3=st.tuples(coord, coord), angle=st.floats(0, 360))
def test_angle_invariant_under_rotation(p1, v, p3, angle):
    if min(math.dist(p1, v), math.dist(p3, v)) < 1e-3:
        return
    r = rot2(angle)
    a0 = m.angle_deg(p1, v, p3)
    a1 = m.angle_deg(r @ p1, r @ v, r @ p3)
    assert a1 == pytest.approx(a0, abs=1e-6)
    assert 0.0 <= a0 <= 180.0


@pytest.mark.parametrize("pct,grade", [(24.9, MeyerdingGrade.I), (25.0, MeyerdingGrade.I), (25.1, MeyerdingGrade.II)])
@pytest.mark.parametrize("tilt_deg", [0.0, 35.0, -20.0])
def test_percent_slip_boundaries_3d_sagittal_lps(pct, grade, tilt_deg):
    """Landmarks on an LPS sagittal plane (x = -3 mm), endplate tilted by the sacral slope."""
    t = math.radians(tilt_deg)
    ant = np.array([0.0, -math.cos(t), -math.sin(t)])  # anterior = -y, tilted in the y-z plane
    cranial = np.cross((1.0, 0.0, 0.0), ant)
    cranial = cranial if cranial[2] > 0 else -cranial
    p = np.array([-3.0, 25.0, -90.0])
    width = 41.7
    a = p + width * ant
    c = p + pct / 100.0 * width * ant + 9.0 * cranial
    res = m.percent_slip(p, a, c)
    assert res.percent == pytest.approx(pct, abs=1e-6)
    assert meyerding_grade(res.percent) is grade


@settings(max_examples=100, deadline=None)
@given(c0=st.integers(0, 40), r0=st.integers(0, 40), w=st.integers(1, 20), h=st.integers(1, 20),
       reverse=st.booleans())
def test_polygon_mask_rectangle_pixel_count_equals_area(c0, r0, w, h, reverse):
    # corners on pixel edges (half-integers): exactly w*h pixel centres inside, in any vertex order
    verts = [(c0 - 0.5, r0 - 0.5), (c0 + w - 0.5, r0 - 0.5), (c0 + w - 0.5, r0 + h - 0.5), (c0 - 0.5, r0 + h - 0.5)]
    if reverse:
        verts = verts[::-1]
    mask = m.polygon_mask((70, 70), verts)
    assert mask.sum() == w * h == m.polygon_area(verts)
    assert mask[r0, c0] and mask[r0 + h - 1, c0 + w - 1]
