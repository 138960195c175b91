"""Coordinate frames of one displayed image: pixel (column, row) <-> LPS mm, and the 2D
pixel -> mm scaling of projection radiographs with its stated calibration basis. Pure numpy.

Pixel coordinates are ``(column, row)`` with the *centre* of pixel (c, r) at (c, r) (the DICOM
convention: ImagePositionPatient is the centre of the first pixel). A view that draws pixel
(0, 0) over the square [0, 1) x [0, 1) must subtract 0.5 before calling these functions.

DICOM naming: ImageOrientationPatient = (row cosine, column cosine). The *row cosine* is the
LPS direction in which the column index increases (along a row); the *column cosine* is the
direction in which the row index increases. PixelSpacing = (row spacing, column spacing) =
(distance between rows, distance between columns), in mm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ImagePlane", "ProjectionScale", "lps_to_pixel", "pixel_to_lps", "plane_from_geometry"]


def _as_points(points: Sequence, dim: int, name: str) -> tuple[np.ndarray, bool]:
    a = np.asarray(points, dtype=np.float64)
    single = a.ndim == 1
    a = a.reshape(-1, dim) if a.size else a.reshape(0, dim)
    if a.shape[1] != dim:
        raise ValueError(f"{name}: expected {dim} coordinates per point, got shape {np.shape(points)}")
    return a, single


def pixel_to_lps(points_px: Sequence, origin_lps: Sequence[float], row_cosine: Sequence[float],
                 column_cosine: Sequence[float], spacing_mm: Sequence[float]) -> np.ndarray:
    """(column, row) pixel points -> LPS mm: origin + col*colspacing*row_cosine + row*rowspacing*column_cosine.

    ``spacing_mm`` = (row spacing, column spacing) as in PixelSpacing. A single point in gives a
    single (3,) point out; an (N, 2) array gives (N, 3)."""
    p, single = _as_points(points_px, 2, "points_px")
    o = np.asarray(origin_lps, dtype=np.float64).reshape(3)
    rc = np.asarray(row_cosine, dtype=np.float64).reshape(3)
    cc = np.asarray(column_cosine, dtype=np.float64).reshape(3)
    row_sp, col_sp = float(spacing_mm[0]), float(spacing_mm[1])
    out = o + np.outer(p[:, 0] * col_sp, rc) + np.outer(p[:, 1] * row_sp, cc)
    return out[0] if single else out


def lps_to_pixel(points_lps: Sequence, origin_lps: Sequence[float], row_cosine: Sequence[float],
                 column_cosine: Sequence[float], spacing_mm: Sequence[float]) -> np.ndarray:
    """LPS mm -> (column, row) pixel points (orthogonal projection onto the image plane)."""
    p, single = _as_points(points_lps, 3, "points_lps")
    o = np.asarray(origin_lps, dtype=np.float64).reshape(3)
    rc = np.asarray(row_cosine, dtype=np.float64).reshape(3)
    cc = np.asarray(column_cosine, dtype=np.float64).reshape(3)
    row_sp, col_sp = float(spacing_mm[0]), float(spacing_mm[1])
    d = p - o
    out = np.stack([(d @ rc) / col_sp, (d @ cc) / row_sp], axis=1)
    return out[0] if single else out


@dataclass(frozen=True)
class ImagePlane:
    """One image plane in LPS: origin (centre of pixel (0, 0)), cosines, spacing (row, column)."""

    origin_lps: tuple[float, float, float]
    row_cosine: tuple[float, float, float]
    column_cosine: tuple[float, float, float]
    spacing_mm: tuple[float, float]  # (row spacing, column spacing)

    def __post_init__(self) -> None:
        for name in ("origin_lps", "row_cosine", "column_cosine"):
            v = tuple(float(x) for x in np.asarray(getattr(self, name), dtype=np.float64).reshape(3))
            object.__setattr__(self, name, v)
        sp = tuple(float(x) for x in np.asarray(self.spacing_mm, dtype=np.float64).reshape(2))
        if sp[0] <= 0 or sp[1] <= 0:
            raise ValueError(f"pixel spacing must be positive, got {sp}")
        object.__setattr__(self, "spacing_mm", sp)
        for name in ("row_cosine", "column_cosine"):
            n = float(np.linalg.norm(getattr(self, name)))
            if not 0.99 < n < 1.01:
                raise ValueError(f"{name} must be a unit vector, got length {n:.3f}")

    @property
    def normal_lps(self) -> np.ndarray:
        return np.cross(self.row_cosine, self.column_cosine)

    def to_lps(self, points_px: Sequence) -> np.ndarray:
        return pixel_to_lps(points_px, self.origin_lps, self.row_cosine, self.column_cosine, self.spacing_mm)

    def to_pixel(self, points_lps: Sequence) -> np.ndarray:
        return lps_to_pixel(points_lps, self.origin_lps, self.row_cosine, self.column_cosine, self.spacing_mm)

    def distance_from_plane_mm(self, points_lps: Sequence) -> np.ndarray:
        p, single = _as_points(points_lps, 3, "points_lps")
        d = (p - np.asarray(self.origin_lps)) @ self.normal_lps
        return d[0] if single else d


def plane_from_geometry(geometry, k: int) -> ImagePlane:
    """The image plane of slice ``k`` of a volume ``Geometry`` (app.dicom.model): the i axis is
    the row cosine, the j axis the column cosine, spacing (j spacing, i spacing)."""
    origin = geometry.ijk_to_lps(np.array([0.0, 0.0, float(k)]))
    d = np.asarray(geometry.direction)
    sp = np.asarray(geometry.spacing_mm)
    return ImagePlane(tuple(origin), tuple(d[:, 0]), tuple(d[:, 1]), (float(sp[1]), float(sp[0])))


@dataclass(frozen=True)
class ProjectionScale:
    """px -> mm on a projection radiograph, with the basis the mm came from.

    ``spacing_mm`` = (row spacing, column spacing) or None when uncalibrated; ``basis`` is the
    label shown beside every mm value (e.g. "ImagerPixelSpacing / magnification")."""

    spacing_mm: tuple[float, float] | None
    basis: str

    def __post_init__(self) -> None:
        if self.spacing_mm is not None:
            sp = (float(self.spacing_mm[0]), float(self.spacing_mm[1]))
            if sp[0] <= 0 or sp[1] <= 0:
                raise ValueError(f"pixel spacing must be positive, got {sp}")
            object.__setattr__(self, "spacing_mm", sp)

    @property
    def calibrated(self) -> bool:
        return self.spacing_mm is not None

    def to_mm(self, points_px: Sequence) -> np.ndarray:
        """(column, row) px -> (x, y) mm in the image plane (x along rows, y down the columns)."""
        if self.spacing_mm is None:
            raise ValueError(f"image is uncalibrated ({self.basis or 'no pixel spacing'}): no mm values")
        p, single = _as_points(points_px, 2, "points_px")
        out = p * np.array([self.spacing_mm[1], self.spacing_mm[0]])
        return out[0] if single else out
