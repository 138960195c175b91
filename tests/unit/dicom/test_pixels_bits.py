"""Stored bits: values occupy BitsStored bits ending at HighBit. Overlay or garbage bits above
HighBit must be dropped on the fast path exactly as pydicom's pixel_array does (issue 11, item 3)."""

import numpy as np
import pydicom
import pytest

from app.dicom import load_preview, load_series, scan_paths

from .conftest import CT_STORAGE, base_dataset, radiograph_dataset, save


def _write_ct(tmp_path, stored: np.ndarray, bits_stored: int, high_bit: int, n: int = 3, **attrs):
    paths = []
    for k in range(n):
        ds = base_dataset(CT_STORAGE, "CT", **attrs)
        ds.FrameOfReferenceUID = "1.2.3"
        ds.ImagePositionPatient = [0.0, 0.0, 2.0 * k]
        ds.ImageOrientationPatient = [1.0, 0, 0, 0, 1.0, 0]
        ds.PixelSpacing = [0.5, 0.5]
        ds.Rows, ds.Columns = stored.shape
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = bits_stored
        ds.HighBit = high_bit
        ds.PixelRepresentation = 1 if stored.dtype.kind == "i" else 0
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
        ds.PixelData = stored.tobytes()
        paths.append(save(ds, tmp_path / "ct" / f"s{k}.dcm"))
    return paths


def _garbage_12_in_16(rng, shape):
    values = rng.integers(0, 4096, shape, dtype=np.uint16)
    garbage = rng.integers(0, 16, shape, dtype=np.uint16) << 12  # overlay/garbage bits 12-15
    garbage[0, 0] = 0xF << 12  # at least one value would read 65535-ish unmasked
    return values, values | garbage


def test_fast_path_masks_garbage_above_high_bit_like_pydicom(tmp_path):
    values, stored = _garbage_12_in_16(np.random.default_rng(3), (6, 7))
    paths = _write_ct(tmp_path, stored, 12, 11)
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    reference = pydicom.dcmread(paths[0]).pixel_array
    np.testing.assert_array_equal(vol.array[0], reference)
    np.testing.assert_array_equal(vol.array[0], values)
    assert int(vol.array.max()) <= 4095


def test_signed_12_bit_fast_path_sign_extends_like_pydicom(tmp_path):
    rng = np.random.default_rng(4)
    values = rng.integers(-2048, 2048, (5, 5)).astype(np.int16)
    raw = (values.view(np.uint16) & 0x0FFF) | (rng.integers(0, 16, (5, 5), dtype=np.uint16) << 12)
    paths = _write_ct(tmp_path, raw.view(np.int16), 12, 11)
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    np.testing.assert_array_equal(vol.array[1], pydicom.dcmread(paths[1]).pixel_array)
    np.testing.assert_array_equal(vol.array[1], values)


def test_retired_high_bit_position_shifts_values_down(tmp_path):
    # BitsStored 12 with HighBit 15 (retired layout): values sit in bits 4-15, bits 0-3 are other data
    rng = np.random.default_rng(5)
    values = rng.integers(0, 4096, (4, 6), dtype=np.uint16)
    stored = (values << 4) | rng.integers(0, 16, (4, 6), dtype=np.uint16)
    _write_ct(tmp_path, stored, 12, 15)
    vol = load_series(scan_paths([tmp_path]).all_series()[0])
    np.testing.assert_array_equal(vol.array[2], values)
    assert any("HighBit 15" in w and "retired" in w for w in vol.warnings)


def test_radiograph_and_preview_mask_garbage_bits(tmp_path):
    ds = radiograph_dataset(imager_spacing=(0.1, 0.1), rows=5, cols=6)
    values, stored = _garbage_12_in_16(np.random.default_rng(6), (5, 6))
    ds.BitsStored, ds.HighBit = 12, 11
    ds.PixelData = stored.tobytes()
    p = save(ds, tmp_path / "dx" / "r.dcm")
    entry = scan_paths([tmp_path]).all_series()[0]
    images = load_series(entry)
    np.testing.assert_array_equal(images[0].array, pydicom.dcmread(p).pixel_array)
    np.testing.assert_array_equal(load_preview(entry), values)


@pytest.mark.parametrize("bits_stored,high_bit", [(12, 16), (17, 16), (12, 10)])
def test_impossible_bit_layout_is_a_typed_error(tmp_path, bits_stored, high_bit):
    from app.dicom.errors import DicomLoadError

    _write_ct(tmp_path, np.zeros((4, 4), np.uint16), bits_stored, high_bit, n=1)
    with pytest.raises(DicomLoadError) as info:
        load_series(scan_paths([tmp_path]).all_series()[0])
    assert "Bit" in info.value.message
