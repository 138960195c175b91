"""Segmental motion between flexion and extension views, from endplate lines (no Qt).

On each view the reader marks, at one motion segment (e.g. L4 on L5), the inferior endplate of
the upper vertebra (posterior corner, anterior corner) and the superior endplate of the lower
vertebra (posterior corner, anterior corner). Points are 2-D image mm ``(column, row)`` (rows
caudal) or 3-D LPS mm; the lower endplate's click order (posterior -> anterior) says which way
the patient faces.

Per view (``segment_position``):

* translation = signed distance, along the lower endplate, from the lower vertebra's
  postero-superior corner to the upper vertebra's postero-inferior corner (positive anterior;
  the Boden-Wiesel / Dupuis sagittal translation), in mm and in % of the lower endplate depth;
* angle = slope of the lower endplate minus slope of the upper endplate (slopes positive when
  the line descends anteriorly): positive = lordotic (open anteriorly), negative = kyphotic.

Between the views (``motion_between``): translation_mm, translation_pct and angulation_deg are
the absolute differences flexion vs extension (the values ``InstabilityMeasurement`` stores).
Thresholds for "instability" are the pathway's business (clinical-reference; they disagree).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.geometry.spinopelvic import SpinoPelvicGeometryError, sagittal_point

Point = Sequence[float]


class SegmentGeometryError(SpinoPelvicGeometryError):
    """Endplate points from which a segment position cannot be measured."""


@dataclass(frozen=True)
class SegmentPosition:
    translation: float  # mm (or px when uncalibrated), positive = upper vertebra anterior
    translation_pct: float  # % of the lower endplate depth
    angle_deg: float  # positive = lordotic


def _slope_deg(v: np.ndarray) -> float:
    return float(np.degrees(np.arctan2(-v[1], v[0])))


def segment_position(upper_posterior: Point, upper_anterior: Point, lower_posterior: Point, lower_anterior: Point,
                     min_length: float = 1e-6) -> SegmentPosition:
    """Translation and angle of the upper vertebra on the lower one on one view."""
    up, ua = sagittal_point(upper_posterior), sagittal_point(upper_anterior)
    lp, la = sagittal_point(lower_posterior), sagittal_point(lower_anterior)
    lower = la - lp
    depth = float(np.hypot(*lower))
    if depth <= min_length:
        raise SegmentGeometryError("the two points of the lower endplate coincide")
    if abs(lower[0]) <= min_length:
        raise SegmentGeometryError("the lower endplate is vertical: cannot tell anterior from posterior")
    facing = 1.0 if lower[0] > 0 else -1.0
    lower = np.array([facing * lower[0], lower[1]])
    upper = ua - up
    if float(np.hypot(*upper)) <= min_length:
        raise SegmentGeometryError("the two points of the upper endplate coincide")
    upper = np.array([facing * upper[0], upper[1]])
    if upper[0] < 0:
        upper = -upper
    offset = up - lp
    offset = np.array([facing * offset[0], offset[1]])
    translation = float(np.dot(offset, lower) / depth)
    return SegmentPosition(translation=translation, translation_pct=100.0 * translation / depth,
                           angle_deg=_slope_deg(lower) - _slope_deg(upper))


@dataclass(frozen=True)
class SegmentMotion:
    translation: float  # |flexion - extension|, same unit as the positions
    translation_pct: float
    angulation_deg: float


def motion_between(flexion: SegmentPosition, extension: SegmentPosition) -> SegmentMotion:
    """Absolute flexion-extension differences of translation and angle."""
    return SegmentMotion(translation=abs(flexion.translation - extension.translation),
                         translation_pct=abs(flexion.translation_pct - extension.translation_pct),
                         angulation_deg=abs(flexion.angle_deg - extension.angle_deg))


def optional_position(points: Sequence[Point]) -> SegmentPosition | None:
    """``segment_position`` of four points in click order, None when fewer or degenerate."""
    if len(points) < 4:
        return None
    try:
        return segment_position(points[0], points[1], points[2], points[3])
    except SpinoPelvicGeometryError:
        return None
