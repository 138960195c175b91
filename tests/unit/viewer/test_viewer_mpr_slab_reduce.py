"""The max-reduced volume copies behind oblique MIP slabs (app.viewer.slab_reduce): each voxel
is the maximum of its block, sits at its block's centre, and the copies are bounded and go with
the volume."""

import gc

import numpy as np
import pytest

from app.dicom.model import Geometry
from app.viewer import mpr, slab_reduce


def _geometry(shape=(11, 10, 8)):
    direction = mpr.rotation_matrix((0.2, 1.0, 0.4), 20)
    return Geometry(np.array([-4.0, 2.0, 7.0]), np.array([0.7, 0.8, 1.25]), direction, shape)


def _volume(g, seed=0):
    return np.random.default_rng(seed).integers(-1000, 3000, g.shape_ijk[::-1]).astype(np.int16)


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("factor", [2, 3])
def test_each_reduced_voxel_is_the_maximum_of_its_block(axis, factor):
    g = _geometry()  # 11, 10 and 8 voxels: the last block of most axes is short
    a = _volume(g)
    reduced = slab_reduce.max_reduce(a, axis, factor)
    n = g.shape_ijk[axis]
    moved = np.moveaxis(a, 2 - axis, 0)
    expected = np.stack([moved[r:r + factor].max(axis=0) for r in range(0, n, factor)])
    np.testing.assert_array_equal(np.moveaxis(reduced, 2 - axis, 0), expected)
    assert reduced.dtype == a.dtype


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_reduced_voxels_sit_at_the_centre_of_their_blocks(axis):
    g = _geometry()
    rg = slab_reduce.reduced_geometry(g, axis, 3)
    assert rg.shape_ijk[axis] == -(-g.shape_ijk[axis] // 3)
    for r in range(g.shape_ijk[axis] // 3):  # full blocks
        ijk = np.array([1.0, 2.0, 3.0])
        ijk[axis] = r
        block = np.repeat(ijk[None], 3, axis=0)
        block[:, axis] = 3 * r + np.arange(3)
        np.testing.assert_allclose(rg.ijk_to_lps(ijk), g.ijk_to_lps(block).mean(axis=0), atol=1e-9)


def test_a_copy_laid_out_along_other_axes_holds_the_same_voxels_at_the_same_places():
    g = _geometry((12, 10, 9))
    a = _volume(g, seed=8)
    natural = slab_reduce.reduced_for(a, g, 0, wait=True)
    swapped = slab_reduce.reduced_for(a, g, 0, (1, 2, 0), wait=True)  # j contiguous, reduced i slowest
    assert natural is not None and swapped is not None
    assert swapped.array.flags.c_contiguous
    assert swapped.geometry.shape_ijk == (10, 9, 4)
    np.testing.assert_array_equal(swapped.array, natural.array.transpose(2, 0, 1))  # [i', k, j]
    xyz = np.array([3.0, 5.0, 2.0])  # (j, k, i') in the swapped copy
    np.testing.assert_allclose(swapped.geometry.ijk_to_lps(xyz), natural.geometry.ijk_to_lps(xyz[[2, 0, 1]]))
    with pytest.raises(ValueError, match="permutation"):
        slab_reduce.reduced_for(a, g, 0, (0, 0, 1))
    slab_reduce.drop(a)


def test_copies_are_made_once_bounded_per_volume_and_go_with_it():
    g = _geometry((30, 27, 24))
    a = _volume(g, seed=4)
    before = slab_reduce.cached_bytes()
    first = slab_reduce.reduced_for(a, g, 0, wait=True)
    assert first is not None
    assert slab_reduce.reduced_for(a, g, 0, wait=True) is first
    np.testing.assert_array_equal(first.array, slab_reduce.max_reduce(a, 0, slab_reduce.FACTOR))
    assert not first.array.flags.writeable
    assert slab_reduce.cached_bytes() - before == a.nbytes // 3
    slab_reduce.reduced_for(a, g, 1, wait=True)
    slab_reduce.reduced_for(a, g, 2, wait=True)  # a third axis drops the least recently used (i)
    assert slab_reduce.cached_bytes() - before == 2 * a.nbytes // 3
    assert slab_reduce.reduced_for(a, g, 0, wait=True) is not first
    slab_reduce.drop(a)
    assert slab_reduce.cached_bytes() == before
    slab_reduce.reduced_for(a, g, 1, wait=True)
    del a, first
    gc.collect()
    assert slab_reduce.cached_bytes() == before


def test_a_volume_whose_copy_is_above_the_budget_gets_none(monkeypatch):
    from app.dicom import sitk_bridge

    g = _geometry()
    a = _volume(g)
    monkeypatch.setattr(sitk_bridge, "MAX_CACHED_BYTES", a.nbytes // 3 - 1)
    assert slab_reduce.reduced_for(a, g, 0, factor=3, wait=True) is None


def test_a_volume_above_the_budget_keeps_one_copy_at_most(monkeypatch):
    """A whole-spine CT (above the SimpleITK copy budget) gets the slab's copy when the copy fits
    in the budget, but only one: a second axis replaces it."""
    from app.dicom import sitk_bridge

    g = _geometry()
    a = _volume(g)
    monkeypatch.setattr(sitk_bridge, "MAX_CACHED_BYTES", a.nbytes - 1)
    first = slab_reduce.reduced_for(a, g, 0, factor=3, wait=True)
    assert first is not None
    np.testing.assert_array_equal(first.array, slab_reduce.max_reduce(a, 0, 3))
    assert slab_reduce.reduced_for(a, g, 1, factor=3, wait=True) is not None
    assert slab_reduce.copy_count(a) == 1


def test_a_memory_mapped_volume_keeps_one_copy_across_frames(tmp_path):
    """np.asarray of an np.memmap is a new object each call: the render path must key the copies
    by the volume's own array, or every frame would start a new one."""
    g = _geometry((30, 27, 24))
    a = np.memmap(tmp_path / "v.raw", dtype=np.int16, mode="w+", shape=g.shape_ijk[::-1])
    a[:] = _volume(g, seed=6)
    rot = mpr.rotation_matrix((0, 0, 1), 25)
    plane = mpr.PlaneSpec(mpr.volume_center_lps(g), rot @ np.array([0, 1.0, 0]), rot @ np.array([0, 0, -1.0]),
                          (0.7, 0.7), (20, 20))
    before = slab_reduce.cached_bytes()
    for _ in range(3):
        mpr.reslice(a, g, plane, slab_mm=10.0, backend="sitk")
    assert slab_reduce.cached_bytes() - before == a.nbytes // 3
    slab_reduce.drop(a)


@pytest.mark.parametrize("axis", [0, 2])
@pytest.mark.parametrize("order", [(0, 1, 2), (1, 0, 2), (1, 2, 0), (2, 0, 1)])
def test_every_layout_is_built_slice_block_by_block_to_the_same_voxels(axis, order):
    """The copy is built a few slices at a time (several blocks here, the last one short)."""
    g = _geometry((31, 20, 26))
    a = _volume(g, seed=9)
    copy = slab_reduce.reduced_for(a, g, axis, order, wait=True)
    assert copy is not None
    natural = slab_reduce.max_reduce(a, axis, slab_reduce.FACTOR)  # [k, j, i]
    np.testing.assert_array_equal(copy.array, natural.transpose([2 - b for b in order[::-1]]))
    slab_reduce.drop(a)


def _tilted_plane(g, normal_axis_lps, angle_a, angle_b):
    """A 0.7 mm plane whose normal is tilted from ``normal_axis_lps`` by two rotations."""
    rot = mpr.rotation_matrix((0, 0, 1), angle_a) @ mpr.rotation_matrix((1, 0, 0), angle_b)
    if normal_axis_lps == "x":  # sagittal-like: right = +y, down = -z, normal -x
        right, down = rot @ np.array([0, 1.0, 0]), rot @ np.array([0, 0, -1.0])
    else:  # axial-like: right = +x, down = +y, normal +z
        rot = mpr.rotation_matrix((1, 0, 0), angle_a) @ mpr.rotation_matrix((0, 1, 0), angle_b)
        right, down = rot @ np.array([1.0, 0, 0]), rot @ np.array([0, 1.0, 0])
    return mpr.PlaneSpec(mpr.volume_center_lps(g), right, down, (0.7, 0.7), (40, 40))


def test_the_reduction_factor_keeps_a_reduced_voxel_within_one_and_a_half_pixels():
    """Factor 3 for the bench's tilt, 2 for a steep one, none (the voxel-step slab) across thick
    slices: one reduced voxel's long side, projected on the plane, stays within 1.5 pixels."""
    thin = Geometry(np.zeros(3), np.array([0.7, 0.7, 1.0]), np.eye(3), (64, 64, 48))
    thick = Geometry(np.zeros(3), np.array([0.7, 0.7, 3.0]), np.eye(3), (64, 64, 20))
    cases = [(thin, _tilted_plane(thin, "x", 25, 15), 3), (thin, _tilted_plane(thin, "x", 40, 30), 2),
             (thick, _tilted_plane(thick, "z", 20, 0), None)]
    for g, plane, factor in cases:
        planes = mpr.reduced_slab_planes(g, plane, 10.0)
        if factor is None:
            assert planes is None
            continue
        assert planes is not None and planes[4] == factor
        axis = planes[3]
        cos = abs(float(plane.normal_lps @ g.direction[:, axis]))
        spread_mm = factor * g.spacing_mm[axis] * np.sqrt(1 - cos * cos)
        assert spread_mm <= mpr.MAX_SPREAD_PX * 0.7 < (factor + 1) * g.spacing_mm[axis] * np.sqrt(1 - cos * cos)
    # the thick-slice slab samples the volume itself: no copy is made
    a = _volume(thick, seed=2)
    mpr.reslice(a, thick, _tilted_plane(thick, "z", 20, 0), slab_mm=10.0, backend="numpy")
    assert slab_reduce.copy_count(a) == 0
    mpr.reslice(a, thick, _tilted_plane(thick, "x", 25, 15), slab_mm=10.0, backend="numpy")
    assert slab_reduce.copy_count(a) == 1
    slab_reduce.drop(a)
