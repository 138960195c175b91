import numpy as np
import pytest

from app.dicom.model import Geometry
from app.viewer import mpr

# every resampling test runs on both paths: SimpleITK (the render path) and numpy (the bundle's fallback)
BACKENDS = ("numpy", "sitk")


def _geometry(shape=(40, 36, 30), spacing=(0.8, 0.9, 1.5), direction=None, origin=(-10.0, 5.0, 20.0)):
    return Geometry(np.array(origin), np.array(spacing), np.eye(3) if direction is None else direction, shape)


def _smooth_volume(g):
    ni, nj, nk = g.shape_ijk
    k, j, i = np.meshgrid(np.arange(nk), np.arange(nj), np.arange(ni), indexing="ij")
    return (100 * np.sin(i / 5.0) + 80 * np.cos(j / 4.0) + 3 * k * k / 10 + 5 * i * j / 50).astype(np.float32)


def _oblique_plane(g, angle_a=25, angle_b=15, rows=48, cols=40, sp=0.7):
    rot = mpr.rotation_matrix((0, 0, 1), angle_a) @ mpr.rotation_matrix((1, 0, 0), angle_b)
    right, down = rot @ np.array([0, 1.0, 0]), rot @ np.array([0, 0, -1.0])
    c = mpr.volume_center_lps(g)
    origin = c - (cols - 1) / 2 * sp * right - (rows - 1) / 2 * sp * down
    return mpr.PlaneSpec(origin, right, down, (sp, sp), (rows, cols))


def _sitk_reslice(array, g, plane, interpolator="linear", fill=-999.0):
    sitk = pytest.importorskip("SimpleITK")
    img = sitk.GetImageFromArray(array)  # numpy [k, j, i] -> sitk (i, j, k)
    img.SetOrigin(tuple(g.origin_lps))
    img.SetSpacing(tuple(g.spacing_mm))
    img.SetDirection(tuple(g.direction.ravel()))
    ref = sitk.Image(plane.shape[1], plane.shape[0], 1, sitk.sitkFloat32)
    ref.SetOrigin(tuple(plane.origin_lps))
    ref.SetSpacing((plane.spacing_mm[1], plane.spacing_mm[0], 1.0))
    d = np.stack([plane.right_lps, plane.down_lps, plane.normal_lps], axis=1)
    ref.SetDirection(tuple(d.ravel()))
    interp = sitk.sitkLinear if interpolator == "linear" else sitk.sitkNearestNeighbor
    out = sitk.Resample(img, ref, sitk.Transform(), interp, fill, sitk.sitkFloat32)
    return sitk.GetArrayFromImage(out)[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_oblique_trilinear_matches_simpleitk(backend):
    g = _geometry()
    a = _smooth_volume(g)
    plane = _oblique_plane(g)
    ours = mpr.reslice(a, g, plane, order=1, fill=-999.0, backend=backend)
    ref = _sitk_reslice(a, g, plane)
    inside = (ref != -999.0) & (ours != -999.0)
    assert inside.sum() > 0.8 * ref.size
    assert np.allclose(ours[inside], ref[inside], atol=1e-2, rtol=1e-4)
    # both agree on which pixels fall outside the volume, apart from the boundary half-voxel
    assert np.mean((ref == -999.0) != (ours == -999.0)) < 0.02


@pytest.mark.parametrize("backend", BACKENDS)
def test_oblique_with_rotated_volume_direction_matches_simpleitk(backend):
    rot = mpr.rotation_matrix((0.2, 1, 0.1), 20)
    g = _geometry(direction=rot)
    a = _smooth_volume(g)
    plane = _oblique_plane(g, 40, -10)
    ours = mpr.reslice(a, g, plane, order=1, fill=-999.0, backend=backend)
    ref = _sitk_reslice(a, g, plane)
    inside = (ref != -999.0) & (ours != -999.0)
    assert inside.sum() > 0.5 * ref.size
    assert np.allclose(ours[inside], ref[inside], atol=1e-2, rtol=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nearest_matches_simpleitk_nearest(backend):
    g = _geometry()
    a = _smooth_volume(g).astype(np.int16)
    plane = _oblique_plane(g, 33, 7)
    ours = mpr.reslice(a, g, plane, order=0, fill=-999, backend=backend)
    ref = _sitk_reslice(a.astype(np.float32), g, plane, "nearest")
    inside = (ref != -999.0) & (ours != -999)
    # rounding ties can differ at exactly half-voxel positions: allow a tiny fraction
    assert np.mean(ours[inside] != ref[inside]) < 0.01


def test_aligned_planes_equal_array_slices():
    g = _geometry()
    a = _smooth_volume(g)
    st = mpr.plane_stack(g, *mpr.screen_axes("axial"))
    assert st.count == g.shape_ijk[2]
    assert st.base.shape == (g.shape_ijk[1], g.shape_ijk[0])
    # axial index n shows slice k = n (stack runs inferior -> superior, identity direction)
    assert np.array_equal(mpr.reslice(a, g, st.plane(7)), a[7])
    sag = mpr.plane_stack(g, *mpr.screen_axes("sagittal"))
    assert sag.count == g.shape_ijk[0]
    assert sag.base.spacing_mm == (1.5, 0.9)  # non-square pixels: rows along k, columns along j
    img = mpr.reslice(a, g, sag.plane(0))
    # sagittal stack normal is patient right (-x): index 0 is the leftmost column i = ni-1
    assert np.array_equal(img, a[::-1, :, g.shape_ijk[0] - 1])


def test_aligned_fast_path_agrees_with_general_trilinear():
    g = _geometry()
    a = _smooth_volume(g)
    st = mpr.plane_stack(g, *mpr.screen_axes("coronal"))
    plane = st.plane(10).shifted(0.37)  # between two voxel planes
    fast = mpr.reslice(a, g, plane)
    # perturb the direction imperceptibly to force the general path
    tilted = mpr.PlaneSpec(plane.origin_lps, plane.right_lps + 1e-9, plane.down_lps, plane.spacing_mm, plane.shape)
    general = mpr.reslice(a, g, tilted)
    assert np.allclose(fast, general, atol=1e-3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_thick_slab_mip_and_mean(backend):
    g = _geometry()
    a = np.zeros((30, 36, 40), dtype=np.int16)
    a[15, 10, 10] = 1000
    st = mpr.plane_stack(g, *mpr.screen_axes("axial"))
    thin = mpr.reslice(a, g, st.plane(13))
    assert thin.max() == 0
    mip = mpr.reslice(a, g, st.plane(13), slab_mm=8.0, slab_mode="mip", backend=backend)
    assert mip.max() == pytest.approx(1000, abs=1)
    mean = mpr.reslice(a, g, st.plane(13), slab_mm=8.0, slab_mode="mean", backend=backend)
    assert 0 < mean.max() < 500


def test_plane_pixel_lps_roundtrip():
    g = _geometry()
    plane = _oblique_plane(g)
    p = plane.pixel_to_lps(12.5, 7.25)
    c, r, dist = plane.lps_to_pixel(p)
    assert (c, r) == pytest.approx((12.5, 7.25)) and dist == pytest.approx(0)
    q = p + 3.0 * plane.normal_lps
    assert plane.lps_to_pixel(q)[2] == pytest.approx(3.0)


def test_stack_index_containing_point():
    g = _geometry()
    st = mpr.plane_stack(g, *mpr.screen_axes("axial"))
    point = g.ijk_to_lps(np.array([5.0, 6.0, 17.0]))
    assert st.index_containing(point) == 17
    assert abs(st.plane(17).lps_to_pixel(point)[2]) < 1e-6


def test_geometry_coordinate_transforms_roundtrip():
    rot = mpr.rotation_matrix((1, 2, 3), 37)
    g = _geometry(direction=rot)
    ijk = np.array([[1.0, 2.0, 3.0], [10.5, 0.0, 7.25]])
    assert np.allclose(g.lps_to_ijk(g.ijk_to_lps(ijk)), ijk)
    # one step along i moves spacing_i mm along the first direction column
    d = g.ijk_to_lps(np.array([1.0, 0, 0])) - g.ijk_to_lps(np.array([0.0, 0, 0]))
    assert np.allclose(d, rot[:, 0] * 0.8)


def test_rotation_matrix_is_right_handed():
    r = mpr.rotation_matrix((0, 0, 1), 90)
    assert np.allclose(r @ np.array([1.0, 0, 0]), (0, 1, 0))
