"""Spino-pelvic parameters from landmarks on a standing lateral image (Legaye / Duval-Beaupère).

Landmarks (2-D image mm ``(column, row)`` with rows increasing caudally, as on a standing
lateral radiograph; or 3-D LPS mm on a sagittal CT/MR slice, where anterior is -y and cranial +z):

* ``hip_1``, ``hip_2``: the two femoral head centres; the hip axis H is their midpoint (click the
  same point twice when the heads superimpose);
* ``s1_posterior``, ``s1_anterior``: the ends of the S1 superior endplate (the order tells which
  way the patient faces); M is its midpoint;
* optional ``l1_posterior``, ``l1_anterior``: the L1 superior endplate (for lumbar lordosis).

In the sagittal plane with x anterior and y cranial:

* SS (sacral slope) = angle of the S1 endplate to the horizontal, positive when its anterior end
  is lower (the normal case);
* PT (pelvic tilt) = angle between the vertical and M->H, positive when H is anterior to M;
* PI (pelvic incidence) = angle between the perpendicular to the S1 endplate at M and M->H
  (unsigned, 0-180), so PI = PT + SS whenever H lies anterior to that perpendicular;
* LL (lumbar lordosis, L1-S1) = SS - slope of the L1 superior endplate (same sign convention):
  positive = lordosis, negative = kyphosis.

The image vertical is taken as the true vertical (standing film, no tilt correction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Point = Sequence[float]


class SpinoPelvicGeometryError(ValueError):
    """Landmarks from which the parameters cannot be computed (names the problem)."""


@dataclass(frozen=True)
class SpinoPelvicAngles:
    pelvic_incidence_deg: float
    pelvic_tilt_deg: float
    sacral_slope_deg: float
    lumbar_lordosis_deg: float | None = None


def sagittal_point(p: Point) -> np.ndarray:
    """(horizontal, cranial) of an image point: 2-D (column, row) -> (column, -row);
    3-D LPS -> (-y anterior, z cranial)."""
    v = np.asarray(p, dtype=np.float64).reshape(-1)
    if v.size == 2:
        return np.array([v[0], -v[1]])
    if v.size == 3:
        return np.array([-v[1], v[2]])
    raise SpinoPelvicGeometryError(f"a landmark must have 2 or 3 coordinates, got {v.size}")


def _slope_deg(direction: np.ndarray) -> float:
    """Angle of an anterior-pointing line to the horizontal, positive when it descends anteriorly."""
    return math.degrees(math.atan2(-direction[1], direction[0]))


def _from_down_deg(v: np.ndarray) -> float:
    """Angle of ``v`` from the downward vertical, positive towards anterior."""
    return math.degrees(math.atan2(v[0], -v[1]))


def spinopelvic_angles(hip_1: Point, hip_2: Point, s1_posterior: Point, s1_anterior: Point,
                       l1_posterior: Point | None = None, l1_anterior: Point | None = None,
                       min_length_mm: float = 1e-6) -> SpinoPelvicAngles:
    """PI, PT, SS (and LL with both L1 points) in degrees; SpinoPelvicGeometryError when the
    landmarks are degenerate (endplate of zero length or vertical, hip axis on the endplate)."""
    hips = (sagittal_point(hip_1), sagittal_point(hip_2))
    s1p, s1a = sagittal_point(s1_posterior), sagittal_point(s1_anterior)
    endplate = s1a - s1p
    if np.hypot(*endplate) <= min_length_mm:
        raise SpinoPelvicGeometryError("the two S1 endplate points coincide")
    if abs(endplate[0]) <= min_length_mm:
        raise SpinoPelvicGeometryError("the S1 endplate is vertical: cannot tell anterior from posterior")
    facing = 1.0 if endplate[0] > 0 else -1.0  # the patient faces towards +column or -column

    def anterior(v: np.ndarray) -> np.ndarray:
        return np.array([facing * v[0], v[1]])

    u = anterior(endplate)
    m_mid = (s1p + s1a) / 2.0
    hip_axis = (hips[0] + hips[1]) / 2.0
    to_hip = anterior(hip_axis - m_mid)
    if np.hypot(*to_hip) <= min_length_mm:
        raise SpinoPelvicGeometryError("the hip axis lies on the S1 endplate midpoint")
    ss = _slope_deg(u)
    pt = _from_down_deg(to_hip)
    normal = np.array([u[1], -u[0]]) / np.hypot(*u)  # perpendicular to the endplate, into the sacrum
    cross = float(normal[0] * to_hip[1] - normal[1] * to_hip[0])
    pi = math.degrees(math.atan2(abs(cross), float(np.dot(normal, to_hip))))  # unsigned, stable near 0
    ll = None
    if l1_posterior is not None and l1_anterior is not None:
        l1 = anterior(sagittal_point(l1_anterior) - sagittal_point(l1_posterior))
        if np.hypot(*l1) <= min_length_mm:
            raise SpinoPelvicGeometryError("the two L1 endplate points coincide")
        if l1[0] < 0:  # clicked anterior first: same line
            l1 = -l1
        ll = ss - _slope_deg(l1)
    return SpinoPelvicAngles(pelvic_incidence_deg=pi, pelvic_tilt_deg=pt, sacral_slope_deg=ss, lumbar_lordosis_deg=ll)
