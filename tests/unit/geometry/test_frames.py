"""Pixel <-> LPS frames and the radiograph px -> mm scale."""

import numpy as np
import pytest

from app.dicom.model import Geometry
from app.geometry.frames import ProjectionScale, image_plane, lps_to_pixel, pixel_to_lps, plane_from_geometry


def test_pixel_to_lps_axial_plane():
    # axial: rows along +x (L), columns down +y (P)
    plane = image_plane((-100.0, -120.0, 30.0), (1, 0, 0), (0, 1, 0), (0.8, 0.5))
    p = plane.to_lps((10, 20))  # column 10, row 20
    assert np.allclose(p, (-100 + 10 * 0.5, -120 + 20 * 0.8, 30.0))
    back = plane.to_pixel(p)
    assert np.allclose(back, (10, 20))


def test_sagittal_plane_round_trip_many_points():
    # sagittal: row cosine = -y (anterior), column cosine = -z (down)
    plane = image_plane((7.0, 50.0, 80.0), (0, -1, 0), (0, 0, -1), (0.9, 0.7))
    pts = np.array([[0, 0], [100.5, 20.25], [3, 400]])
    lps = plane.to_lps(pts)
    assert lps.shape == (3, 3)
    assert np.allclose(lps[:, 0], 7.0)
    assert np.allclose(lps[1], (7.0, 50.0 - 100.5 * 0.7, 80.0 - 20.25 * 0.9))
    assert np.allclose(plane.to_pixel(lps), pts)
    assert np.allclose(plane.distance_from_plane_mm(lps), 0.0)


def test_plane_from_geometry_matches_ijk_to_lps():
    rot = np.array([[0, 0, 1], [1, 0, 0], [0, -1, 0]], dtype=float)  # i->P? columns are axes
    g = Geometry(origin_lps=(5, -3, 12), spacing_mm=(0.6, 0.8, 3.0), direction=rot, shape_ijk=(64, 48, 10))
    plane = plane_from_geometry(g, 4)
    for ij in [(0, 0), (10, 7), (63, 47)]:
        expected = g.ijk_to_lps(np.array([ij[0], ij[1], 4]))
        assert np.allclose(plane.to_lps(ij), expected)


def test_functional_forms_and_validation():
    lps = pixel_to_lps([(1, 2)], (0, 0, 0), (1, 0, 0), (0, 1, 0), (2.0, 3.0))
    assert np.allclose(lps, [(3.0, 4.0, 0.0)])
    assert np.allclose(lps_to_pixel(lps, (0, 0, 0), (1, 0, 0), (0, 1, 0), (2.0, 3.0)), [(1, 2)])
    with pytest.raises(ValueError):
        image_plane((0, 0, 0), (2, 0, 0), (0, 1, 0), (1, 1))
    with pytest.raises(ValueError):
        image_plane((0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 1))


def test_projection_scale():
    s = ProjectionScale((0.2, 0.1), "ImagerPixelSpacing / magnification")
    assert s.calibrated
    assert np.allclose(s.to_mm((10, 20)), (1.0, 4.0))  # x = col * col spacing, y = row * row spacing
    u = ProjectionScale(None, "uncalibrated (pixels)")
    assert not u.calibrated
    with pytest.raises(ValueError, match="uncalibrated"):
        u.to_mm((1, 1))


def test_one_plane_class_for_viewer_annotations_and_geometry():
    """The MPR plane a view shows is the plane the annotation tools and the geometry use: the
    same class, the same pixel <-> LPS transforms."""
    from app.annotations.space import PixelSpace
    from app.geometry.frames import PlaneSpec
    from app.viewer import mpr

    assert mpr.PlaneSpec is PlaneSpec
    rot = np.array([[0, 0, 1], [1, 0, 0], [0, -1, 0]], dtype=float)
    g = Geometry(origin_lps=(5, -3, 12), spacing_mm=(0.6, 0.8, 3.0), direction=rot, shape_ijk=(64, 48, 10))
    right, down = mpr.screen_axes("sagittal")
    plane = mpr.plane_stack(g, right, down).plane(3)
    pts = [(3.0, 4.0), (20.5, 7.25)]
    lps = PixelSpace.for_plane(plane).points_lps(pts)
    assert np.allclose(lps, [plane.pixel_to_lps(c, r) for c, r in pts])
    assert np.allclose(plane.to_pixel(np.array(lps)), pts)
    assert np.allclose([plane.lps_to_pixel(p)[:2] for p in lps], pts)
