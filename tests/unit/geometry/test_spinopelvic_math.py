"""Spino-pelvic maths against hand-computed geometry; PI = PT + SS by construction."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from app.geometry.spinopelvic import SpinoPelvicGeometryError, spinopelvic_angles

# image (column, row) mm, rows increasing caudally; the patient faces +column
S1P, S1A = (0.0, 0.0), (10.0, 10.0)  # anterior end 10 mm lower over 10 mm: SS = 45


def test_hip_axis_straight_below_the_endplate_midpoint():
    a = spinopelvic_angles((5.0, 105.0), (5.0, 105.0), S1P, S1A)
    assert a.sacral_slope_deg == pytest.approx(45.0)
    assert a.pelvic_tilt_deg == pytest.approx(0.0)  # H vertically below M = (5, 5)
    assert a.pelvic_incidence_deg == pytest.approx(45.0)
    assert a.lumbar_lordosis_deg is None


def test_hip_axis_anterior_and_two_heads_averaged():
    # heads at (95, 105) and (115, 105): H = (105, 105); M->H = (100, 100 down): PT = 45
    a = spinopelvic_angles((95.0, 105.0), (115.0, 105.0), S1P, S1A)
    assert a.pelvic_tilt_deg == pytest.approx(45.0)
    assert a.pelvic_incidence_deg == pytest.approx(90.0)  # the perpendicular to a 45 deg plate vs a 45 deg line


def test_hip_axis_posterior_gives_negative_tilt():
    # H = (-95, 105): M->H = (-100, 100 down): PT = -45, PI = 0 (H on the perpendicular)
    a = spinopelvic_angles((-95.0, 105.0), (-95.0, 105.0), S1P, S1A)
    assert a.pelvic_tilt_deg == pytest.approx(-45.0)
    assert a.pelvic_incidence_deg == pytest.approx(0.0, abs=1e-6)


def test_lumbar_lordosis_from_l1_endplate():
    flat_l1 = ((-10.0, -200.0), (10.0, -200.0))  # horizontal: LL = SS - 0
    assert spinopelvic_angles((5, 105), (5, 105), S1P, S1A, *flat_l1).lumbar_lordosis_deg == pytest.approx(45.0)
    up_front = ((0.0, -200.0), (20.0, -220.0))  # anterior end 20 higher over 20: slope -45 -> LL 90
    assert spinopelvic_angles((5, 105), (5, 105), S1P, S1A, *up_front).lumbar_lordosis_deg == pytest.approx(90.0)
    # clicking the L1 corners the other way round measures the same line
    assert spinopelvic_angles((5, 105), (5, 105), S1P, S1A, *up_front[::-1]).lumbar_lordosis_deg == pytest.approx(90.0)
    parallel = ((0.0, -200.0), (10.0, -190.0))  # parallel to S1: no lordosis
    assert spinopelvic_angles((5, 105), (5, 105), S1P, S1A, *parallel).lumbar_lordosis_deg == pytest.approx(0.0)


def test_patient_facing_left_gives_the_same_angles():
    right = spinopelvic_angles((95.0, 105.0), (115.0, 105.0), S1P, S1A, (0.0, -200.0), (20.0, -220.0))
    mirror = lambda p: (-p[0], p[1])  # noqa: E731
    left = spinopelvic_angles(mirror((95.0, 105.0)), mirror((115.0, 105.0)), mirror(S1P), mirror(S1A),
                              mirror((0.0, -200.0)), mirror((20.0, -220.0)))
    assert (left.pelvic_incidence_deg, left.pelvic_tilt_deg, left.sacral_slope_deg, left.lumbar_lordosis_deg) \
        == pytest.approx((right.pelvic_incidence_deg, right.pelvic_tilt_deg, right.sacral_slope_deg,
                          right.lumbar_lordosis_deg))


def test_lps_points_on_a_sagittal_slice():
    # LPS: anterior = -y, cranial = +z. The same geometry as test_hip_axis_anterior...
    to_lps = lambda p: (0.0, -p[0], -p[1])  # noqa: E731
    a = spinopelvic_angles(to_lps((95, 105)), to_lps((115, 105)), to_lps(S1P), to_lps(S1A))
    assert (a.pelvic_incidence_deg, a.pelvic_tilt_deg, a.sacral_slope_deg) == pytest.approx((90.0, 45.0, 45.0))


@pytest.mark.parametrize("args, needle", [
    (((5, 105), (5, 105), (0, 0), (0, 0)), "coincide"),
    (((5, 105), (5, 105), (0, 0), (0, 10)), "vertical"),
    (((5, 5), (5, 5), (0, 0), (10, 10)), "hip axis"),
    (((5, 105), (5, 105), (0, 0), (10, 10), (1, 1), (1, 1)), "L1"),
])
def test_degenerate_landmarks_are_refused_clearly(args, needle):
    with pytest.raises(SpinoPelvicGeometryError, match=needle):
        spinopelvic_angles(*args)


@settings(max_examples=200, deadline=None)
@given(ss=st.floats(-20, 70), pt=st.floats(-30, 50), length=st.floats(20, 300), width=st.floats(20, 60),
       facing=st.sampled_from([1.0, -1.0]), x0=st.floats(-500, 500), y0=st.floats(-500, 500))
def test_pi_equals_pt_plus_ss_by_construction(ss, pt, length, width, facing, x0, y0):
    """Geometry built from chosen SS and PT: the measured SS, PT match and PI = PT + SS."""
    if not 1.0 < pt + ss < 179.0:
        return
    s, t = math.radians(ss), math.radians(pt)
    p = (x0, y0)
    a = (x0 + facing * width * math.cos(s), y0 + width * math.sin(s))  # anterior end lower when ss > 0
    mid = ((p[0] + a[0]) / 2, (p[1] + a[1]) / 2)
    hip = (mid[0] + facing * length * math.sin(t), mid[1] + length * math.cos(t))
    got = spinopelvic_angles(hip, hip, p, a)
    assert got.sacral_slope_deg == pytest.approx(ss, abs=1e-6)
    assert got.pelvic_tilt_deg == pytest.approx(pt, abs=1e-6)
    assert got.pelvic_incidence_deg == pytest.approx(got.pelvic_tilt_deg + got.sacral_slope_deg, abs=1e-6)
