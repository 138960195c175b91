"""Geometry at load: variable slice spacing keeps true positions (resampled onto a regular grid,
called "variable spacing"), and damaged orientation/position/spacing values are validated once so
the viewer never meets geometry it cannot display (issue 11, item 6 and the fuzz findings)."""

import numpy as np
import pytest

from app.dicom import load_series, scan_paths
from app.viewer.mpr import plane_stack, screen_axes

from .conftest import AXIAL, CT_STORAGE, base_dataset, save, set_pixels


def _write(tmp_path, positions, iop=AXIAL, spacing=(0.5, 0.5), value_of_z=lambda z: 100 * z, rows=6, cols=5):
    """One CT file per position; every pixel of a slice holds value_of_z(z along the normal)."""
    entries = _write_entries(tmp_path, positions, iop, spacing, value_of_z, rows, cols)
    assert len(entries) == 1
    return load_series(entries[0])


def _write_entries(tmp_path, positions, iop=AXIAL, spacing=(0.5, 0.5), value_of_z=lambda z: 100 * z,
                   rows=6, cols=5):
    iop = np.asarray(iop, float)
    normal = np.cross(iop[:3], iop[3:])
    for w, pos in enumerate(positions):
        ds = base_dataset(CT_STORAGE, "CT")
        ds.FrameOfReferenceUID = "1.2.3"
        ds.InstanceNumber = w + 1
        ds.ImagePositionPatient = [float(v) for v in pos]
        ds.ImageOrientationPatient = [float(v) for v in iop]
        ds.PixelSpacing = list(spacing)
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
        set_pixels(ds, np.full((rows, cols), int(round(value_of_z(float(np.dot(pos, normal))))), np.int16))
        save(ds, tmp_path / "s" / f"{w:03d}.dcm")
    return scan_paths([tmp_path / "s"]).all_series()


def _assert_voxels_at_true_positions(vol, normal=(0, 0, 1)):
    """Each k slice's value (100 per mm) must be the value at its LPS position."""
    for k in range(vol.array.shape[0]):
        z = float(np.dot(vol.geometry.ijk_to_lps([0, 0, k]), normal))
        assert vol.array[k].mean() == pytest.approx(100 * z, abs=1.0), f"slice {k}"


@pytest.mark.parametrize("z_mm", [
    [0, 1, 2, 3, 5, 7, 9, 12, 15, 18],  # helical with three spacings
    [0, 1.25, 2.5, 3.75, 5, 7.5, 10, 12.5, 15],  # 1.25 mm then a run of 2.5 mm
    [0, 2.0, 4.5, 6.0, 8.3],  # slightly irregular
], ids=["three-spacings", "two-spacings", "jittered"])
def test_variable_spacing_keeps_true_positions(tmp_path, z_mm):
    vol = _write(tmp_path, [[0, 0, z] for z in z_mm])
    _assert_voxels_at_true_positions(vol)
    assert vol.resampled and vol.acquired_k_mm == pytest.approx(z_mm)
    assert any("variable slice spacing" in w for w in vol.warnings)
    assert not any("missing slice" in w or "non-uniform" in w for w in vol.warnings)
    assert vol.geometry_reliable


def test_gantry_tilt_with_variable_spacing_keeps_true_positions(tmp_path):
    z_mm = [0, 1, 2, 3, 5, 7, 9]
    tilt = np.tan(np.radians(10.0))
    vol = _write(tmp_path, [[0, z * tilt, z] for z in z_mm])  # each slice shifted along y by tilt
    _assert_voxels_at_true_positions(vol)
    for z, t in zip(z_mm, vol.acquired_k_mm, strict=True):  # acquired planes stay where the headers put them
        k = t / vol.geometry.spacing_mm[2]
        np.testing.assert_allclose(vol.geometry.ijk_to_lps([0, 0, k]), [0, z * tilt, z], atol=1e-6)


def test_isolated_missing_slice_is_still_reported_as_missing(tmp_path):
    vol = _write(tmp_path, [[0, 0, z] for z in (0.0, 2.5, 5.0, 10.0, 12.5)])
    assert any("missing slice" in w for w in vol.warnings) and not vol.resampled


def _max_view_pixels(geometry):
    sizes = []
    for orientation in ("axial", "sagittal", "coronal"):
        right, down = screen_axes(orientation)
        stack = plane_stack(geometry, right, down)
        sizes.append(stack.base.shape[0] * stack.base.shape[1])
        sizes.append(stack.count)
    return max(sizes)


@pytest.mark.parametrize("case", ["huge-position", "parallel-orientation", "zero-row-cosine",
                                  "tiny-pixel-spacing", "one-far-slice"])
def test_damaged_geometry_is_checked_once_and_displayable(tmp_path, case):
    positions = [[0.0, 0.0, 2.0 * k] for k in range(5)]
    iop, spacing = AXIAL, (0.5, 0.5)
    if case == "huge-position":
        positions[2] = [0.0, 0.0, 1e30]
    elif case == "parallel-orientation":
        iop = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    elif case == "zero-row-cosine":
        iop = (0.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    elif case == "tiny-pixel-spacing":
        spacing = (1e-9, 1e-9)
    elif case == "one-far-slice":
        positions[4] = [0.0, 0.0, 9.0e4]
    from app.dicom.geometry_check import geometry_problem

    entries = _write_entries(tmp_path, positions, iop=iop, spacing=spacing, value_of_z=lambda z: 7)
    if case in ("huge-position", "one-far-slice"):
        # the scan keeps true positions: the far (or unusable) slice is its own stack, with a note,
        # and every stack loads with a displayable geometry
        assert len(entries) == 2 and any(e.split_note for e in entries)
        for entry in entries:
            part = load_series(entry)
            assert geometry_problem(part.geometry) is None
            assert _max_view_pixels(part.geometry) <= 16384 * 4096
        return
    assert len(entries) == 1
    vol = load_series(entries[0])
    assert geometry_problem(vol.geometry) is None
    assert _max_view_pixels(vol.geometry) <= 16384 * 4096  # no reformat of GiBs
    assert vol.warnings
    if case != "tiny-pixel-spacing":
        assert not vol.geometry_reliable
