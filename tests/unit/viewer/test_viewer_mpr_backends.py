"""The two resampling paths of app.viewer.mpr: SimpleITK (the render path) and numpy (the
fallback of the packaged bundle, which leaves SimpleITK out) agree, the thick slab is one
resample of a plane stack, and the SimpleITK copy of a volume lives exactly as long as it."""

import gc
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.dicom import sitk_bridge
from app.dicom.model import Geometry
from app.viewer import mpr, slab_reduce

pytest.importorskip("SimpleITK")

ROOT = Path(__file__).resolve().parents[3]


def _geometry(direction=None):
    return Geometry(np.array([-10.0, 5.0, 20.0]), np.array([0.8, 0.9, 1.5]),
                    np.eye(3) if direction is None else direction, (40, 36, 30))


def _volume(g, seed=0):
    """Smooth structure plus noise: interpolation differences stay small, ties stay rare."""
    ni, nj, nk = g.shape_ijk
    k, j, i = np.meshgrid(np.arange(nk), np.arange(nj), np.arange(ni), indexing="ij")
    smooth = 300 * np.sin(i / 4.0) * np.cos(j / 5.0) + 20 * k
    noise = np.random.default_rng(seed).normal(0, 40, smooth.shape)
    return (smooth + noise).astype(np.int16)


def _oblique(g, rows=44, cols=38, sp=0.75):
    rot = mpr.rotation_matrix((0, 0, 1), 28) @ mpr.rotation_matrix((1, 0, 0), 17)
    right, down = rot @ np.array([0, 1.0, 0]), rot @ np.array([0, 0, -1.0])
    c = mpr.volume_center_lps(g)
    return mpr.PlaneSpec(c - (cols - 1) / 2 * sp * right - (rows - 1) / 2 * sp * down, right, down, (sp, sp), (rows, cols))


@pytest.mark.parametrize("direction", [None, mpr.rotation_matrix((0.3, 1, 0.2), 25)])
def test_trilinear_paths_agree_within_interpolation_tolerance(direction):
    g = _geometry(direction)
    a = _volume(g)
    plane = _oblique(g)
    fast = mpr.reslice(a, g, plane, 1, fill=-2000.0, backend="sitk")
    slow = mpr.reslice(a, g, plane, 1, fill=-2000.0, backend="numpy")
    assert fast.shape == slow.shape == plane.shape
    assert fast.dtype == slow.dtype == np.float32
    inside = (fast != -2000.0) & (slow != -2000.0)
    assert inside.mean() > 0.4
    np.testing.assert_allclose(fast[inside], slow[inside], atol=0.05)
    # the outside (fill) regions coincide apart from the half-voxel boundary
    assert np.mean((fast == -2000.0) != (slow == -2000.0)) < 0.03


def test_nearest_paths_agree_and_keep_the_integer_type():
    g = _geometry()
    a = _volume(g)
    plane = _oblique(g)
    fast = mpr.reslice(a, g, plane, 0, fill=-2000, backend="sitk")
    slow = mpr.reslice(a, g, plane, 0, fill=-2000, backend="numpy")
    assert fast.dtype == slow.dtype == np.int16
    assert np.mean(fast != slow) < 0.02  # rounding ties at exact half-voxel positions only


def _max_3x3(x):
    padded = np.pad(x, 1, mode="edge")
    return np.max([padded[dy:dy + x.shape[0], dx:dx + x.shape[1]] for dy in range(3) for dx in range(3)], axis=0)


@pytest.mark.parametrize("backend", ["numpy", "sitk"])
@pytest.mark.parametrize("mode", ["mip", "mean"])
def test_oblique_slab_combines_its_planes(backend, mode):
    g = _geometry()
    a = _volume(g)
    plane = _oblique(g)
    slab = mpr.reslice(a, g, plane, 1, fill=-2000.0, slab_mm=6.0, slab_mode=mode, backend=backend)
    # the planes of the slab: voxel step along the (oblique) normal = the smallest spacing, 0.8 mm
    planes = np.stack([mpr.reslice(a, g, plane.shifted(m * 0.8), 0, fill=-2000, backend="numpy").astype(np.float32)
                       for m in range(-3, 4)])
    ref = planes.max(axis=0) if mode == "mip" else planes.mean(axis=0)
    assert slab.dtype == np.float32 and slab.shape == plane.shape
    if mode == "mean":  # the average slab samples the volume itself, plane by plane
        close = np.isclose(slab, ref, atol=0.01)
        assert close.mean() > 0.97  # nearest-neighbour rounding ties between the two resamplers
        return
    # the MIP samples fewer planes from the max-reduced copy (app.viewer.slab_reduce): every
    # maximum of the voxel-step planes shows within one pixel, and what the MIP shows comes from
    # the voxels near its pixel (the copy moves a voxel by up to one along its reduced axis)
    inside = (ref > -2000) & (slab > -2000)
    assert inside.mean() > 0.4
    assert (_max_3x3(slab) >= ref)[inside].mean() > 0.99
    assert (_max_3x3(_max_3x3(ref)) >= slab)[inside].mean() > 0.95
    assert slab.max() <= a.max()


@pytest.mark.parametrize("backend", ["numpy", "sitk"])
def test_oblique_mip_shows_a_bright_voxel_off_the_plane(backend):
    g = _geometry()
    a = np.zeros((30, 36, 40), np.int16)
    plane = _oblique(g)
    point = plane.pixel_to_lps(19, 22) + 2.4 * plane.normal_lps  # 2.4 mm in front of the plane
    i, j, k = np.rint(g.lps_to_ijk(point)).astype(int)
    a[k, j, i] = 1000
    assert mpr.reslice(a, g, plane, 1, backend=backend).max() < 1000
    mip = mpr.reslice(a, g, plane, 1, slab_mm=8.0, backend=backend)
    row, col = np.unravel_index(np.argmax(mip), mip.shape)
    assert mip.max() == 1000
    assert abs(col - 19) <= 1 and abs(row - 22) <= 1


def test_volume_copy_is_made_once_and_released_with_the_volume():
    g = _geometry()
    a = _volume(g, seed=3)
    before = sitk_bridge.cached_image_count()
    first = sitk_bridge.image_for(a, g, wait=True)
    assert sitk_bridge.image_for(a, g, wait=True) is first
    assert sitk_bridge.cached_image_count() == before + 1
    del a, first
    gc.collect()
    assert sitk_bridge.cached_image_count() == before


def test_volume_above_the_copy_budget_uses_numpy(monkeypatch):
    g = _geometry()
    a = _volume(g)
    plane = _oblique(g)
    monkeypatch.setattr(sitk_bridge, "MAX_CACHED_BYTES", a.nbytes - 1)
    with pytest.raises(RuntimeError, match="MiB"):
        mpr.reslice(a, g, plane, backend="sitk")
    np.testing.assert_array_equal(mpr.reslice(a, g, plane, backend="auto"), mpr.reslice(a, g, plane, backend="numpy"))


def test_bad_backend_and_slab_mode_are_named():
    g = _geometry()
    a = _volume(g)
    with pytest.raises(ValueError, match="gpu"):
        mpr.reslice(a, g, _oblique(g), backend="gpu")
    with pytest.raises(ValueError, match="median"):
        mpr.reslice(a, g, _oblique(g), slab_mm=5.0, slab_mode="median")


def test_without_simpleitk_the_render_path_falls_back_to_numpy():
    """The packaged bundle has no SimpleITK: 'auto' must still render, with the numpy result."""
    code = (
        "import sys; sys.modules['SimpleITK'] = None\n"
        "import numpy as np\n"
        "from app.dicom import sitk_bridge\n"
        "from app.dicom.model import Geometry\n"
        "from app.viewer import mpr\n"
        "g = Geometry(np.zeros(3), np.array([0.8, 0.9, 1.5]), np.eye(3), (20, 18, 16))\n"
        "a = np.random.default_rng(0).integers(-1000, 1000, (16, 18, 20)).astype(np.int16)\n"
        "r = mpr.rotation_matrix((0, 0, 1), 28)\n"
        "p = mpr.PlaneSpec(np.array([1.0, 2.0, 3.0]), r @ np.array([0, 1.0, 0]), r @ np.array([0, 0, -1.0]),\n"
        "                 (0.7, 0.7), (20, 20))\n"
        "assert not sitk_bridge.simpleitk_available(wait=True)\n"
        "auto = mpr.reslice(a, g, p, backend='auto')\n"
        "assert np.array_equal(auto, mpr.reslice(a, g, p, backend='numpy'))\n"
        "assert sitk_bridge.image_for(a, g, wait=True) is None\n"
        "try:\n    mpr.reslice(a, g, p, backend='sitk')\nexcept RuntimeError as e:\n    print('refused:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "refused: SimpleITK resampling requested but SimpleITK is not installed" in out.stdout


@pytest.mark.parametrize("orientation", ["axial", "sagittal", "coronal"])
@pytest.mark.parametrize("mode", ["mip", "mean"])
@pytest.mark.parametrize("where", ["middle", "edge"])
def test_grid_aligned_slab_is_the_reduction_of_its_voxel_slices(orientation, mode, where):
    """Aligned slabs reduce a block of voxel slices in one pass; at the volume's edge the planes
    beyond it count as fill, as they do plane by plane."""
    g = _geometry(np.diag([1.0, -1.0, 1.0]))  # a flipped axis: slices run against the array order
    a = _volume(g, seed=5)
    stack = mpr.plane_stack(g, *mpr.screen_axes(orientation))
    index = stack.count // 2 if where == "middle" else 1
    plane = stack.plane(index)
    slab = mpr.reslice(a, g, plane, slab_mm=6.0, slab_mode=mode, fill=-3000.0)
    half = int(np.floor(3.0 / stack.step_mm + 1e-6))
    planes = np.stack([mpr.reslice(a, g, plane.shifted(m * stack.step_mm), 0, fill=-3000.0).astype(np.float32)
                       for m in range(-half, half + 1)])
    ref = planes.max(axis=0) if mode == "mip" else planes.mean(axis=0)
    assert slab.dtype == np.float32 and slab.shape == plane.shape
    np.testing.assert_allclose(slab, ref, rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize("order", [0, 1])
def test_numpy_path_split_over_two_threads_is_bit_identical(monkeypatch, order):
    g = _geometry()
    a = _volume(g, seed=9)
    plane = _oblique(g, rows=300, cols=240, sp=0.12)  # 72,000 pixels: above the split threshold
    assert plane.shape[0] * plane.shape[1] >= mpr._SPLIT_MIN_PIXELS
    split = mpr.reslice(a, g, plane, order, fill=-2000, backend="numpy")
    monkeypatch.setattr(mpr, "_SPLIT_MIN_PIXELS", 10**9)
    whole = mpr.reslice(a, g, plane, order, fill=-2000, backend="numpy")
    assert split.dtype == whole.dtype and split.shape == plane.shape
    np.testing.assert_array_equal(split, whole)
    fast = mpr.reslice(a, g, plane, order, fill=-2000, backend="sitk")
    inside = (fast != -2000) & (split != -2000)
    if order:
        np.testing.assert_allclose(split[inside], fast[inside], atol=0.05)
    else:
        assert np.mean(split[inside] != fast[inside]) < 0.02


def test_a_volume_simpleitk_cannot_copy_is_resliced_by_numpy():
    """float16 voxels have no SimpleITK pixel type: the copy fails on the warm-up thread, and the
    render path shows the numpy plane instead of raising on every frame."""
    g = _geometry()
    a = _volume(g).astype(np.float16)
    plane = _oblique(g)
    assert sitk_bridge.image_for(a, g, wait=True) is None
    np.testing.assert_array_equal(mpr.reslice(a, g, plane, backend="auto"), mpr.reslice(a, g, plane, backend="numpy"))
    with pytest.raises(RuntimeError, match="could not be made"):
        mpr.reslice(a, g, plane, backend="sitk")


def test_simpleitk_plane_is_the_filter_output_kept_alive_by_the_array():
    """The render path hands out the resampler's output buffer without a copy: the array keeps
    the SimpleITK image alive, stays valid after later frames and is the caller's to write."""
    g = _geometry()
    a = _volume(g)
    plane = _oblique(g)
    first = mpr.reslice(a, g, plane, 1, fill=-2000.0, backend="sitk")
    expected = first.copy()
    for m in range(1, 4):  # the same cached filter makes new frames (other origins)
        mpr.reslice(a, g, plane.shifted(m * 0.5), 1, fill=-2000.0, backend="sitk")
    gc.collect()
    np.testing.assert_array_equal(first, expected)
    assert first.flags.writeable
    first[0, 0] = 7.0
    again = mpr.reslice(a, g, plane, 1, fill=-2000.0, backend="sitk")
    np.testing.assert_array_equal(again, expected)  # the cached filter's next output is not the old buffer


def _bright_voxel_sweep(g, plane, slab_mm, backend, count=60, seed=2):
    """Single bright voxels at random places inside an oblique slab: how many the MIP shows, and
    the largest distance (pixels) from where each one's centre projects to the nearest pixel
    that shows it."""
    rng = np.random.default_rng(seed)
    rows, cols = plane.shape
    shown, worst, tried = 0, 0.0, 0
    while tried < count:
        point = (plane.pixel_to_lps(rng.uniform(4, cols - 5), rng.uniform(4, rows - 5))
                 + rng.uniform(-slab_mm / 2, slab_mm / 2) * plane.normal_lps)
        ijk = np.rint(g.lps_to_ijk(point)).astype(int)
        col, row, dist = plane.lps_to_pixel(g.ijk_to_lps(ijk.astype(float)))
        if abs(dist) > slab_mm / 2:
            continue  # the voxel's centre lies outside the slab
        tried += 1
        a = np.zeros(g.shape_ijk[::-1], np.int16)
        a[ijk[2], ijk[1], ijk[0]] = 1000
        mip = mpr.reslice(a, g, plane, 1, slab_mm=slab_mm, backend=backend)
        if mip.max() == 1000:
            shown += 1
            r, c = np.nonzero(mip == 1000)
            worst = max(worst, float(np.min(np.hypot(r - row, c - col))))
    return shown, worst


@pytest.mark.parametrize("backend", ["numpy", "sitk"])
@pytest.mark.parametrize("direction", [None, mpr.rotation_matrix((0.3, 1, 0.2), 25)])
def test_reduced_oblique_mip_shows_bright_voxels_where_they_are(backend, direction, monkeypatch):
    """Each of 60 single bright voxels inside an oblique 8 mm slab shows at full brightness in
    the MIP from the reduced copy (fewer planes than the voxel-step slab's 11), within 1.5 pixels
    of where it projects, as it does in the voxel-step slab."""
    g = _geometry(direction)
    plane = _oblique(g)
    shown, worst = _bright_voxel_sweep(g, plane, 8.0, backend)
    assert shown == 60
    assert worst <= 1.5
    monkeypatch.setattr(slab_reduce, "FACTOR", 1)  # no reduced copy: the voxel-step planes
    shown_full, worst_full = _bright_voxel_sweep(g, plane, 8.0, backend)
    assert shown_full == 60
    assert worst_full <= 1.5


@pytest.mark.parametrize("backend", ["numpy", "sitk"])
def test_oblique_mean_slab_stays_the_mean_of_its_planes(backend):
    """The average slab does not use the max-reduced copy: one bright voxel adds 1000 / n at its
    place for each of the n = 11 planes (0.8 mm apart for 8 mm) that samples it, not 1000."""
    g = _geometry()
    a = np.zeros((30, 36, 40), np.int16)
    plane = _oblique(g)
    point = plane.pixel_to_lps(19, 22) + 1.6 * plane.normal_lps  # on the plane two steps in front
    i, j, k = np.rint(g.lps_to_ijk(point)).astype(int)
    a[k, j, i] = 1000
    mean = mpr.reslice(a, g, plane, 1, slab_mm=8.0, slab_mode="mean", backend=backend)
    col, row, _ = plane.lps_to_pixel(g.ijk_to_lps(np.array([i, j, k], float)))
    planes = np.stack([mpr.reslice(a, g, plane.shifted(m * 0.8), 0, backend="numpy") for m in range(-5, 6)])
    hits = int((planes == 1000).sum(axis=0).max())  # planes that sample the voxel at one pixel
    assert 1 <= hits < 11  # the voxel (0.8 x 0.9 x 1.5 mm) is sampled by a few of the planes
    assert mean.max() == pytest.approx(hits * 1000 / 11, abs=0.01)
    np.testing.assert_allclose(mean, planes.mean(axis=0), atol=0.01)
    r, c = np.unravel_index(np.argmax(mean), mean.shape)
    assert abs(c - col) <= 1 and abs(r - row) <= 1
    mip = mpr.reslice(a, g, plane, 1, slab_mm=8.0, slab_mode="mip", backend=backend)
    assert mip.max() == 1000


@pytest.mark.parametrize("backend", ["numpy", "sitk"])
def test_reduced_oblique_mip_leaves_out_voxels_well_beyond_its_faces(backend):
    """The reduced copy's voxels reach past their planes; the outermost planes sit inside the
    faces so that a voxel 1.5-3 mm beyond the face of an 8 mm slab does not show."""
    g = _geometry()
    plane = _oblique(g)
    rng = np.random.default_rng(4)
    tried = 0
    while tried < 40:
        d = rng.choice([-1.0, 1.0]) * rng.uniform(5.5, 7.0)
        point = plane.pixel_to_lps(rng.uniform(4, 33), rng.uniform(4, 39)) + d * plane.normal_lps
        ijk = np.rint(g.lps_to_ijk(point)).astype(int)
        if abs(plane.lps_to_pixel(g.ijk_to_lps(ijk.astype(float)))[2]) < 5.5:
            continue
        tried += 1
        a = np.zeros((30, 36, 40), np.int16)
        a[ijk[2], ijk[1], ijk[0]] = 1000
        assert mpr.reslice(a, g, plane, 1, slab_mm=8.0, backend=backend).max() == 0
