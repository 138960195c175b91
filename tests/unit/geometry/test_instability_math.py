"""Segment translation / angle on one view and flexion-extension differences, hand-computed."""

import pytest

from app.geometry.instability import SegmentGeometryError, motion_between, segment_position

LOWER = ((0.0, 0.0), (40.0, 0.0))  # lower vertebra superior endplate, horizontal, 40 mm deep, facing +column


def test_aligned_segment_has_no_translation_and_parallel_endplates_no_angle():
    pos = segment_position((0.0, -10.0), (40.0, -10.0), *LOWER)
    assert (pos.translation, pos.translation_pct, pos.angle_deg) == pytest.approx((0.0, 0.0, 0.0))


def test_forward_slip_and_lordotic_wedge():
    # upper postero-inferior corner 4 mm anterior; its endplate rises 40 mm over 40 mm (anterior end higher)
    pos = segment_position((4.0, -10.0), (44.0, -50.0), *LOWER)
    assert pos.translation == pytest.approx(4.0)
    assert pos.translation_pct == pytest.approx(10.0)  # 4 of 40 mm
    assert pos.angle_deg == pytest.approx(45.0)  # lower slope 0 minus upper slope -45: lordotic


def test_backward_translation_is_negative_and_mirror_image_agrees():
    pos = segment_position((-2.0, -10.0), (38.0, -10.0), *LOWER)
    assert pos.translation == pytest.approx(-2.0) and pos.translation_pct == pytest.approx(-5.0)
    mirror = lambda p: (-p[0], p[1])  # noqa: E731
    left = segment_position(mirror((4.0, -10.0)), mirror((44.0, -50.0)), mirror(LOWER[0]), mirror(LOWER[1]))
    assert (left.translation, left.translation_pct, left.angle_deg) == pytest.approx((4.0, 10.0, 45.0))


def test_translation_is_measured_along_a_tilted_lower_endplate():
    # lower endplate tilted 30 deg (anterior end lower); upper corner 5 mm along it from the posterior corner
    import math

    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    lower = ((0.0, 0.0), (40 * c, 40 * s))
    corner = (5 * c - 3 * s, 5 * s + 3 * c - 10 * c)  # off the plate
    pos = segment_position(corner, (corner[0] + 40 * c, corner[1] + 40 * s), *lower)
    # exact: offset = (5c - 3s, 5s + 3c - 10c); along u = (c, s): 5 - 10 c s
    assert pos.translation == pytest.approx(5.0 - 10 * c * s)
    assert pos.angle_deg == pytest.approx(0.0)


def test_flexion_extension_differences():
    flexion = segment_position((4.0, -10.0), (44.0, -10.0), *LOWER)  # 4 mm forward, parallel
    extension = segment_position((-1.0, -10.0), (39.0, -50.0), *LOWER)  # 1 mm back, 45 deg lordotic
    motion = motion_between(flexion, extension)
    assert motion.translation == pytest.approx(5.0)
    assert motion.translation_pct == pytest.approx(12.5)
    assert motion.angulation_deg == pytest.approx(45.0)
    assert motion_between(extension, flexion) == motion


@pytest.mark.parametrize("points, needle", [
    (((0, -10), (40, -10), (0, 0), (0, 0)), "lower endplate coincide"),
    (((0, -10), (40, -10), (0, 0), (0, 30)), "vertical"),
    (((0, -10), (0, -10), (0, 0), (40, 0)), "upper endplate coincide"),
])
def test_degenerate_segments_are_refused(points, needle):
    with pytest.raises(SegmentGeometryError, match=needle):
        segment_position(*points)
