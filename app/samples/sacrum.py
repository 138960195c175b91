"""The sacrum and coccyx of the phantom as one curved, tapering bone (no Qt).

Below the S1 body (a vertebral body, ``phantom.body_ops``) the sacrum is one shape per side (a
``phantom.Shape`` of kind "fn", so each half can be cut at its own sacroiliac joint): a plate
bent along a circular arc in the mid-sagittal plane (the sacral kyphosis), whose half-width
narrows from the alae at S1 to the apex (a triangle with convex sides: wide over the auricular
S1-S2, narrowing fast below S3), and whose depth shrinks caudally. The alae rise from the S1
body laterally and slope down to the joints. Over it: the fused S1-S5 segments' vestigial discs as
faint transverse ridges, four pairs of sacral foramina (round lucencies through the front of the bone, converging
caudally), the sacral canal, the median crest's tubercles, and a small coccyx of three segments.

Sacral frame: the S1 pose (x = patient left, y' = posterior, z' = along the S1 endplate normal),
origin at the S1 body centre. The arc starts there heading down (-z') and turns forwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.samples import labels as T, phantom as P

ARC_LENGTH_MM = 84.0  # S1 body centre to the apex (S5), adult
ARC_TURN_DEG = 55.0  # how far the sacrum's axis turns forwards over that length
JUNCTIONS_MM = (12.0, 33.0, 52.0, 68.0)  # S1/S2 .. S4/S5 along the arc (fused, vestigial discs)
ARCUATE_RIM_MM = 1.0  # the dense upper rim of each anterior foramen (the arcuate lines on the AP)


@dataclass(frozen=True)
class SacralArc:
    """The sacrum's axis: an arc of radius ``radius`` in the (y', z') plane of the S1 frame,
    starting at the origin heading -z' and turning towards -y' (forwards)."""

    length: float
    turn_rad: float

    @property
    def radius(self) -> float:
        return self.length / self.turn_rad

    def point(self, ell: float) -> tuple[float, float]:
        """(y', z') of the point at arc length ``ell`` (mm)."""
        r = self.radius
        phi = ell / r
        return r * math.cos(phi) - r, -r * math.sin(phi)

    def normal(self, ell: float) -> tuple[float, float]:
        """(y', z') unit vector pointing posteriorly, perpendicular to the axis at ``ell``."""
        phi = ell / self.radius
        return math.cos(phi), -math.sin(phi)

    def tangent(self, ell: float) -> tuple[float, float]:
        """(y', z') unit vector along the axis (caudally) at ``ell``."""
        phi = ell / self.radius
        return -math.sin(phi), -math.cos(phi)

    def local(self, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(arc length, posterior distance from the axis) of points (y', z')."""
        r = np.float32(self.radius)
        ry, rz = y + r, z
        ell = np.arctan2(-rz, ry) * r
        d = np.sqrt(ry * ry + rz * rz) - r
        return ell, d


@dataclass(frozen=True)
class _SacrumHalf:
    """Inside test of one half (x >= 0 in its own frame) of the sacrum below / beside S1."""

    arc: SacralArc
    box_c: tuple[float, float, float]  # box centre in the S1 frame (x mirrored to this half)
    s1_half: tuple[float, float, float]
    s: float

    def half_width(self, ell: np.ndarray) -> np.ndarray:
        """Lateral half-width (mm): the alae at S1, narrowing to the apex with convex sides."""
        s = self.s
        t = np.clip((ell - 8.0 * s) / (self.arc.length - 8.0 * s), 0.0, 1.0)
        return (12.0 + 43.0 * np.cos(0.5 * np.pi * t)) * s

    def depth(self, ell: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(anterior, posterior) extent from the axis (mm) at arc length ``ell``, lateral ``x``."""
        s = self.s
        t = np.clip(ell / self.arc.length, 0.0, 1.0)
        front = self.s1_half[1] - 11.0 * t * s
        back = front + (12.0 - 6.0 * t) * s
        # the lateral masses and alae are less deep than the midline (canal and crest behind)
        # and their back slopes forwards laterally (the dorsal surface convex): with the back only
        # 35 % less deep at the edge it was flat over most of the width, and its cortex, seen
        # along that width on the lateral, drew a sharp bright posterior outline (a lens)
        lat = np.clip(x / np.maximum(w, 1.0), 0.0, 1.0)
        return front * (1.0 - 0.25 * lat * lat), back * (1.0 - 0.55 * lat ** 1.5)

    def __call__(self, q0: np.ndarray, q1: np.ndarray, q2: np.ndarray, shrink: float) -> np.ndarray:
        # the full test only on the points near the arc (a cheap first pass: the sacrum fills
        # part of its box, and the full test was a quarter of an oblique's render time)
        x = np.abs(q0 + np.float32(self.box_c[0]))
        y = q1 + np.float32(self.box_c[1])
        z = q2 + np.float32(self.box_c[2])
        ell, d = self.arc.local(y, z)
        hy = self.s1_half[1]
        near = (d >= -hy - 1.0) & (d <= hy + 13.0 * self.s) & (ell <= self.arc.length + 1.0) & (x <= 56.0 * self.s)
        return P.inside_where(near, self._full, x, z, ell, d, shrink=shrink)

    def _full(self, x: np.ndarray, z: np.ndarray, ell: np.ndarray, d: np.ndarray, shrink: float) -> np.ndarray:
        s = self.s
        ell_c = np.maximum(ell, 0.0)
        w = self.half_width(ell_c)
        front, back = self.depth(ell_c, x, w)
        # the rounded apex: the section shrinks over the last 8 mm
        tip = np.sqrt(np.clip(1.0 - ((ell - (self.arc.length - 8.0 * s)) / (8.0 * s)).clip(0.0, None) ** 2, 0.0, 1.0))
        w = w * tip - shrink
        dc = (back - front) / 2
        th = (back + front) / 2 * np.maximum(tip, 0.3) - shrink
        # (x to the 4th: the lateral masses as deep as the mid-line almost to the edge, their flat
        # back seen along its width drew a sharp bright outline, a lens, on the lateral)
        m = (x / np.maximum(w, 0.1)) ** 2.5 + (np.abs(d - dc) / np.maximum(th, 0.1)) ** 3 <= 1.0
        m &= (w > 0) & (th > 0)
        # above the S1 body centre: the top of the alae, below the S1 endplate, sloping down
        # laterally and rounded into the lateral border; behind the body (canal, lateral masses)
        # the top is lower, at the S1 laminae: the S1 pedicles and superior articular processes
        # (separate shapes) stand on it, and the L5 pars and inferior articular processes above
        # it stay clear of the sacrum on the obliques
        hx, hy, hz = self.s1_half
        # (the ala's upper border curving down laterally: sloping 0.12 mm a mm it drew a flat
        # straight top across the sacrum on the AP, a shield)
        top = (0.85 * hz - 12.0 * s * (np.maximum(x - (hx - 4.0 * s), 0.0) / (32.0 * s)) ** 1.4
               - 4.0 * (x / np.maximum(w + shrink, 1.0)) ** 8)
        behind = np.clip((d - (hy - 4.0 * s)) / (6.0 * s), 0.0, 1.0)
        top = top - behind * (top + 2.0 * s)
        # (the lateral alae are cut by it below the S1 body centre too: bounding only the part
        # above it, the alae's top was the flat plane through the centre, a straight line across
        # the sacrum on the AP)
        m &= (z <= top - shrink) | ((ell >= 0) & (x < hx - 4.0 * s))
        return m


def sacrum_ops(model: P.Model, pose: P.Pose) -> None:
    """Append the sacrum (below and beside the S1 body) and the coccyx to ``model``."""
    ops = model.ops
    s = model.geometry.scale
    hx, hy, hz = pose.half
    R = pose.axes
    arc = SacralArc(ARC_LENGTH_MM * s, math.radians(ARC_TURN_DEG))
    # the box of one half, sampled along the arc (x from 0 to the alae)
    ells = np.linspace(0.0, arc.length, 30)
    pts = []
    for ell in ells:
        y, z = arc.point(float(ell))
        ny, nz = arc.normal(float(ell))
        for d in (-hy - 2.0, hy + 16.0):
            pts.append((y + ny * d, z + nz * d))
    pts.append((-hy - 2.0, hz + 1.0))
    pts.append((hy + 16.0, hz + 1.0))
    yz = np.array(pts)
    lo = np.array([0.0, yz[:, 0].min(), yz[:, 1].min()]) - 1.0
    hi = np.array([57.0 * s, yz[:, 0].max(), yz[:, 1].max()]) + 1.0
    box_c = (lo + hi) / 2
    half = tuple(float(v) for v in (hi - lo) / 2)
    for sx in (1.0, -1.0):
        axes = R @ np.diag([sx, 1.0, 1.0])
        fn = _SacrumHalf(arc, (float(box_c[0]), float(box_c[1]), float(box_c[2])), (hx, hy, hz), s)
        shape = P.Shape("fn", pose.to_lps(np.array([sx * box_c[0], box_c[1], box_c[2]])), axes, half,
                        extra={"inside": fn, "half0": half[0], "sacrum_side": sx})
        P._bone(ops, shape, 11, cortex=1.0)

    def at(ell: float, d: float, x: float = 0.0) -> np.ndarray:
        y, z = arc.point(ell)
        ny, nz = arc.normal(ell)
        return pose.to_lps((x, y + ny * d, z + nz * d))

    def frame(ell: float) -> np.ndarray:
        """Columns: x, posterior normal, axis (cranial) in LPS at ``ell``."""
        ny, nz = arc.normal(ell)
        ty, tz = arc.tangent(ell)
        return np.stack([R[:, 0], R @ np.array([0.0, ny, nz]), R @ np.array([0.0, -ty, -tz])], axis=1)

    # the fused segments' vestigial discs: faint short ridges at the anterior margin only (a
    # residual disc line on the lateral, a faint short line on the AP). Across 90 % of the
    # bodies' depth and 30 mm wide they drew ruler-like white lines on the AP and the lateral
    for k, ell in enumerate(JUNCTIONS_MM):
        e = ell * s
        front = hy - 11.0 * s * e / arc.length
        ridge = P.Shape("sq", at(e, -0.72 * front), frame(e), ((9.0 - 1.5 * k) * s, 0.24 * front, 0.45), exponent=2.0)
        ops.append(P.Op(P.P_INNER, ridge, T.ENDPLATE, 11, only_on=frozenset({T.CANCELLOUS})))
    # the sacral canal along the arc, behind the bodies
    for ell in np.arange(0.0, arc.length - 6.0 * s, 6.0 * s):
        e = float(ell)
        t = e / arc.length
        front = hy - 11.0 * t * s
        cn = P.Shape("cyl", at(e, front + (4.5 - 1.5 * t) * s), frame(e),
                     ((11.0 - 6.0 * t) * s, (4.5 - 2.0 * t) * s, 3.6 * s))
        ops.append(P.Op(P.P_CANAL, cn, T.EPIDURAL_FAT, 12))
    # the sacral foramina: four pairs of small round holes in two columns converging caudally,
    # through the front of the bone only and shallower (fainter) caudally, holding the nerve
    # roots (soft tissue, not fat). At 5.0-2.6 mm radius, 27-15 mm from the mid-line and as deep
    # at every level they were regular round black holes (a bowling ball); through 100-46 % of
    # the front's depth, 1.3 times taller than wide and filled with fat, still dark oval holes;
    # through 60-30 %, dark round holes
    for k, ell in enumerate(JUNCTIONS_MM):
        e = ell * s
        t = e / arc.length
        front = hy - 11.0 * t * s
        x = (20.0 - 2.0 * k) * s
        r = (3.8 - 0.45 * k) * s
        depth = 0.45 - 0.07 * k
        for sx in (1.0, -1.0):  # along the AP beam (patient y), so that the AP shows them round
            c = at(e, 0.0, sx * x)
            a, b = c - np.array([0.0, 1.2 * front, 0.0]), c - np.array([0.0, (1.2 - depth) * front, 0.0])
            ops.append(P.Op(P.P_CANAL, P.cylinder(a, b, r, 1.1 * r), T.NERVE, 12,
                            only_on=frozenset(T.BONE_LABELS)))
            # the arcuate line: the foramen's upper rim, a dense arc over it (the foramen's hole,
            # painted later, leaves a rim ARCUATE_RIM_MM wide) through the front half of the
            # hole's depth, fading caudally with the foramen (1.4 mm through the whole depth drew
            # white semicircles, not faint lines)
            rim = P.cylinder(a, (a + b) / 2, r + ARCUATE_RIM_MM * s, 1.1 * r + ARCUATE_RIM_MM * s)
            rim.clip = (c, np.array([0.0, 0.0, -1.0]))  # the upper half only (the hole runs along y)
            ops.append(P.Op(P.P_INNER, rim, T.ENDPLATE, 11, only_on=frozenset({T.CANCELLOUS})))
    # the median crest: a tubercle behind each of S2-S4 (S1's is the spinous process kept by the caller)
    for k, ell in enumerate((24.0, 43.0, 60.0)):
        e = ell * s
        t = e / arc.length
        back = hy - 11.0 * t * s + (12.0 - 6.0 * t) * s
        tub = P.Shape("sq", at(e, back + 1.5 * s), frame(e), (2.6 * s, (4.0 - 0.8 * k) * s, (6.0 - k) * s), exponent=2.5)
        # cancellous through: with a 1 mm cortex, seen end on, each drew a bright oval ring in the
        # mid-line of the AP (a row of ruler marks down the sacrum)
        P._bone(ops, tub, 10, cortex=0.6, outer_label=T.CANCELLOUS)
    # the coccyx: three small segments beyond the apex, curving on forwards, with small gaps
    ell = arc.length + 3.0 * s
    for hw, hd, hh in ((9.0, 5.5, 5.0), (6.0, 4.5, 4.0), (4.0, 3.5, 3.0)):
        e = ell + hh * s
        seg = P.Shape("sq", at(e, 0.0), frame(e), (hw * s, hd * s, hh * s), exponent=2.5)
        P._bone(ops, seg, 11, cortex=0.9)
        ell = e + hh * s + 2.0 * s
