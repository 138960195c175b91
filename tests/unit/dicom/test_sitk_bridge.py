"""Geometry bridge to SimpleITK: round trip, and agreement with SimpleITK's own series reader."""

import gc

import numpy as np
import pytest
import SimpleITK as sitk

from app.dicom import load_series, scan_paths, sitk_bridge
from app.dicom.model import Geometry, Modality, Volume
from app.dicom.sitk_bridge import sitk_to_array_geometry, volume_to_sitk

from .conftest import SAGITTAL

OBLIQUE = (0.9659258, 0.2588190, 0.0, 0.0, 0.0, -1.0)  # rotated 15 degrees about z


def _volume(array, geometry):
    return Volume(array=array, geometry=geometry, modality=Modality.CT, series_instance_uid="1.2.3")


def test_round_trip_preserves_array_axis_order_and_geometry():
    arr = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)  # [k, j, i]
    direction = np.column_stack([SAGITTAL[:3], SAGITTAL[3:], np.cross(SAGITTAL[:3], SAGITTAL[3:])])
    geo = Geometry(np.array([1.5, -2.0, 3.25]), np.array([0.5, 0.75, 2.0]), direction, (6, 5, 4))
    image = volume_to_sitk(_volume(arr, geo))
    assert image.GetSize() == (6, 5, 4)  # (i, j, k)
    assert image.GetPixel(5, 4, 3) == arr[3, 4, 5]
    np.testing.assert_allclose(image.TransformIndexToPhysicalPoint((5, 4, 3)), geo.ijk_to_lps([5, 4, 3]))
    back, geo2 = sitk_to_array_geometry(image)
    np.testing.assert_array_equal(back, arr)
    assert back.dtype == np.int16
    np.testing.assert_allclose(geo2.origin_lps, geo.origin_lps)
    np.testing.assert_allclose(geo2.spacing_mm, geo.spacing_mm)
    np.testing.assert_allclose(geo2.direction, geo.direction)
    assert geo2.shape_ijk == geo.shape_ijk


def test_loaded_series_matches_simpleitk_image_series_reader(writer, tmp_path):
    paths, _, _ = writer.stack(7, iop=OBLIQUE, order=[3, 6, 0, 5, 1, 4, 2], intercept=-1024.0,
                               origin=(12.0, -40.5, 88.0), step_mm=3.0)
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(paths[0].parent)))
    ref = reader.Execute()
    ours = volume_to_sitk(vol)
    assert ours.GetSize() == ref.GetSize()
    np.testing.assert_allclose(ours.GetOrigin(), ref.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(ours.GetSpacing(), ref.GetSpacing(), atol=1e-4)
    np.testing.assert_allclose(ours.GetDirection(), ref.GetDirection(), atol=1e-5)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(ours), sitk.GetArrayFromImage(ref).astype(np.int16))


def test_tilted_volume_keeps_sheared_geometry_through_simpleitk(writer, tmp_path):
    _, _, positions = writer.stack(5, tilt_deg=15.0)
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    image = volume_to_sitk(vol)
    for k in range(5):
        np.testing.assert_allclose(image.TransformIndexToPhysicalPoint((0, 0, k)), positions[k], atol=1e-6)
    _, geo = sitk_to_array_geometry(image)
    np.testing.assert_allclose(geo.direction, vol.geometry.direction)
    plane_normal = np.cross(geo.direction[:, 0], geo.direction[:, 1])
    cos_tilt = float(geo.direction[:, 2] @ plane_normal)
    assert np.degrees(np.arccos(cos_tilt)) == __import__("pytest").approx(15.0, abs=0.01)  # really sheared


@pytest.mark.parametrize("dtype, intercept", [(np.int16, 0.0), (np.uint16, -1024.0)])
def test_a_volume_above_the_copy_budget_is_read_into_a_simpleitk_image(writer, tmp_path, monkeypatch, dtype,
                                                                        intercept):
    """A volume too big for a second copy (a whole-spine CT) is read straight into a SimpleITK
    image's buffer, which the oblique MPR then resamples: same voxels, same geometry, no copy,
    freed with the volume (uint16 stored values rescaled to int16 in place included)."""
    writer.stack(7, rows=12, cols=10, iop=OBLIQUE, intercept=intercept, dtype=dtype, origin=(12.0, -40.5, 88.0))
    monkeypatch.setattr(sitk_bridge, "MAX_CACHED_BYTES", 7 * 12 * 10 * 2 - 1)
    before = sitk_bridge.cached_image_count()
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    assert vol.array.dtype == np.int16
    image = sitk_bridge.image_for(vol.array, vol.geometry)
    assert image is not None
    assert np.shares_memory(sitk_bridge.array_of(image, writable=False), vol.array)
    copy = volume_to_sitk(vol)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(copy))
    np.testing.assert_allclose(image.GetOrigin(), copy.GetOrigin())
    np.testing.assert_allclose(image.GetSpacing(), copy.GetSpacing())
    np.testing.assert_allclose(image.GetDirection(), copy.GetDirection())
    assert sitk_bridge.image_for(vol.array, vol.geometry) is image
    del vol, image, copy
    gc.collect()
    assert sitk_bridge.cached_image_count() == before


def test_a_volume_under_the_copy_budget_is_read_into_plain_memory(writer, tmp_path):
    writer.stack(4, rows=12, cols=10)
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    assert sitk_bridge._own_image(vol.array) is None
