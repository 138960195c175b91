"""The anatomy around the lumbar spine that a radiograph shows (no Qt): T11 and T12 with the
11th and 12th ribs, the iliac bones with the sacroiliac joints, and some bowel gas.

None of it carries findings; it is there so that the radiographs (and the CT through the
sacrum) show what a reader expects in the field of view. ``add_extra_ops`` appends shapes to a
``phantom.Model``; the parts table of the phantom names them (pedicle, rib, ilium, ...).
"""

from __future__ import annotations

import math

import numpy as np

from app.findings.model import Level
from app.samples import labels, phantom

PART_RIB = 18
PART_ILIUM = 19
PART_GAS = 20
phantom.PART_NAMES.update({PART_RIB: "rib", PART_ILIUM: "ilium", PART_GAS: "bowel gas"})


def _thoracic_ops(model: phantom.Model) -> None:
    """T12 and T11 stacked above L1 (body, pedicles, lamina, spinous process) with their ribs."""
    g = model.geometry
    s = g.scale
    ops = model.ops
    below = g.poses[Level.L1]
    for k, tilt_deg in enumerate((-17.0, -21.0)):
        hx, hy, hz = (below.half[0] * 0.95, below.half[1] * 0.96, below.half[2] * 0.97)
        axes = phantom._tilt_axes(tilt_deg)
        disc = 5.0 * s
        top_below = below.origin + below.axes[:, 2] * below.half[2]
        origin = top_below + axes[:, 2] * (disc + hz)
        pose = phantom.Pose(origin, axes, (hx, hy, hz))
        R = axes
        ops.append(phantom.Op(phantom.P_OUTER, phantom.Shape("prism", origin, R, (hx, hy, hz), 2.3, 0.07), labels.ENDPLATE, 2))
        ops.append(phantom.Op(phantom.P_INNER, phantom.Shape("prism", origin, R, (hx - 1.2, hy - 1.2, hz - 1.0), 2.3, 0.07),
                         labels.CORTICAL, 1, only_on=frozenset({labels.ENDPLATE})))
        ops.append(phantom.Op(phantom.P_INNER, phantom.Shape("prism", origin, R, (hx - 2.4, hy - 2.4, hz - 1.0), 2.3, 0.07),
                         labels.CANCELLOUS, 1))
        mid = (top_below + origin - axes[:, 2] * hz) / 2
        ops.append(phantom.Op(phantom.P_DISC, phantom.Shape("cyl", mid, R, (hx, hy, disc / 2 + 0.3)), labels.ANNULUS, 3))
        ops.append(phantom.Op(phantom.P_DISC, phantom.Shape("cyl", mid + R[:, 1] * 2.0, R, (hx * 0.5, hy * 0.45, disc / 2 - 0.8)),
                         labels.NUCLEUS, 3))
        canal = 10.5 * s
        for sx in (1.0, -1.0):
            ped = phantom.cylinder(pose.to_lps((sx * (canal + 4 * s), hy - 5 * s, 2 * s)),
                              pose.to_lps((sx * (canal + 5 * s), hy + 9 * s, 2 * s)), 4.0 * s, 6.5 * s)
            phantom._bone(ops, ped, 4, cortex=1.6)
            tp_a = pose.to_lps((sx * (canal + 6 * s), hy + 11 * s, 1 * s))
            tp_b = pose.to_lps((sx * (canal + 20 * s), hy + 17 * s, 3 * s))
            phantom._bone(ops, phantom.cylinder(tp_a, tp_b, 5.0 * s, 5.0 * s), 9, cortex=1.2)
            lam = phantom.cylinder(pose.to_lps((sx * (canal + 2 * s), hy + 15 * s, -2 * s)),
                              pose.to_lps((0.0, hy + 22 * s, -2 * s)), 3.5 * s, 6.5 * s)
            phantom._bone(ops, lam, 6, cortex=1.5)
            _rib_ops(ops, tp_b, sx, s, length_mm=(120.0 if k == 0 else 170.0) * s)
        canal_c = pose.to_lps((0.0, hy + 8.0 * s, 0.0))
        length = hz + 10.0
        ops.append(phantom.Op(phantom.P_CANAL, phantom.Shape("cyl", canal_c, R, (10.0 * s, 7.5 * s, length)),
                              labels.EPIDURAL_FAT, 12, only_on=frozenset(labels.SOFT_LABELS | {labels.ANNULUS})))
        ops.append(phantom.Op(phantom.P_CANAL, phantom.Shape("cyl", canal_c, R, (7.5 * s, 5.8 * s, length)), labels.CSF, 12,
                         only_on=frozenset({labels.EPIDURAL_FAT})))
        ops.append(phantom.Op(phantom.P_CANAL, phantom.Shape("cyl", canal_c, R, (4.6 * s, 4.0 * s, length)), labels.NERVE, 12,
                         only_on=frozenset({labels.CSF})))
        sp = phantom.cylinder(pose.to_lps((0.0, hy + 20 * s, -2 * s)), pose.to_lps((0.0, hy + 40 * s, -14 * s)),
                         3.0 * s, 8.0 * s)
        phantom._bone(ops, sp, 10, cortex=1.3)
        below = pose


def _rib_ops(ops: list, start_lps: np.ndarray, sx: float, s: float, length_mm: float) -> None:
    """A lower rib: from the transverse process tip laterally, downwards and forwards, tapering."""
    n = 10
    pts = []
    for i in range(n + 1):
        t = i / n
        ang = math.radians(70 * t)  # sweeps from lateral-backwards to lateral-forwards
        r = length_mm * 0.75
        x = start_lps[0] + sx * r * math.sin(ang)
        y = start_lps[1] + r * 0.15 * math.sin(2 * ang) - r * (1 - math.cos(ang)) * 0.9
        z = start_lps[2] - length_mm * 0.5 * t
        pts.append(np.array([x, y, z]))
    for i in range(n):
        rad = (4.2 - 1.2 * i / n) * s
        seg = phantom.cylinder(pts[i], pts[i + 1], rad, rad * 0.92, extend=rad * 0.6)
        phantom._bone(ops, seg, PART_RIB, cortex=1.1)


def _ilium_ops(model: phantom.Model) -> None:
    """Each iliac bone: the auricular part beside the sacral ala (a 2-3 mm sacroiliac joint
    between them), the wing fanning forwards and outwards to the crest, and the body running
    down towards the acetabulum."""
    g = model.geometry
    s = g.scale
    s1 = g.poses[Level.S1]
    ops = model.ops
    hx = s1.half[0]
    ala_edge = hx + 29 * s  # lateral edge of the sacral ala (phantom._sacrum_ops)
    for sx in (1.0, -1.0):
        auricular = phantom.Shape("sq", s1.to_lps((sx * (ala_edge + 2.5 + 10 * s), 6 * s, -10 * s)), s1.axes,
                             (10 * s, 19 * s, 24 * s), exponent=2.6)
        phantom._bone(ops, auricular, PART_ILIUM, cortex=1.6)
        # the wing: a thin plate from above the joint to the crest, opening forwards-outwards
        c = s1.to_lps((0.0, 0.0, 0.0))
        wing_c = np.array([sx * (ala_edge + 32 * s), c[1] - 4 * s, c[2] + 18 * s])
        R = phantom._rot_z(sx * 40.0) @ phantom._rot_x(-10.0)
        wing = phantom.Shape("sq", wing_c, R, (5.0 * s, 60 * s, 50 * s), exponent=2.3)
        phantom._bone(ops, wing, PART_ILIUM, cortex=1.4)
        body = phantom.Shape("sq", np.array([sx * (ala_edge + 18 * s), c[1] - 6 * s, c[2] - 40 * s]),
                        phantom._rot_z(sx * 30.0) @ phantom._rot_x(25.0), (12 * s, 26 * s, 46 * s), exponent=2.4)
        phantom._bone(ops, body, PART_ILIUM, cortex=1.8)


def _bowel_gas_ops(model: phantom.Model) -> None:
    """A few gas pockets in the bowel (seeded by the case), painted over viscera only."""
    g = model.geometry
    rng = np.random.default_rng([model.case.seed, 77])
    z_top = g.poses[Level.L1].origin[2]
    z_bot = g.poses[Level.S1].origin[2]
    y_spine = g.poses[Level.L3].origin[1]
    for _ in range(9):
        x = float(rng.uniform(-95, 95))
        y = float(y_spine - rng.uniform(35, 75))
        z = float(rng.uniform(z_bot, z_top))
        h = rng.uniform(6, 16, size=3)
        half = (float(h[0]), float(h[1]), float(h[2]))
        shape = phantom.Shape("sq", np.array([x, y, z]), phantom._rot_z(float(rng.uniform(0, 180))), half, exponent=2.2)
        model.ops.append(phantom.Op(phantom.P_DISC, shape, labels.AIR, PART_GAS, only_on=frozenset({labels.VISCERA})))


def add_extra_ops(model: phantom.Model) -> None:
    _thoracic_ops(model)
    _ilium_ops(model)
    _bowel_gas_ops(model)
