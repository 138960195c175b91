"""Impossible pixel spacings on a radiograph are ignored (uncalibrated), never handed to the
display, which scales by them (fuzz finding: 1e-9 mm pixels)."""

import pytest

from app.dicom import load_series, scan_paths
from app.dicom.model import CalibrationBasis

from .conftest import radiograph_dataset, save


@pytest.mark.parametrize("spacing", [(1e-9, 1e-9), (1e-9, 0.1), (0.1, 1e9), (0.1, 5.0)])
def test_impossible_pixel_spacing_is_ignored(tmp_path, spacing):
    save(radiograph_dataset(pixel_spacing=spacing), tmp_path / "dx" / "r.dcm")
    image = load_series(scan_paths([tmp_path]).all_series()[0])[0]
    assert image.calibration.basis is CalibrationBasis.UNCALIBRATED and image.calibration.spacing_mm is None


def test_impossible_magnification_is_not_applied(tmp_path):
    save(radiograph_dataset(imager_spacing=(0.1, 0.1), ermf=1e-6), tmp_path / "dx" / "r.dcm")
    image = load_series(scan_paths([tmp_path]).all_series()[0])[0]
    assert image.calibration.basis is CalibrationBasis.IMAGER_PIXEL_SPACING
    assert image.calibration.spacing_mm == (0.1, 0.1)


def test_ordinary_calibration_is_kept(tmp_path):
    save(radiograph_dataset(pixel_spacing=(0.143, 0.143)), tmp_path / "dx" / "r.dcm")
    image = load_series(scan_paths([tmp_path]).all_series()[0])[0]
    assert image.calibration.basis is CalibrationBasis.PIXEL_SPACING
    assert image.calibration.spacing_mm == (0.143, 0.143)
