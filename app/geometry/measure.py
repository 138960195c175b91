"""Measurement maths on points: pure numpy, no Qt, no DICOM.

Points are 2D ``(x, y)`` (image pixels ``(column, row)`` or millimetres in a 2D frame) or 3D
LPS millimetres ``(x, y, z)``. Every function accepts either, as long as the points of one call
share a frame. Results are in the units of the input (mm in -> mm out, px in -> px out), except
angles (degrees) and percentages. Functions that need a plane (line intersection, signed
angles) project 3D points onto the best-fit plane of the points they are given.

Slip maths (clinical-reference 1.1, 1.3):

* ``percent_slip`` - Meyerding/Taillard percent slip of L5 on S1, technique 1 or 2 of
  Bourassa-Moreau 2010 (Spine 35(14):1401-5).
* ``slip_angle_deg`` - Boxall 1979 slip angle: angle between a line parallel to the L5 inferior
  endplate and the perpendicular to the S1 posterior border; positive = kyphotic.

Percent values are rounded to 1e-6 % so that constructed boundary cases (exactly 25 %) are not
pushed across a Meyerding boundary by floating-point noise from rotations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple, TypeAlias

import numpy as np

__all__ = [
    "ANTEROLISTHESIS",
    "POSTERIOR_CORNER_PERPENDICULAR",
    "POSTERIOR_WALL_TANGENT",
    "RETROLISTHESIS",
    "GeometryError",
    "RoiStats",
    "SlipMeasurement",
    "angle_deg",
    "cobb_angle_deg",
    "distance",
    "distance_mm",
    "ellipse_area",
    "ellipse_mask",
    "line_angle_deg",
    "percent_slip",
    "polygon_area",
    "polygon_area_mm2",
    "polygon_mask",
    "polyline_length",
    "project_to_plane_2d",
    "roi_stats",
    "slip_angle_deg",
]

# Technique identifiers: the same strings as app.findings.model.SlipTechnique values (a str enum,
# so either form is accepted). Kept as strings here: geometry sits below findings in the layers.
POSTERIOR_CORNER_PERPENDICULAR = "posterior-corner-perpendicular"
POSTERIOR_WALL_TANGENT = "posterior-wall-tangent"
# Directions: the same strings as app.findings.model.SlipDirection values.
ANTEROLISTHESIS = "anterolisthesis"
RETROLISTHESIS = "retrolisthesis"

_PCT_DECIMALS = 6
_EPS = 1e-12


class GeometryError(ValueError):
    """Points that do not define the requested measurement (coincident points, parallel lines)."""


class SlipMeasurement(tuple):
    """``(percent, direction)`` - unpacks as a pair - with more attributes:

    ``percent`` >= 0 (the direction says antero- or retrolisthesis), ``direction``
    (ANTEROLISTHESIS | RETROLISTHESIS), ``signed_percent`` (anterior positive),
    ``displacement`` (signed, input units), ``endplate_width`` (S1 superior endplate AP width,
    input units), ``technique``."""

    signed_percent: float
    displacement: float
    endplate_width: float
    technique: str

    def __new__(cls, percent: float, direction: str, signed_percent: float, displacement: float,
                endplate_width: float, technique: str) -> SlipMeasurement:
        self = super().__new__(cls, (percent, direction))
        self.signed_percent = signed_percent
        self.displacement = displacement
        self.endplate_width = endplate_width
        self.technique = technique
        return self

    @property
    def percent(self) -> float:
        return self[0]

    @property
    def direction(self) -> str:
        return self[1]

    def __repr__(self) -> str:
        return (f"SlipMeasurement(percent={self.percent!r}, direction={self.direction!r}, "
                f"signed_percent={self.signed_percent!r}, technique={self.technique!r})")


class RoiStats(NamedTuple):
    mean: float
    sd: float  # sample standard deviation (ddof=1); 0.0 for a single pixel
    n: int  # number of pixels in the mask
    area_mm2: float | None  # None when the image has no mm calibration


# --------------------------------------------------------------------------- helpers

PointLike: TypeAlias = Sequence[float] | np.ndarray  # one point, 2D or 3D


def _pts(points: Sequence | np.ndarray, name: str = "points") -> np.ndarray:
    a = np.asarray(points, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2 or a.shape[1] not in (2, 3):
        raise GeometryError(f"{name}: expected 2D or 3D points, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise GeometryError(f"{name}: points must be finite numbers")
    return a


def _pt(point: PointLike, name: str) -> np.ndarray:
    a = np.asarray(point, dtype=np.float64).reshape(-1)
    if a.shape[0] not in (2, 3) or not np.all(np.isfinite(a)):
        raise GeometryError(f"{name}: expected a finite 2D or 3D point, got {point!r}")
    return a


def _same_dim(*arrays: np.ndarray) -> None:
    dims = {a.shape[-1] for a in arrays}
    if len(dims) != 1:
        raise GeometryError("points mix 2D and 3D coordinates")


def _unit(v: np.ndarray, what: str) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if n < _EPS:
        raise GeometryError(f"{what}: the two points coincide")
    return v / n


def project_to_plane_2d(points: Sequence | np.ndarray) -> np.ndarray:
    """2D coordinates of points in their own best-fit plane (identity for 2D input).

    3D points are centred and expressed in the two principal directions (SVD), so distances and
    unsigned angles within the plane are preserved. The handedness of the 2D frame is arbitrary:
    callers needing a signed angle must define the sign from the anatomy, not from the frame.
    """
    a = _pts(points)
    if a.shape[1] == 2:
        return a.copy()
    c = a - a.mean(axis=0)
    if np.allclose(c, 0):
        return np.zeros((a.shape[0], 2))
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    basis = vt[:2]
    if basis.shape[0] < 2:
        basis = np.vstack([basis, np.zeros(3)])
    return c @ basis.T


# --------------------------------------------------------------------------- lengths and angles

def distance(p1: Sequence, p2: Sequence) -> float:
    """Euclidean distance in the units of the input."""
    a, b = _pt(p1, "first point"), _pt(p2, "second point")
    _same_dim(a, b)
    return float(np.linalg.norm(b - a))


def distance_mm(p1_mm: Sequence, p2_mm: Sequence) -> float:
    """Distance between two points given in mm (2D mm frame or 3D LPS)."""
    return distance(p1_mm, p2_mm)


def polyline_length(points: Sequence) -> float:
    a = _pts(points)
    if len(a) < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(a, axis=0), axis=1).sum())


def angle_deg(p1: Sequence, vertex: Sequence, p3: Sequence) -> float:
    """Angle p1-vertex-p3 in degrees, 0..180."""
    a, v, b = _pt(p1, "first point"), _pt(vertex, "vertex"), _pt(p3, "third point")
    _same_dim(a, v, b)
    u1 = _unit(a - v, "angle first arm")
    u2 = _unit(b - v, "angle second arm")
    return math.degrees(math.atan2(float(np.linalg.norm(np.cross(_pad3(u1), _pad3(u2)))), float(u1 @ u2)))


def _pad3(v: np.ndarray) -> np.ndarray:
    return v if v.shape[-1] == 3 else np.append(v, 0.0)


def line_angle_deg(line1: Sequence, line2: Sequence) -> float:
    """Acute angle between two (undirected) lines, each given by two points: 0..90 degrees."""
    l1, l2 = _pts(line1, "line 1"), _pts(line2, "line 2")
    if l1.shape[0] != 2 or l2.shape[0] != 2:
        raise GeometryError("a line is given by exactly two points")
    _same_dim(l1, l2)
    d1 = _unit(l1[1] - l1[0], "line 1")
    d2 = _unit(l2[1] - l2[0], "line 2")
    c = abs(float(d1 @ d2))
    s = float(np.linalg.norm(np.cross(_pad3(d1), _pad3(d2))))
    return math.degrees(math.atan2(s, c))


def cobb_angle_deg(line1: Sequence, line2: Sequence) -> float:
    """Cobb angle between two endplate lines: the acute angle between them, 0..90 degrees.

    (The perpendiculars construction used on film gives the same angle.)"""
    return line_angle_deg(line1, line2)


# --------------------------------------------------------------------------- areas and masks

def polygon_area(points: Sequence | np.ndarray) -> float:
    """Area of a simple polygon (shoelace), in squared input units; 3D points are projected
    onto their best-fit plane first. Fewer than 3 points: 0."""
    a = project_to_plane_2d(points)
    if len(a) < 3:
        return 0.0
    x, y = a[:, 0], a[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def polygon_area_mm2(points_mm: Sequence) -> float:
    """Polygon area in mm^2 for vertices in mm (2D mm frame or 3D LPS)."""
    return polygon_area(points_mm)


def ellipse_area(radius_a: float, radius_b: float) -> float:
    return math.pi * abs(radius_a) * abs(radius_b)


def ellipse_mask(shape_rc: tuple[int, int], center_px: Sequence[float], radii_px: Sequence[float]) -> np.ndarray:
    """Boolean mask [row, column] of the pixels whose centres lie inside an axis-aligned ellipse.

    ``center_px`` = (column, row); ``radii_px`` = (column radius, row radius). Pixel (c, r) has
    its centre at (c, r)."""
    rows, cols = int(shape_rc[0]), int(shape_rc[1])
    cx, cy = float(center_px[0]), float(center_px[1])
    rx, ry = abs(float(radii_px[0])), abs(float(radii_px[1]))
    if rx <= 0 or ry <= 0:
        return np.zeros((rows, cols), dtype=bool)
    r = np.arange(rows, dtype=np.float64)[:, None]
    c = np.arange(cols, dtype=np.float64)[None, :]
    return ((c - cx) / rx) ** 2 + ((r - cy) / ry) ** 2 <= 1.0


def polygon_mask(shape_rc: tuple[int, int], vertices_px: Sequence[Sequence[float]]) -> np.ndarray:
    """Boolean mask [row, column] of the pixels whose centres are inside the polygon
    (even-odd rule); vertices are (column, row). Fewer than 3 vertices: empty mask."""
    rows, cols = int(shape_rc[0]), int(shape_rc[1])
    mask = np.zeros((rows, cols), dtype=bool)
    v = np.asarray(vertices_px, dtype=np.float64).reshape(-1, 2)
    if len(v) < 3:
        return mask
    c0 = max(int(math.floor(v[:, 0].min())), 0)
    c1 = min(int(math.ceil(v[:, 0].max())), cols - 1)
    r0 = max(int(math.floor(v[:, 1].min())), 0)
    r1 = min(int(math.ceil(v[:, 1].max())), rows - 1)
    if c1 < c0 or r1 < r0:
        return mask
    yy, xx = np.mgrid[r0:r1 + 1, c0:c1 + 1].astype(np.float64)
    inside = np.zeros(xx.shape, dtype=bool)
    xj, yj = v[-1]
    for xi, yi in v:
        if yi != yj:
            crosses = (yi > yy) != (yj > yy)
            x_at = (xj - xi) * (yy - yi) / (yj - yi) + xi
            inside ^= crosses & (xx < x_at)
        xj, yj = xi, yi
    mask[r0:r1 + 1, c0:c1 + 1] = inside
    return mask


def roi_stats(image: np.ndarray, mask: np.ndarray, pixel_spacing_mm: Sequence[float] | None = None) -> RoiStats:
    """Mean, sample SD, pixel count and area (mm^2, when ``pixel_spacing_mm`` = (row, column)
    spacing is given) of ``image`` [row, column] inside ``mask``. An empty mask gives
    NaN mean/SD and n = 0."""
    img = np.asarray(image)
    m = np.asarray(mask, dtype=bool)
    if img.ndim != 2 or img.shape != m.shape:
        raise GeometryError(f"image {img.shape} and mask {m.shape} must be 2D arrays of the same shape")
    vals = img[m].astype(np.float64)
    n = int(vals.size)
    area = None
    if pixel_spacing_mm is not None:
        area = n * float(pixel_spacing_mm[0]) * float(pixel_spacing_mm[1])
    if n == 0:
        return RoiStats(float("nan"), float("nan"), 0, area)
    sd = float(vals.std(ddof=1)) if n > 1 else 0.0
    return RoiStats(float(vals.mean()), sd, n, area)


# --------------------------------------------------------------------------- slip

def _line_intersection_2d(p: np.ndarray, d: np.ndarray, q: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Intersection of p + t d and q + s e (2D)."""
    m = np.array([[d[0], -e[0]], [d[1], -e[1]]])
    det = float(np.linalg.det(m))
    if abs(det) < 1e-9 * max(1.0, float(np.linalg.norm(d) * np.linalg.norm(e))):
        raise GeometryError("the L5 posterior wall is parallel to the S1 endplate: no intersection")
    t, _ = np.linalg.solve(m, q - p)
    return p + t * d


def percent_slip(
    s1_posterior_superior: PointLike,
    s1_anterior_superior: PointLike,
    l5_posterior_inferior: PointLike,
    technique: str = POSTERIOR_CORNER_PERPENDICULAR,
    l5_posterior_wall_top: PointLike | None = None,
) -> SlipMeasurement:
    """Meyerding/Taillard percent slip of L5 on S1.

    The S1 superior endplate runs from the S1 postero-superior corner (P) to the antero-superior
    corner (A); u = (A - P)/|A - P| points anteriorly and |A - P| is the endplate AP width.

    * Technique 1 (``POSTERIOR_CORNER_PERPENDICULAR``, Bourassa-Moreau 2010): the L5
      postero-inferior corner C is dropped perpendicularly onto the endplate line;
      displacement = (C - P) . u.
    * Technique 2 (``POSTERIOR_WALL_TANGENT``; needs ``l5_posterior_wall_top`` T): the line
      through T and C (tangent to the L5 posterior wall) is intersected with the endplate line
      at X; displacement = (X - P) . u.

    percent = 100 * displacement / width; anterior displacement is anterolisthesis, posterior
    is retrolisthesis (``percent`` is its magnitude, ``signed_percent`` keeps the sign).
    Works on 2D points (px or mm; use mm when the pixel spacing is anisotropic) and 3D LPS
    points (technique 1 uses 3D dot products, i.e. the orthogonal projection onto the endplate
    direction; technique 2 projects the four points onto their best-fit plane).
    Returns a ``SlipMeasurement`` (a named tuple; ``percent, direction = result[:2]``).
    """
    p = _pt(s1_posterior_superior, "S1 postero-superior corner")
    a = _pt(s1_anterior_superior, "S1 antero-superior corner")
    c = _pt(l5_posterior_inferior, "L5 postero-inferior corner")
    _same_dim(p, a, c)
    technique = str(getattr(technique, "value", technique))
    width = float(np.linalg.norm(a - p))
    if width < _EPS:
        raise GeometryError("S1 endplate: the postero-superior and antero-superior corners coincide")
    if technique == POSTERIOR_CORNER_PERPENDICULAR:
        u = (a - p) / width
        disp = float((c - p) @ u)
    elif technique == POSTERIOR_WALL_TANGENT:
        if l5_posterior_wall_top is None:
            raise GeometryError("technique 2 (posterior-wall tangent) needs the L5 posterior wall top point")
        t = _pt(l5_posterior_wall_top, "L5 posterior wall top")
        _same_dim(p, t)
        if float(np.linalg.norm(t - c)) < _EPS:
            raise GeometryError("L5 posterior wall: the two points coincide")
        p2, a2, c2, t2 = project_to_plane_2d(np.vstack([p, a, c, t]))
        u2 = (a2 - p2) / float(np.linalg.norm(a2 - p2))
        x = _line_intersection_2d(p2, a2 - p2, c2, t2 - c2)
        disp = float((x - p2) @ u2)
        width = float(np.linalg.norm(a2 - p2))
    else:
        raise GeometryError(f"unknown slip technique {technique!r}")
    signed = round(100.0 * disp / width, _PCT_DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0
    direction = ANTEROLISTHESIS if signed >= 0 else RETROLISTHESIS
    return SlipMeasurement(abs(signed), direction, signed, disp, width, technique)


def slip_angle_deg(
    l5_inferior_endplate_line: Sequence[PointLike],
    s1_posterior_wall_line: Sequence[PointLike],
    anterior_direction: PointLike | None = None,
) -> float:
    """Boxall slip angle in degrees (-90..90): the angle between a line parallel to the L5
    inferior endplate and the perpendicular to the S1 posterior border; positive = kyphotic
    (the anterior end of the L5 endplate tilted caudally), negative = lordotic.

    ``s1_posterior_wall_line`` = (superior point, inferior point) along the posterior border of
    S1 (the order defines "cranial"). The L5 endplate line is ordered (posterior, anterior)
    unless ``anterior_direction`` (e.g. the S1 endplate vector posterior->anterior) is given, in
    which case the point order does not matter. The angle uses dot products only, so it does not
    depend on the handedness of the image frame; 3D points are first projected onto the
    best-fit plane of the four points.
    """
    e_line = _pts(l5_inferior_endplate_line, "L5 inferior endplate line")
    w_line = _pts(s1_posterior_wall_line, "S1 posterior wall line")
    if e_line.shape[0] != 2 or w_line.shape[0] != 2:
        raise GeometryError("a line is given by exactly two points")
    _same_dim(e_line, w_line)
    pts = np.vstack([e_line, w_line])
    ant = None if anterior_direction is None else np.asarray(anterior_direction, dtype=np.float64).reshape(-1)
    if pts.shape[1] == 3:
        if ant is not None:
            if ant.shape[0] != 3:
                raise GeometryError("anterior direction must be 3D for 3D points")
            pts = np.vstack([pts, pts[0] + ant])
        pts = project_to_plane_2d(pts)
        if ant is not None:
            ant = pts[4] - pts[0]
            pts = pts[:4]
    e = _unit(pts[1] - pts[0], "L5 inferior endplate")
    cranial = _unit(pts[2] - pts[3], "S1 posterior wall")
    perp = e - (e @ cranial) * cranial  # the endplate's component perpendicular to the wall
    if ant is not None and float(e @ ant) < 0:
        e = -e
        perp = -perp
    if float(np.linalg.norm(perp)) < _EPS:
        raise GeometryError("the L5 endplate is parallel to the S1 posterior wall")
    # e = cos(t) * perp_unit + sin(t) * cranial; kyphotic (anterior end down) is positive.
    return math.degrees(math.atan2(-float(e @ cranial), float(np.linalg.norm(perp))))
