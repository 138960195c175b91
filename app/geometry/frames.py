"""Coordinate frames of one displayed image: pixel (column, row) <-> LPS mm (``PlaneSpec``, the
one plane class: viewer MPR planes, annotation pixel spaces, DICOM image planes), and the 2D
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
from dataclasses import dataclass, replace
from typing import Protocol, TypeAlias

import numpy as np

__all__ = ["PlaneSpec", "ProjectionScale", "image_plane", "lps_to_pixel", "pixel_to_lps", "plane_from_geometry"]


Vector: TypeAlias = Sequence[float] | np.ndarray
Points: TypeAlias = Sequence | np.ndarray  # one point, or (N, dim) points


def _as_points(points: Points, dim: int, name: str) -> tuple[np.ndarray, bool]:
    a = np.asarray(points, dtype=np.float64)
    single = a.ndim == 1
    a = a.reshape(-1, dim) if a.size else a.reshape(0, dim)
    if a.shape[1] != dim:
        raise ValueError(f"{name}: expected {dim} coordinates per point, got shape {np.shape(points)}")
    return a, single


def pixel_to_lps(points_px: Points, origin_lps: Vector, row_cosine: Vector,
                 column_cosine: Vector, spacing_mm: Vector) -> np.ndarray:
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


def lps_to_pixel(points_lps: Points, origin_lps: Vector, row_cosine: Vector,
                 column_cosine: Vector, spacing_mm: Vector) -> np.ndarray:
    """LPS mm -> (column, row) pixel points (orthogonal projection onto the image plane)."""
    p, single = _as_points(points_lps, 3, "points_lps")
    o = np.asarray(origin_lps, dtype=np.float64).reshape(3)
    rc = np.asarray(row_cosine, dtype=np.float64).reshape(3)
    cc = np.asarray(column_cosine, dtype=np.float64).reshape(3)
    row_sp, col_sp = float(spacing_mm[0]), float(spacing_mm[1])
    d = p - o
    out = np.stack([(d @ rc) / col_sp, (d @ cc) / row_sp], axis=1)
    return out[0] if single else out


def _unit(v: Vector) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64).reshape(3)
    n = np.linalg.norm(v)
    if n == 0:
        raise ValueError("zero-length direction")
    return v / n


@dataclass(frozen=True)
class PlaneSpec:
    """One image plane in LPS, the one plane class of the viewer (MPR), the annotations and the
    geometry: pixel (col, row) sits at ``origin_lps + col * spacing_col * right_lps + row *
    spacing_row * down_lps``. ``right_lps`` is DICOM's row cosine (screen right), ``down_lps``
    the column cosine (screen down); directions are normalised, spacing must be positive."""

    origin_lps: np.ndarray  # (3,) centre of pixel (col 0, row 0)
    right_lps: np.ndarray  # (3,) unit vector along increasing column
    down_lps: np.ndarray  # (3,) unit vector along increasing row
    spacing_mm: tuple[float, float]  # (row spacing, column spacing)
    shape: tuple[int, int] = (0, 0)  # (rows, columns) of a resliced grid; (0, 0) for a bare plane

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin_lps", np.asarray(self.origin_lps, dtype=np.float64).reshape(3))
        object.__setattr__(self, "right_lps", _unit(self.right_lps))
        object.__setattr__(self, "down_lps", _unit(self.down_lps))
        spacing = (float(self.spacing_mm[0]), float(self.spacing_mm[1]))
        if not (spacing[0] > 0 and spacing[1] > 0):
            raise ValueError(f"pixel spacing must be positive, got {spacing}")
        object.__setattr__(self, "spacing_mm", spacing)
        object.__setattr__(self, "shape", (int(self.shape[0]), int(self.shape[1])))

    @property
    def normal_lps(self) -> np.ndarray:
        return _unit(np.cross(self.right_lps, self.down_lps))

    def pixel_to_lps(self, col: float, row: float) -> np.ndarray:
        return (self.origin_lps + col * self.spacing_mm[1] * self.right_lps
                + row * self.spacing_mm[0] * self.down_lps)

    def lps_to_pixel(self, point_lps: Vector) -> tuple[float, float, float]:
        """(col, row, signed distance from the plane in mm along the normal)."""
        d = np.asarray(point_lps, dtype=np.float64) - self.origin_lps
        return (float(d @ self.right_lps) / self.spacing_mm[1],
                float(d @ self.down_lps) / self.spacing_mm[0],
                float(d @ self.normal_lps))

    def shifted(self, distance_mm: float) -> PlaneSpec:
        return replace(self, origin_lps=self.origin_lps + distance_mm * self.normal_lps)

    # vectorised forms: one (2,) / (3,) point, or (N, 2) / (N, 3) arrays
    def to_lps(self, points_px: Points) -> np.ndarray:
        return pixel_to_lps(points_px, self.origin_lps, self.right_lps, self.down_lps, self.spacing_mm)

    def to_pixel(self, points_lps: Points) -> np.ndarray:
        return lps_to_pixel(points_lps, self.origin_lps, self.right_lps, self.down_lps, self.spacing_mm)

    def distance_from_plane_mm(self, points_lps: Points) -> np.ndarray:
        p, single = _as_points(points_lps, 3, "points_lps")
        d = (p - self.origin_lps) @ self.normal_lps
        return d[0] if single else d


def image_plane(origin_lps: Vector, row_cosine: Vector, column_cosine: Vector, spacing_mm: Vector) -> PlaneSpec:
    """The plane of one DICOM image (ImagePositionPatient, ImageOrientationPatient, PixelSpacing);
    ValueError when a cosine is not a unit vector (a corrupt header, not something to normalise)."""
    for name, v in (("row_cosine", row_cosine), ("column_cosine", column_cosine)):
        n = float(np.linalg.norm(np.asarray(v, dtype=np.float64)))
        if not 0.99 < n < 1.01:
            raise ValueError(f"{name} must be a unit vector, got length {n:.3f}")
    return PlaneSpec(np.asarray(origin_lps, dtype=np.float64), np.asarray(row_cosine, dtype=np.float64),
                     np.asarray(column_cosine, dtype=np.float64), (float(spacing_mm[0]), float(spacing_mm[1])))


class VolumeGrid(Protocol):
    """What ``plane_from_geometry`` reads of a volume's geometry (app.dicom.model.Geometry)."""

    @property
    def direction(self) -> np.ndarray: ...
    @property
    def spacing_mm(self) -> np.ndarray: ...
    @property
    def shape_ijk(self) -> tuple[int, int, int]: ...
    def ijk_to_lps(self, ijk: np.ndarray) -> np.ndarray: ...


def plane_from_geometry(geometry: VolumeGrid, k: int) -> PlaneSpec:
    """The image plane of slice ``k`` of a volume ``Geometry`` (app.dicom.model): the i axis is
    the row cosine, the j axis the column cosine, spacing (j spacing, i spacing)."""
    origin = geometry.ijk_to_lps(np.array([0.0, 0.0, float(k)]))
    d = np.asarray(geometry.direction)
    sp = np.asarray(geometry.spacing_mm)
    ni, nj = int(geometry.shape_ijk[0]), int(geometry.shape_ijk[1])
    return PlaneSpec(origin, d[:, 0], d[:, 1], (float(sp[1]), float(sp[0])), (nj, ni))


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

    def to_mm(self, points_px: Points) -> np.ndarray:
        """(column, row) px -> (x, y) mm in the image plane (x along rows, y down the columns)."""
        if self.spacing_mm is None:
            raise ValueError(f"image is uncalibrated ({self.basis or 'no pixel spacing'}): no mm values")
        p, single = _as_points(points_px, 2, "points_px")
        out = p * np.array([self.spacing_mm[1], self.spacing_mm[0]])
        return out[0] if single else out
