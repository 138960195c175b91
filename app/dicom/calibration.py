"""Calibration basis of a projection radiograph: where its millimetres come from."""

from __future__ import annotations

import math
from typing import Any

from app.dicom.model import Calibration, CalibrationBasis

# Plausible pixel sizes of a projection image (mm) and pixel aspect; outside them the header is
# damaged and the value is ignored (a display scaled by 1e-9 mm pixels would need GiBs).
MIN_PIXEL_MM, MAX_PIXEL_MM, MAX_ASPECT = 1e-3, 100.0, 20.0
MIN_ERMF, MAX_ERMF = 0.5, 5.0


def _pair(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        vals = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    if len(vals) != 2 or not all(math.isfinite(v) and MIN_PIXEL_MM <= v <= MAX_PIXEL_MM for v in vals):
        return None
    if max(vals) / min(vals) > MAX_ASPECT:
        return None
    return (vals[0], vals[1])


def _float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and MIN_ERMF <= f <= MAX_ERMF else None


def radiograph_calibration(ds: Any) -> Calibration:
    """PixelSpacing (patient plane) > ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor
    > ImagerPixelSpacing alone (detector plane) > uncalibrated. The basis is always recorded."""
    pixel = _pair(ds.get("PixelSpacing"))
    imager = _pair(ds.get("ImagerPixelSpacing"))
    ermf = _float(ds.get("EstimatedRadiographicMagnificationFactor"))
    if pixel is not None:
        cal_type = str(ds.get("PixelSpacingCalibrationType", "") or "").strip()
        note = "calibrated at the patient plane"
        if cal_type:
            note += f" ({cal_type.lower()})"
        if imager is not None and all(abs(a - b) < 1e-6 for a, b in zip(pixel, imager, strict=True)) and not cal_type:
            note = "PixelSpacing equals ImagerPixelSpacing: may be the detector plane, not the patient"
        return Calibration(CalibrationBasis.PIXEL_SPACING, pixel, ermf, note)
    if imager is not None and ermf is not None:
        spacing = (imager[0] / ermf, imager[1] / ermf)
        return Calibration(CalibrationBasis.IMAGER_CORRECTED, spacing, ermf,
                           f"detector spacing divided by estimated magnification {ermf:g}")
    if imager is not None:
        return Calibration(CalibrationBasis.IMAGER_PIXEL_SPACING, imager, None,
                           "detector plane: anatomy is magnified, true sizes are typically 10-20% smaller")
    nominal = _pair(ds.get("NominalScannedPixelSpacing"))
    if nominal is not None:
        return Calibration(CalibrationBasis.UNCALIBRATED, None, None,
                           "only NominalScannedPixelSpacing (film digitiser) is given: not a patient calibration")
    return Calibration(CalibrationBasis.UNCALIBRATED, None, None, "no pixel spacing in the header")
