"""Radiographs: calibration basis (always explicit), MONOCHROME1, VOI LUT and window defaults."""

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from app.dicom import load_preview, load_series, scan_paths
from app.dicom.model import CalibrationBasis, Modality, Radiograph

from .conftest import radiograph_dataset, save


def _load_one(tmp_path, ds) -> Radiograph:
    save(ds, tmp_path / "rx" / "img.dcm")
    entries = scan_paths([tmp_path]).all_series()
    assert len(entries) == 1
    out = load_series(entries[0])
    assert isinstance(out, list) and len(out) == 1
    return out[0]


def test_pixel_spacing_basis(tmp_path):
    rx = _load_one(tmp_path, radiograph_dataset(pixel_spacing=(0.14, 0.14), imager_spacing=(0.16, 0.16)))
    assert rx.calibration.basis is CalibrationBasis.PIXEL_SPACING
    assert rx.calibration.spacing_mm == (0.14, 0.14)


def test_imager_spacing_corrected_by_magnification(tmp_path):
    rx = _load_one(tmp_path, radiograph_dataset(imager_spacing=(0.15, 0.12), ermf=1.2))
    assert rx.calibration.basis is CalibrationBasis.IMAGER_CORRECTED
    assert rx.calibration.spacing_mm == pytest.approx((0.125, 0.1))
    assert rx.calibration.magnification == pytest.approx(1.2)
    assert "ImagerPixelSpacing" in rx.calibration.label


def test_imager_spacing_without_magnification_is_detector_plane(tmp_path):
    rx = _load_one(tmp_path, radiograph_dataset(imager_spacing=(0.15, 0.15)))
    assert rx.calibration.basis is CalibrationBasis.IMAGER_PIXEL_SPACING
    assert rx.calibration.spacing_mm == (0.15, 0.15)
    assert "detector" in rx.calibration.note


def test_uncalibrated(tmp_path):
    rx = _load_one(tmp_path, radiograph_dataset())
    assert rx.calibration.basis is CalibrationBasis.UNCALIBRATED
    assert rx.calibration.spacing_mm is None


def test_scan_entry_records_calibration_basis(tmp_path):
    save(radiograph_dataset(imager_spacing=(0.15, 0.15), ermf=1.1), tmp_path / "a.dcm")
    entry = scan_paths([tmp_path]).all_series()[0]
    assert entry.calibration_basis is CalibrationBasis.IMAGER_CORRECTED
    assert entry.spacing_mm == pytest.approx((0.15 / 1.1, 0.15 / 1.1))


def test_monochrome1_window_and_voi_lut(tmp_path):
    ds = radiograph_dataset("CR", photometric="MONOCHROME1", WindowCenter=[2000, 1000], WindowWidth=[4000, 500])
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 12]
    item.LUTData = (np.arange(4096, dtype="<u2") * 2).tobytes()
    item.LUTExplanation = "NORMAL"
    ds.VOILUTSequence = Sequence([item])
    rx = _load_one(tmp_path, ds)
    assert rx.invert_for_display
    assert rx.modality is Modality.CR
    assert rx.window_center_width == (2000.0, 4000.0)
    assert rx.voi_lut is not None and rx.voi_lut.first_mapped == 0 and rx.voi_lut.bits == 12
    assert rx.voi_lut.table.shape == (4096,) and rx.voi_lut.table[3] == 6
    assert rx.voi_lut.explanation == "NORMAL"
    assert rx.array.dtype == np.uint16  # no rescale: stored type kept


def test_monochrome2_not_inverted_and_preview(tmp_path):
    ds = radiograph_dataset(RescaleSlope=1, RescaleIntercept=-100)
    save(ds, tmp_path / "x.dcm")
    entry = scan_paths([tmp_path]).all_series()[0]
    rx = load_series(entry)[0]
    assert not rx.invert_for_display
    assert rx.array[0, 0] == -100 and rx.array.dtype == np.int16
    np.testing.assert_array_equal(load_preview(entry), rx.array)
