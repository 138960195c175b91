"""Slice ordering and stack irregularities: order by position along the normal, never by
InstanceNumber or file name; report duplicates, gaps, non-uniform spacing and gantry tilt."""

import random

import numpy as np
import pytest

from app.dicom import load_series, scan_paths
from app.dicom.model import Plane, Volume

from .conftest import SAGITTAL


def _only_series(root):
    series = scan_paths([root]).all_series()
    assert len(series) == 1, [s.key for s in series]
    return series[0]


def _load(root) -> Volume:
    vol = load_series(_only_series(root))
    assert isinstance(vol, Volume)
    return vol


def _assert_k_matches(vol: Volume, pixels, ks):
    for k_true, k_vol in ks:
        np.testing.assert_array_equal(vol.array[k_vol], pixels[k_true])


def test_shuffled_files_are_ordered_by_position(writer, tmp_path):
    order = list(range(8))
    random.Random(3).shuffle(order)
    _, pixels, positions = writer.stack(8, order=order)
    vol = _load(tmp_path)
    assert vol.array.shape == (8, 8, 10)
    _assert_k_matches(vol, pixels, [(k, k) for k in range(8)])
    np.testing.assert_allclose(vol.geometry.origin_lps, positions[0])
    np.testing.assert_allclose(vol.geometry.spacing_mm, [0.6, 0.8, 2.5])
    assert vol.warnings == []


def test_reversed_instance_numbers_do_not_flip_the_stack(writer, tmp_path):
    _, pixels, positions = writer.stack(5, order=[4, 3, 2, 1, 0])
    vol = _load(tmp_path)
    _assert_k_matches(vol, pixels, [(k, k) for k in range(5)])
    # the k axis points along +normal (superior for axial), geometry maps k to each position
    for k in range(5):
        np.testing.assert_allclose(vol.geometry.ijk_to_lps([0, 0, k]), positions[k], atol=1e-6)


def test_sagittal_geometry_maps_every_voxel(writer, tmp_path):
    _, _pixels, positions = writer.stack(4, iop=SAGITTAL, order=[2, 0, 3, 1])
    vol = _load(tmp_path)
    assert vol.plane is Plane.SAGITTAL
    np.testing.assert_allclose(vol.geometry.direction[:, 0], SAGITTAL[:3])
    np.testing.assert_allclose(vol.geometry.direction[:, 1], SAGITTAL[3:])
    ij = np.array([3, 5, 2])  # i, j, k
    expected = positions[2] + 3 * 0.6 * np.array(SAGITTAL[:3]) + 5 * 0.8 * np.array(SAGITTAL[3:])
    np.testing.assert_allclose(vol.geometry.ijk_to_lps(ij), expected, atol=1e-6)


def test_duplicated_position_keeps_one_and_says_so(writer, tmp_path):
    positions = [[0, 0, z] for z in (0.0, 2.5, 5.0, 5.0, 7.5)]
    writer.stack(positions=positions)
    vol = _load(tmp_path)
    assert vol.array.shape[0] == 4
    assert any("duplicated slice position" in w for w in vol.warnings)


def test_missing_slice_is_reported_and_geometry_kept(writer, tmp_path):
    positions = [[0, 0, z] for z in (0.0, 2.5, 5.0, 10.0, 12.5)]  # 7.5 missing
    _, pixels, _ = writer.stack(positions=positions)
    vol = _load(tmp_path)
    assert any("missing slice" in w for w in vol.warnings)
    assert vol.array.shape[0] == 6  # a blank slice stands in for the missing one
    np.testing.assert_allclose(vol.geometry.spacing_mm[2], 2.5)
    _assert_k_matches(vol, pixels, [(0, 0), (2, 2), (3, 4), (4, 5)])
    assert vol.sop_instance_uids[3] == ""
    np.testing.assert_allclose(vol.geometry.ijk_to_lps([0, 0, 4]), [0, 0, 10.0], atol=1e-6)


def test_non_uniform_spacing_is_reported(writer, tmp_path):
    positions = [[0, 0, z] for z in (0.0, 2.0, 4.5, 6.0, 8.3)]
    writer.stack(positions=positions)
    vol = _load(tmp_path)
    assert any("variable slice spacing" in w for w in vol.warnings)
    assert not any("non-uniform" in w or "missing slice" in w for w in vol.warnings)


@pytest.mark.parametrize("tilt_deg", [12.0, -7.0])
def test_gantry_tilt_reports_angle_and_keeps_true_positions(writer, tmp_path, tilt_deg):
    _, pixels, positions = writer.stack(6, tilt_deg=tilt_deg, order=[5, 1, 3, 0, 2, 4])
    vol = _load(tmp_path)
    tilt_msgs = [w for w in vol.warnings if "gantry tilt" in w]
    assert tilt_msgs and f"{abs(tilt_deg):.1f} degrees" in tilt_msgs[0]
    for k in range(6):  # every slice origin is exactly where the DICOM header puts it
        np.testing.assert_allclose(vol.geometry.ijk_to_lps([0, 0, k]), positions[k], atol=1e-6)
        np.testing.assert_allclose(vol.geometry.ijk_to_lps([2, 3, k]),
                                   positions[k] + [2 * 0.6, 3 * 0.8, 0], atol=1e-6)
    _assert_k_matches(vol, pixels, [(k, k) for k in range(6)])


def test_rescale_keeps_int16_for_ct_and_float32_for_fractional_slope(writer, tmp_path):
    writer.stack(3, intercept=-1024.0, folder="int")
    writer.stack(3, slope=0.5, intercept=1.0, folder="frac", modality="MR")
    series = {s.instances[0].path.parent.name: s for s in scan_paths([tmp_path]).all_series()}
    ct = load_series(series["int"])
    assert ct.array.dtype == np.int16 and ct.units == "HU"
    assert ct.array[1, 2, 0] == 100 + 2 - 1024
    mr = load_series(series["frac"])
    assert mr.array.dtype == np.float32
    assert mr.array[1, 2, 0] == pytest.approx((100 + 2) * 0.5 + 1)
    for v in (ct, mr):
        assert v.array.dtype != np.float64


def test_uint16_with_negative_intercept_becomes_int16(writer, tmp_path):
    writer.stack(3, intercept=-1024.0, dtype=np.uint16)
    vol = _load(tmp_path)
    assert vol.array.dtype == np.int16
    assert vol.array[2, 1, 0] == 200 + 1 - 1024


def test_volume_metadata(writer, tmp_path):
    writer.stack(5, WindowCenter=40, WindowWidth=400, SeriesDescription="AX BONE 1.0")
    vol = _load(tmp_path)
    assert vol.window_center_width == (40.0, 400.0)
    assert vol.description == "AX BONE 1.0"
    assert vol.plane is Plane.AXIAL
    assert vol.frame_of_reference_uid == "1.2.826.0.1.3680043.8.498.3"
    assert len(vol.sop_instance_uids) == 5 and all(vol.sop_instance_uids)
    assert vol.slice_thickness_mm == 2.5
    assert vol.frame_numbers == []
