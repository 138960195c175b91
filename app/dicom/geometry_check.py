"""Validate volume geometry once, at load, so the viewer never meets unchecked geometry.

Damaged orientation/position/spacing values made the display allocate hundreds of GiB or raise
on the GUI thread. Per-slice values are cleaned here (an unusable orientation or position
counts as absent), and a finished Geometry is checked against bounds that any real CT/MR stack
meets; outside them the volume falls back to a plain grid (identity, 1 mm) with a warning."""

from __future__ import annotations

import numpy as np

from app.dicom.model import Geometry

MAX_ABS_POSITION_MM = 1.0e5  # 100 m from the origin: no patient coordinate is farther
MIN_SPACING_MM = 1.0e-3
MAX_SPACING_MM = 1.0e3
MAX_VIEW_PIXELS_PER_AXIS = 16384  # volume extent / smallest spacing: pixels of a reformatted view
MAX_VIEW_PIXELS = 64 << 20  # pixels of one reformatted plane (any two axes)


def clean_orientation(iop: np.ndarray | None) -> np.ndarray | None:
    """Row and column cosines made exactly orthonormal, or None when they are not two nearly
    unit, nearly perpendicular vectors (a damaged ImageOrientationPatient)."""
    if iop is None:
        return None
    row, col = np.asarray(iop[:3], dtype=np.float64), np.asarray(iop[3:], dtype=np.float64)
    nr, nc = float(np.linalg.norm(row)), float(np.linalg.norm(col))
    if not (0.9 < nr < 1.1 and 0.9 < nc < 1.1):
        return None
    row, col = row / nr, col / nc
    if abs(float(row @ col)) > 0.05:
        return None
    col = col - (row @ col) * row
    col /= np.linalg.norm(col)
    return np.concatenate([row, col])


def clean_position(pos: np.ndarray | None) -> np.ndarray | None:
    if pos is None or not np.all(np.isfinite(pos)) or float(np.max(np.abs(pos))) > MAX_ABS_POSITION_MM:
        return None
    return pos


def clean_spacing(spacing: tuple[float, float] | None) -> tuple[float, float] | None:
    if spacing is None or not all(MIN_SPACING_MM <= float(s) <= MAX_SPACING_MM for s in spacing):
        return None
    return spacing


def geometry_problem(geometry: Geometry) -> str | None:
    """Plain reason why ``geometry`` cannot be displayed safely, or None when it can."""
    sp = geometry.spacing_mm
    if not np.all(np.isfinite(sp)) or np.any(sp < MIN_SPACING_MM) or np.any(sp > MAX_SPACING_MM):
        return f"voxel spacing {np.round(sp, 4).tolist()} mm is outside {MIN_SPACING_MM}-{MAX_SPACING_MM} mm"
    d = geometry.direction
    if not np.all(np.isfinite(d)) or not np.allclose(np.linalg.norm(d, axis=0), 1.0, atol=1e-3):
        return "the axis directions are not unit vectors"
    if abs(float(np.linalg.det(d))) < 0.05:
        return "the axis directions are (nearly) parallel"
    if not np.all(np.isfinite(geometry.origin_lps)) or np.max(np.abs(geometry.origin_lps)) > MAX_ABS_POSITION_MM:
        return "the volume origin is not a plausible patient position"
    extent = sp * np.maximum(np.asarray(geometry.shape_ijk, dtype=np.float64) - 1, 1)
    per_axis = extent / float(sp.min())
    if np.any(per_axis > MAX_VIEW_PIXELS_PER_AXIS):
        return (f"the volume is {np.round(extent, 1).tolist()} mm across with {float(sp.min()):.3g} mm voxels: "
                f"a reformatted view would be too large")
    largest_two = np.sort(per_axis)[-2:]
    if float(largest_two[0] * largest_two[1]) > MAX_VIEW_PIXELS:
        return "a reformatted view of this volume would be too large"
    return None


def plain_geometry(shape_ijk: tuple[int, int, int]) -> Geometry:
    """Identity directions, 1 mm voxels at the origin: a plain image stack, distances unknown."""
    return Geometry(np.zeros(3), np.ones(3), np.eye(3), shape_ijk)
