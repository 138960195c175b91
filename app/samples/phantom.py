"""Analytic lumbar spine phantom (L1 to S1 + sacrum) in patient coordinates (LPS mm), no Qt.

The model is a list of analytic shapes (superellipse prisms, elliptic cylinders, superquadric
boxes, ellipsoids) placed per vertebra along a lordotic curve. ``label_volume(case, grid)``
rasterises them to a uint8 tissue label volume (table in app.samples.labels); CT, MR and the
radiographs all derive from it. ``part_volume`` rasterises the same model to structure ids
(``PART_NAMES``: vertebral body, pedicle, pars, lamina, ...) for a labelled view of the anatomy.

Vertebra frame: origin at the body centre; x = patient left, y' = posterior along the endplate,
z' = superior endplate normal. A vertebra tilted by phi (the endplate slope; sacral slope for
S1) has y' = (0, cos phi, sin phi), z' = (0, -sin phi, cos phi) in LPS. Levels are chained by
their posterior corners: the postero-inferior corner of a vertebra sits above the
postero-superior corner of the one below, displaced forward along that endplate by the slip.

Isthmic slip (L5 on S1): the L5 body, pedicles, transverse processes, superior articular
processes and the front part of each pars move forward; the lamina, inferior articular
processes, spinous process and the back part of each pars stay behind.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from app.findings.model import Level, ParsStatus, Side
from app.samples import labels as T
from app.samples.cases import CaseSpec
from app.samples.spinous import SpinousBlade
from app.samples.transverse import TaperedPlate

LUMBAR = (Level.L1, Level.L2, Level.L3, Level.L4, Level.L5)
ALL_LEVELS = (*LUMBAR, Level.S1)

# adult body half-sizes (x half-width, y' half-depth, z' half-height), mm
_BODY = {Level.L1: (20.5, 15.0, 12.0), Level.L2: (21.5, 15.5, 12.5), Level.L3: (22.5, 16.0, 13.0),
         Level.L4: (23.5, 16.5, 13.0), Level.L5: (25.0, 17.0, 12.5), Level.S1: (26.0, 17.5, 12.0)}
# endplate slope (deg) of each level at lordosis_scale 1
_TILT_DEG = {Level.L1: -12.0, Level.L2: -5.0, Level.L3: 3.0, Level.L4: 12.0, Level.L5: 23.0, Level.S1: 38.0}
# posterior height (mm) of the disc below each lumbar level
_DISC_POST = {Level.L1: 5.5, Level.L2: 6.0, Level.L3: 6.5, Level.L4: 6.5, Level.L5: 6.0}

S1_ENDPLATE_CENTRE_LPS = np.array([0.0, 25.0, -80.0])

PART_NAMES = {
    0: "none", 1: "vertebral body", 2: "endplate", 3: "intervertebral disc", 4: "pedicle",
    5: "pars interarticularis", 6: "lamina", 7: "superior articular process",
    8: "inferior articular process", 9: "transverse process", 10: "spinous process", 11: "sacrum",
    12: "spinal canal", 13: "paraspinal muscle", 14: "psoas", 15: "fat", 16: "skin", 17: "viscera",
}
_PART_OF_SOFT = {T.SKIN: 16, T.FAT: 15, T.VISCERA: 17}


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def _frame_from_axis(axis: np.ndarray, hint=(0.0, 0.0, 1.0)) -> np.ndarray:
    """3x3 rotation whose third column is ``axis`` (first column close to patient x)."""
    z = _unit(axis)
    x = np.array([1.0, 0.0, 0.0])
    if abs(float(x @ z)) > 0.9:
        x = np.asarray(hint, dtype=np.float64)
    x = _unit(x - (x @ z) * z)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)


def _rot_z(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1.0]])


def _rot_x(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[1.0, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])


# --------------------------------------------------------------------------- poses


@dataclass(frozen=True)
class Pose:
    """A vertebra's body centre and axes (columns x, y', z') in LPS."""

    origin: np.ndarray
    axes: np.ndarray
    half: tuple[float, float, float]

    def to_lps(self, local) -> np.ndarray:
        return self.origin + self.axes @ np.asarray(local, dtype=np.float64)

    def corner(self, posterior: bool, superior: bool) -> np.ndarray:
        _hx, hy, hz = self.half
        return self.to_lps((0.0, hy if posterior else -hy, hz if superior else -hz))

    def translated(self, d: np.ndarray) -> Pose:
        return Pose(self.origin + d, self.axes, self.half)


def _tilt_axes(phi_deg: float) -> np.ndarray:
    p = math.radians(phi_deg)
    return np.array([[1.0, 0.0, 0.0], [0.0, math.cos(p), -math.sin(p)], [0.0, math.sin(p), math.cos(p)]])


@dataclass(frozen=True)
class SpineGeometry:
    case: CaseSpec
    scale: float
    poses: dict  # Level -> Pose (anterior column: body, pedicles, SAP)
    arch_poses: dict  # Level -> Pose of the posterior arch (differs from poses only for a slipped L5)
    slip_vector_lps: np.ndarray

    def landmarks(self) -> dict[str, np.ndarray]:
        """Slip landmarks (LPS mm): L5 postero-inferior corner, S1 postero-/antero-superior corners."""
        return {
            "L5 postero-inferior corner": self.poses[Level.L5].corner(True, False),
            "L5 antero-inferior corner": self.poses[Level.L5].corner(False, False),
            "S1 postero-superior corner": self.poses[Level.S1].corner(True, True),
            "S1 antero-superior corner": self.poses[Level.S1].corner(False, True),
        }


def spine_geometry(case: CaseSpec) -> SpineGeometry:
    scale = 0.93 if case.adolescent else 1.0
    tilt = {lv: _TILT_DEG[lv] * case.lordosis_scale for lv in ALL_LEVELS}
    if case.disc_degenerated_l5s1:
        tilt[Level.L5] += 7.0
    half = {lv: tuple(h * scale for h in _BODY[lv]) for lv in ALL_LEVELS}
    s1_axes = _tilt_axes(tilt[Level.S1])
    hz = half[Level.S1][2]
    s1 = Pose(S1_ENDPLATE_CENTRE_LPS - s1_axes[:, 2] * hz, s1_axes, half[Level.S1])
    poses = {Level.S1: s1}
    arch = {Level.S1: s1}
    slip_vec = np.zeros(3)
    lower = s1
    for lv in reversed(LUMBAR):
        disc_post = _DISC_POST[lv] * scale
        if lv is Level.L5 and case.disc_degenerated_l5s1:
            disc_post *= 0.5
        axes = _tilt_axes(tilt[lv])
        _hx, hy, hz = half[lv]
        base = lower.corner(True, True) + lower.axes[:, 2] * disc_post
        pi_corner = base
        if lv is Level.L5 and case.slip_pct > 0:
            s1_width = 2 * half[Level.S1][1]
            slip_vec = -lower.axes[:, 1] * (case.slip_pct / 100.0 * s1_width)
            pi_corner = base + slip_vec
        origin = pi_corner - axes[:, 1] * hy + axes[:, 2] * hz
        pose = Pose(origin, axes, half[lv])
        poses[lv] = pose
        arch[lv] = pose.translated(-slip_vec) if lv is Level.L5 else pose
        lower = pose
    return SpineGeometry(case, scale, poses, arch, slip_vec)


# --------------------------------------------------------------------------- shapes


@dataclass
class Shape:
    kind: str  # "prism" | "cyl" | "sq" | "fn" (extra["inside"](q0, q1, q2, shrink_mm) -> mask)
    centre: np.ndarray  # LPS
    axes: np.ndarray  # 3x3, columns = shape axes in LPS
    half: tuple[float, float, float]
    exponent: float = 2.0
    waist: float = 0.0
    # keep (p - point) . normal <= 0; with a third element (amplitude mm, period mm, axis), the
    # cut undulates: keep (p - point) . normal <= wave(p . axis) (a joint's irregular surface);
    # with a fourth (k 1/mm, across), it is curved: keep (p - point) . normal <= k u^2, where
    # u = (p - point) . across
    clip: tuple | None = None
    extra: dict | None = None

    def corners(self, margin: float = 1.0) -> np.ndarray:
        """The 8 corners (LPS) of the shape's oriented bounding box, grown by ``margin``."""
        h = np.asarray(self.half) + margin
        signs = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)], dtype=np.float64)
        return self.centre[None, :] + (signs * h[None, :]) @ self.axes.T

    def shrunk(self, t: float, t_axial: float | None = None) -> Shape:
        ta = t if t_axial is None else t_axial
        h = (max(self.half[0] - t, 0.1), max(self.half[1] - t, 0.1), max(self.half[2] - ta, 0.1))
        return Shape(self.kind, self.centre, self.axes, h, self.exponent, self.waist, self.clip, self.extra)

    def inside(self, q: tuple[np.ndarray, np.ndarray, np.ndarray], p: tuple) -> np.ndarray:
        q0, q1, q2 = q
        a0, a1, a2 = self.half
        if self.kind == "prism":
            w = 1.0 - self.waist * (1.0 - (q2 / a2) ** 2) if self.waist else 1.0
            e = self.exponent
            m = (np.abs(q0) / (a0 * w)) ** e + (np.abs(q1) / (a1 * w)) ** e <= 1.0
            m &= np.abs(q2) <= a2
        elif self.kind == "cyl":
            m = (q0 / a0) ** 2 + (q1 / a1) ** 2 <= 1.0
            m &= np.abs(q2) <= a2
        elif self.kind == "sq":
            e = self.exponent
            m = (np.abs(q0) / a0) ** e + (np.abs(q1) / a1) ** e + (np.abs(q2) / a2) ** e <= 1.0
        elif self.kind == "vb":  # a lumbar vertebral body (see vertebral_body_inside)
            m = vertebral_body_inside(q0, q1, q2, (a0, a1, a2), self.exponent, self.waist, self.extra or {})
        elif self.kind == "fn":  # a shape given by a function of the local coordinates
            assert self.extra is not None
            m = self.extra["inside"](q0, q1, q2, self.extra["half0"] - a0)  # (.., how much it is shrunk)
        else:
            raise ValueError(self.kind)
        if self.clip is not None:  # tested only where inside: most of a box is outside the shape
            idx = np.nonzero(m)
            if idx[0].size:
                pp = tuple(np.broadcast_to(c, m.shape)[idx] for c in p)
                point, normal = self.clip[0], self.clip[1]
                side = (pp[0] - point[0]) * normal[0] + (pp[1] - point[1]) * normal[1] + (pp[2] - point[2]) * normal[2]
                if len(self.clip) > 2 and self.clip[2] is not None:
                    side = side - clip_wave(self.clip[2], pp)
                if len(self.clip) > 3:  # a curved cut: keep side <= k u^2, u along ``across``
                    k, across = self.clip[3]
                    u = (pp[0] - point[0]) * across[0] + (pp[1] - point[1]) * across[1] + (pp[2] - point[2]) * across[2]
                    side = side - np.float32(k) * u * u
                m[idx] = side <= 0
        return m


def clip_wave(wave: tuple, p: tuple) -> np.ndarray:
    """The offset (mm) of an undulating cut at points ``p``: two harmonics along ``axis``."""
    amp, period, axis = wave
    t = (p[0] * axis[0] + p[1] * axis[1] + p[2] * axis[2]) * np.float32(2 * math.pi / period)
    return np.float32(amp) * (np.sin(t) + np.float32(0.45) * np.sin(np.float32(2.3) * t + np.float32(1.0)))


def vertebral_body_inside(q0: np.ndarray, q1: np.ndarray, q2: np.ndarray, half: tuple[float, float, float],
                          exponent: float, waist: float, extra: dict) -> np.ndarray:
    """Inside test of a lumbar vertebral body in its local frame (x, y' posterior, z' superior).

    The axial cross-section is a superellipse whose posterior wall is pushed in near the mid-line
    by ``extra["kidney_mm"]`` (kidney-shaped, flat-to-concave towards the canal); the anterior and
    lateral surfaces have a concave waist (``waist``, a fraction of the half-size at mid-height;
    the posterior wall has none; ``extra["waist_front"]``, if given, for the anterior surface);
    each endplate is concave by ``extra["cupping_mm"]`` at its centre;
    and the rim where endplate meets side is rounded (the ring apophysis): the radial and axial
    terms combine as a superellipse of exponent ``extra["rim_exponent"]`` instead of a hard
    intersection; with ``extra["wedge_mm"]`` the body is that much taller in front than behind."""
    a0, a1, a2 = half
    kidney = float(extra.get("kidney_mm", 0.0))
    cup = float(extra.get("cupping_mm", 0.0))
    n = float(extra.get("rim_exponent", 8.0))
    t2 = np.minimum((q2 / a2) ** 2, 1.0)
    w = 1.0 - waist * (1.0 - t2)
    front = float(extra.get("waist_front", waist))  # the anterior surface's own waist
    wy = np.where(q1 < 0, 1.0 - front * (1.0 - t2), np.float32(1.0))
    q1k = q1 + kidney * np.exp(-((q0 / (0.42 * a0)) ** 2)) * np.clip(q1 / (0.5 * a1), 0.0, 1.0)
    e = exponent
    rho_e = (np.abs(q0) / (a0 * w)) ** e + (np.abs(q1k) / (a1 * wy)) ** e
    rho = rho_e ** (1.0 / e)
    a2_eff = a2 - cup * (1.0 - np.minimum(rho, 1.0) ** 2)
    wedge = float(extra.get("wedge_mm", 0.0))
    if wedge:  # taller in front than behind by ``wedge`` mm (both endplates tilt)
        a2_eff = a2_eff - np.float32(wedge / 4) * np.clip(q1 / a1, -1.0, 1.0)
    return rho ** n + (np.abs(q2) / a2_eff) ** n <= 1.0


# the body's side cortex (mm) and how far its posterior wall is pushed in at the mid-line (mm). On
# the obliques the pars (the dog's neck) lies over the posterolateral body: with 0.8 and 3.0 its
# contrast fell to 0.043 at L5 and 0.060 at L4 (case 4, left; test_scotty_dog's threshold 0.05,
# 0.085 and 0.111 with the old 2.4 mm shell); 1.2 and 1.5 give 0.058 and 0.069
BODY_SIDE_CORTEX_MM = 1.2
# how much taller in front than behind (mm): L5 is wedged (trapezoidal; posterior / anterior
# height about 0.85), part of the lordosis; L4 a little
BODY_WEDGE_MM = {Level.L4: 1.5, Level.L5: 4.0}
BODY_KIDNEY_MM = 1.5
# the anterior cortex (mm): thinner than the sides' (on the lateral radiograph and the sagittal CT
# every body had a uniform bright rim; the endplates, seen in tangent, should be its densest part)
BODY_FRONT_CORTEX_MM = 0.6
# how deep each endplate is cupped at its centre (mm): the disc bulges into it (1.3 read as flat
# endplates on the sagittal CT and MR)
BODY_CUPPING_MM = 2.2


def body_ops(ops: list, origin: np.ndarray, axes: np.ndarray, half: tuple[float, float, float],
             kidney_mm: float = BODY_KIDNEY_MM, wedge_mm: float = 0.0) -> None:
    """A vertebral body (``vertebral_body_inside``) as bone: a thin cortex on the sides (0.8 mm),
    denser endplates (0.4 mm of cortex over 0.9 mm of endplate bone, following the cupping), and
    cancellous bone inside."""
    # the anterior surface is more concave than the sides (seen on the lateral; the sides' waist
    # is kept: the pars lies over the posterolateral body on the obliques)
    extra = {"kidney_mm": kidney_mm, "cupping_mm": BODY_CUPPING_MM, "rim_exponent": 8.0, "wedge_mm": wedge_mm,
             "waist_front": 0.15}
    body = Shape("vb", origin, axes, half, exponent=2.3, waist=0.09, extra=extra)
    ops.append(Op(P_OUTER, body, T.CORTICAL, 1))
    side = BODY_SIDE_CORTEX_MM
    ops.append(Op(P_INNER, body.shrunk(side, 0.4), T.ENDPLATE, 2, only_on=frozenset({T.CORTICAL})))
    # the marrow reaches further forwards than the sides' cortex allows: the anterior cortex is
    # thinner (BODY_FRONT_CORTEX_MM; the posterior wall keeps the sides' cortex)
    core = body.shrunk(side, 1.3)
    d = (side - BODY_FRONT_CORTEX_MM) / 2
    core = Shape("vb", core.centre - axes[:, 1] * d, axes, (core.half[0], core.half[1] + d, core.half[2]),
                 core.exponent, core.waist, extra=extra)
    ops.append(Op(P_INNER, core, T.CANCELLOUS, 1))


def inside_where(near: np.ndarray, full, *coords: np.ndarray, shrink: float) -> np.ndarray:
    """``full(*coords, shrink)`` evaluated only where ``near`` (a cheap first pass), False elsewhere:
    a shape's full inside test over its whole bounding box was most of a radiograph's render time."""
    out = np.zeros(np.shape(near), dtype=bool)
    idx = np.nonzero(near)
    if idx[0].size:
        out[idx] = full(*(c[idx] for c in coords), shrink)
    return out


def cylinder(a, b, r0: float, r1: float, extend: float = 0.0) -> Shape:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    axis = b - a
    length = float(np.linalg.norm(axis))
    return Shape("cyl", (a + b) / 2, _frame_from_axis(axis), (r0, r1, length / 2 + extend))


@dataclass
class Op:
    pass_no: int
    shape: Shape
    label: int
    part: int
    only_on: frozenset | None = None
    disc: dict | None = None  # special disc evaluation


# passes
P_DISC, P_OUTER, P_INNER, P_EDEMA, P_SCLER, P_GAP, P_CANAL = 1, 2, 3, 4, 5, 6, 7


@dataclass
class ParsInfo:
    """Where a pars is (LPS mm): its two ends and the defect / midpoint, per fragment."""

    level: Level
    side: Side
    a_lps: np.ndarray  # anterior-superior end (pedicle / SAP junction), anterior fragment
    b_lps: np.ndarray  # posterior-inferior end (IAP / lamina junction)
    mid_lps: np.ndarray  # defect (or mid) point on the posterior fragment
    mid_front_lps: np.ndarray  # the same point on the anterior fragment (differs when slipped)
    radius_mm: float
    status: ParsStatus


@dataclass
class Model:
    case: CaseSpec
    geometry: SpineGeometry
    ops: list = field(default_factory=list)
    pars: dict = field(default_factory=dict)  # (Level, Side) -> ParsInfo
    spine_y_at_z: tuple[np.ndarray, np.ndarray] | None = None  # (z samples, body-centre y)
    # (Level, Side, part name) -> Shape of the posterior-element parts that make the Scotty dog
    dog_parts: dict = field(default_factory=dict)
    # Level -> (upper, lower) edge (LPS) of its laminae near the mid-line (the ligamenta flava)
    lamina_edges: dict = field(default_factory=dict)


def _bone(ops: list, shape: Shape, part: int, cortex: float = 1.3, axial_cortex: float | None = None,
          outer_label: int = T.CORTICAL) -> None:
    ops.append(Op(P_OUTER, shape, outer_label, part))
    ops.append(Op(P_INNER, shape.shrunk(cortex, axial_cortex), T.CANCELLOUS, part))


def _vertebra_ops(model: Model, lv: Level) -> None:
    g = model.geometry
    case = model.case
    s = g.scale
    pose = g.poses[lv]
    arch = g.arch_poses[lv]
    hx, hy, hz = pose.half
    ops = model.ops
    R = pose.axes

    # vertebral body: rounded rims, concave waist and endplates, kidney-shaped cross-section
    body_ops(ops, pose.origin, R, (hx, hy, hz), kidney_mm=(0.5 if lv is Level.S1 else 1.0) * BODY_KIDNEY_MM * s,
             wedge_mm=BODY_WEDGE_MM.get(lv, 0.0) * s)

    if lv is Level.S1:
        _sacrum_ops(model, pose)
        return

    hyp = 0.7 if lv in case.hypoplastic_levels else 1.0
    L5 = lv is Level.L5
    canal_half_w = 11.5 * s
    for side in Side:
        sx = 1.0 if side is Side.LEFT else -1.0  # +x is patient left
        ped_rx = (5.5 if L5 else 4.3) * s
        ped_x = sx * (canal_half_w + ped_rx)
        # pedicle: elliptic cylinder along y'
        # (converging forward: the back end is more lateral, ~17 deg)
        ped_a = pose.to_lps((ped_x - sx * 2.5 * s, hy - 7 * s, 3.0 * s))
        ped_b = pose.to_lps((ped_x + sx * 2.5 * s, hy + 9 * s, 3.0 * s))
        ax3 = _unit(ped_b - ped_a)
        ax2 = R[:, 2]
        # a short thick strut: its upper and lower borders concave (the vertebral notches above
        # and below the foramen), so on the lateral it reads as a bar joining the body to the
        # articular pillar, not as a square bead
        ped = Shape("prism", (ped_a + ped_b) / 2, np.stack([np.cross(ax2, ax3), ax2, ax3], axis=1),
                    (ped_rx, 7.5 * s, float(np.linalg.norm(ped_b - ped_a)) / 2), exponent=2.0, waist=0.22)
        _bone(ops, ped, 4, cortex=1.7)
        # transverse process
        tp_len = {Level.L1: 14, Level.L2: 18, Level.L3: 22, Level.L4: 19, Level.L5: 15}[lv] * s
        # flattened front to back (a plate, twice as tall as thick): as a round rod, seen end
        # on, it drew a ring like a bead behind every body on the lateral
        tp_r = (6.5 if L5 else 4.8) * s
        # L5's is stout and stays as it was: flattened and moved back, its nose on the left oblique
        # of case 4 fell to 0.016-0.020 (test_scotty_dog's threshold 0.02; 0.07 before)
        tp_a = pose.to_lps((sx * (canal_half_w + 2 * ped_rx - 1), hy + (4 if L5 else 6) * s, 3.0 * s))
        tp_b = pose.to_lps((sx * (canal_half_w + 2 * ped_rx + tp_len), hy + (2 if L5 else 7) * s, 3.0 * s))
        tp, tp_seen = _transverse_process(tp_a, tp_b, tp_r, tp_r * (0.8 if L5 else 0.5), L5)
        # a thick cortex round a thin cancellous core that runs out towards the tip: with a
        # 1.2 mm cortex round a core of constant section, seen end on, each drew an oval ring
        # behind its body on the lateral; solid, a bright bead (tapered, see transverse.py)
        _bone(ops, tp, 9, cortex=max(TP_CORTEX_FRACTION * tp_r, tp_r * (0.8 if L5 else 0.5) - TP_CORE_HALF_MM * s))
        # superior articular process (facet lateral, points up): a column whose back face is the
        # front half of the facet joint with the inferior articular process of the level above
        sap = _articular_ops(ops, g, lv, sx, superior=True)
        # pars interarticularis: from the pedicle/SAP junction down and back to the IAP / lamina
        a_loc = np.array([sx * (canal_half_w + ped_rx + 0.5 * s), hy + 9.5 * s, 0.5 * s])
        b_loc = np.array([sx * (canal_half_w + 0.8 * s), hy + 16.5 * s, -hz - 3.5 * s])
        m_loc = (a_loc + b_loc) / 2
        pr = 4.8 * s * hyp
        spec = case.pars_of(lv, side)
        a_front, m_front = pose.to_lps(a_loc), pose.to_lps(m_loc)
        m_back, b_back = arch.to_lps(m_loc), arch.to_lps(b_loc)
        axis = _unit(b_back - m_back)
        if np.allclose(a_front - arch.to_lps(a_loc), 0):
            neck = cylinder(a_front, b_back, pr, pr * 0.85, extend=1.5)
            _bone(ops, neck, 5, cortex=2.0)
        else:  # slipped: two fragments
            fr = cylinder(a_front, m_front, pr, pr * 0.85, extend=2.0)
            fr.clip = (m_front, _unit(m_front - a_front))
            _bone(ops, fr, 5, cortex=2.0)
            bk = cylinder(m_back, b_back, pr, pr * 0.85, extend=2.0)
            bk.clip = (m_back, -axis)
            _bone(ops, bk, 5, cortex=2.0)
            neck = bk
        model.pars[(lv, side)] = ParsInfo(lv, side, a_front, b_back, m_back, m_front, pr, spec.status)
        # inferior articular process (medial to the SAP below, points down), facing it across the joint
        iap = _articular_ops(ops, g, lv, sx, superior=False, thin=hyp ** 0.5)
        # lamina: a plate from the pars/IAP junction medially and back to the spinous process,
        # as tall as the arch between the pedicle and the disc below (the dog's body)
        lam, lam_lateral, lam_medial, edges = _lamina(arch, sx, canal_half_w, s, hyp)
        _bone(ops, lam, 6, cortex=1.6)
        _bone(ops, lam_medial, 6, cortex=1.4)
        model.dog_parts.update({(lv, side, "pedicle"): ped, (lv, side, "transverse process"): tp_seen,
                                (lv, side, "superior articular process"): sap, (lv, side, "pars"): neck,
                                (lv, side, "inferior articular process"): iap,
                                # the dog's body: the lamina lateral to the spinous process
                                (lv, side, "lamina"): lam_lateral})
        # pars edema / fracture / sclerosis
        _pars_lesion_ops(model, lv, side, spec, pose, arch, a_front, m_front, m_back, b_back, pr)
        if spec.edema_pedicle:
            ed = Shape("sq", pose.to_lps((ped_x * 0.95, hy + 1.0 * s, 2.5 * s)), R, (ped_rx + 2, 10.0 * s, 8.0 * s))
            ops.append(Op(P_EDEMA, ed, T.EDEMA, 4, only_on=frozenset({T.CANCELLOUS})))

    # spinous process: a blade (``spinous.SpinousBlade``) from the laminae back and a little down,
    # growing taller towards a thickened tip with a rounded end. As an elliptic prism with flat
    # ends plus a superquadric tip it read as a rectangle on the mid-line sagittal CT and MR and as
    # a chain of boxes on the lateral
    sp_a = arch.to_lps((0.0, hy + 20 * s, -hz - 1.0 * s))
    sp_b = arch.to_lps((0.0, hy + (44 if not L5 else 38) * s, -hz - 6.0 * s))
    frame = _frame_from_axis(sp_b - sp_a)
    sp_len = float(np.linalg.norm(sp_b - sp_a))
    h_tip = (9.0 if not L5 else 8.0) * s
    blade = SpinousBlade(sp_len, 3.5 * s, h_tip, 2.2 * s, 3.6 * s, 6.0 * s)
    half = (3.6 * s + 0.5, 1.25 * h_tip + 0.5, sp_len / 2)
    sp = Shape("fn", (sp_a + sp_b) / 2, frame, half, extra={"inside": blade, "half0": half[0]})
    _bone(ops, sp, 10, cortex=1.0)
    model.lamina_edges[lv] = edges


# the transverse process tapers to this fraction of its root's section at its tip (L5's is stout)
TP_TIP_FRACTION = {False: 0.45, True: 0.65}
# the marrow core is at most this half-thick (mm) at the root: L5's stout process, with the
# cortex fraction alone, kept a 5.7 mm core and read as a hollow wing on the axial CT
TP_CORE_HALF_MM = 1.0
TP_CORTEX_FRACTION = 0.36  # of the root's half-height (0.3: a faint ring again, end on, on the lateral)


def _transverse_process(a: np.ndarray, b: np.ndarray, half_h: float, half_t: float, l5: bool) -> tuple[Shape, Shape]:
    """A transverse process from ``a`` (its root, at the pedicle) to ``b`` (its tip): a plate
    ``half_h`` tall and ``half_t`` thick at the root, tapering laterally (``TaperedPlate``), and
    the superellipsoid its middle third fills (as seen, for the Scotty dog's nose)."""
    frame = cylinder(a, b, half_h, half_t)
    length = 2 * frame.half[2]
    tip = TP_TIP_FRACTION[l5]
    plate = TaperedPlate(length, half_h, half_t, tip, min(0.3 * length, 2.5 * half_t))
    shape = Shape("fn", frame.centre, frame.axes, (half_h + 0.5, half_t + 0.5, length / 2 + 0.5),
                  extra={"inside": plate, "half0": half_h + 0.5})
    mid = 1.0 - (1.0 - tip) / 2
    seen = Shape("sq", frame.centre, frame.axes, (half_h * mid, half_t * mid, length / 2), exponent=2.6)
    return shape, seen


# facet joints: the angle of each joint's plane to the mid-sagittal plane (the two joints of a
# level open backwards like a V), by the level above the joint: sagittal in the upper lumbar spine,
# turning coronal towards L5-S1 (about 50 deg), so the lower joints are seen in tangent (as lines)
# on the obliques
FACET_ANGLE_DEG = {Level.L1: 30.0, Level.L2: 34.0, Level.L3: 38.0, Level.L4: 44.0, Level.L5: 50.0}
FACET_GAP_MM = 1.3  # joint space (cartilage and fluid) between the articular faces
_FACET_OVERLAP_MM = 1.5  # how far each process reaches past its face before it is cut there
_FACET_FACE_CORTEX_MM = 1.1  # subchondral bone of the articular face
# curvature of the joint surface (1/mm): ~0.9 mm of sag over the face's 5 mm half-width. Flat,
# the joints read as straight cuts on the axial CT; at 0.07 (1.8 mm) an intact pars on the
# obliques dipped like a defect (test_render's pars gap: 0.102 at case 3, left L4, against its
# 0.10 limit; 0.082 flat, 0.087 at 0.035)
FACET_CURVATURE_PER_MM = 0.035
# cortex of the articular processes (mm): small processes with thick cortices are mostly dense
# on CT; with 1.6 mm each read as a hollow ring (diamond) round dark marrow on the axial CT. 2.6 mm
# was a little more solid still, but the Scotty dog's eye (the pedicle, which they flank on the
# obliques) fell to 0.048 (case 4, right L5; threshold 0.04), against 0.073 with 2.1
ARTICULAR_CORTEX_MM = 2.1


def _sap_centre_lps(g: SpineGeometry, lv: Level, sx: float) -> np.ndarray:
    """Centre of the superior articular process of ``lv`` (L1-L5 or S1) on side ``sx``."""
    s = g.scale
    pose = g.poses[lv]
    _hx, hy, hz = pose.half
    if lv is Level.S1:
        return pose.to_lps((sx * 15.5 * s, hy + 12 * s, hz + 2 * s))
    ped_rx = (5.5 if lv is Level.L5 else 4.3) * s
    return pose.to_lps((sx * (11.5 * s + 2 * ped_rx - 2.2 * s), hy + 12 * s, hz + 1.0 * s))


def _iap_centre_lps(g: SpineGeometry, lv: Level, sx: float) -> np.ndarray:
    """Centre of the inferior articular process of ``lv`` (L1-L5), on its posterior arch."""
    s = g.scale
    arch = g.arch_poses[lv]
    _hx, hy, hz = arch.half
    return arch.to_lps((sx * (11.5 * s - 0.2 * s), hy + 17.5 * s, -hz - 11.5 * s))


def facet_plane(g: SpineGeometry, upper: Level, sx: float) -> tuple[np.ndarray, np.ndarray]:
    """The facet joint between ``upper``'s inferior articular process and the superior one of the
    level below: (a point mid-way in the joint space, unit normal from the IAP towards the SAP),
    LPS. The plane contains the lower vertebra's axis and makes ``FACET_ANGLE_DEG`` with the
    mid-sagittal plane: its normal points laterally and forwards."""
    lower = ALL_LEVELS[ALL_LEVELS.index(upper) + 1]
    pose = g.poses[lower]
    th = math.radians(FACET_ANGLE_DEG[upper])
    n = pose.axes @ np.array([sx * math.cos(th), -math.sin(th), 0.0])
    point = (_sap_centre_lps(g, lower, sx) + _iap_centre_lps(g, upper, sx)) / 2
    return point, n


def _articular_ops(ops: list, g: SpineGeometry, lv: Level, sx: float, superior: bool, thin: float = 1.0) -> Shape:
    """A superior (``lv``'s, L1-S1) or inferior (``lv``'s, L1-L5) articular process as a column
    cut flat at its facet joint (a ``FACET_GAP_MM`` joint space, a thin subchondral plate on the
    face); returns the column as seen (for the Scotty dog's ear and front leg)."""
    s = g.scale
    if superior:
        centre = _sap_centre_lps(g, lv, sx)
        pose = g.poses[lv]
        a_old, half_t, half_up = 3.0 * s, (5.5 if lv is Level.S1 else 5.0) * s, 9.5 * s
        upper = ALL_LEVELS[ALL_LEVELS.index(lv) - 1] if lv is not Level.L1 else None
    else:
        centre = _iap_centre_lps(g, lv, sx)
        pose = g.arch_poses[lv]
        a_old, half_t, half_up = 2.7 * s * thin, 4.2 * s, 9.0 * s
        upper = lv
    up = pose.axes[:, 2]
    if upper is None:  # L1's SAP: the joint with T12 is out of the model; the old orientation
        n = pose.axes @ np.array([sx * math.cos(math.radians(FACET_ANGLE_DEG[Level.L1])),
                                  -math.sin(math.radians(FACET_ANGLE_DEG[Level.L1])), 0.0])
        point = centre - n * (a_old + FACET_GAP_MM / 2)
    else:
        point, n = facet_plane(g, upper, sx)
    m = -n if superior else n  # from the process towards its joint
    m = _unit(m - (m @ up) * up)
    axes = np.stack([m, np.cross(up, m), up], axis=1)
    # the joint is curved about the vertical (a C on the axial CT: the superior process' face
    # concave, wrapping round the convex face of the inferior one); the same surface for both
    # faces, so the joint space keeps its width: keep (p - face) . m <= k u^2 with k of opposite
    # signs for the two processes (m = +-n)
    k = FACET_CURVATURE_PER_MM if superior else -FACET_CURVATURE_PER_MM
    curve = (k, _unit(np.cross(up, n)))
    face = point - m * FACET_GAP_MM / 2
    d = float((face - centre) @ m)  # centre to the articular face
    reach = max(d + _FACET_OVERLAP_MM + max(k, 0.0) * half_t ** 2, 0.5)  # the concave face's rims reach further
    half_m = (reach + a_old) / 2
    col = Shape("sq", centre + m * (reach - a_old) / 2, axes, (half_m, half_t, half_up), exponent=4.0,
                clip=(face, m, None, curve))
    part = 7 if superior else 8
    ops.append(Op(P_OUTER, col, T.CORTICAL, part))
    inner = col.shrunk(ARTICULAR_CORTEX_MM)
    inner.clip = (face - m * _FACET_FACE_CORTEX_MM, m, None, curve)
    ops.append(Op(P_INNER, inner, T.CANCELLOUS, part))
    seen = max(d, 0.5)
    return Shape("sq", centre + m * (seen - a_old) / 2, axes, ((seen + a_old) / 2, half_t, half_up), exponent=4.0)


# The lamina is two plates. Its lateral part (from the pars / IAP junction half-way to the mid-line:
# the Scotty dog's body on the obliques) stays upright: sloping it 10-20 deg brought it next to the
# pars on the obliques and the dog's neck fell under its contrast threshold at L3-L4
# (test_scotty_dog, case 4: 0.048 at 10 deg, 0.06 at 0). Its medial part, which the mid-line and
# para-sagittal CT and MR cut, is taller and slopes down and back (upper edge forwards, against
# the canal, lower edge back) like a roof tile, as laminae do.
LAMINA_SLOPE_DEG = 0.0  # the lateral plate
LAMINA_MEDIAL_SLOPE_DEG = 35.0
LAMINA_MEDIAL_HALF_H_MM = 8.5
LAMINA_LATERAL_FRACTION = 1.0  # how far towards the mid-line the upright lateral plate reaches
LAMINA_MEDIAL_START = 0.35  # where the sloping medial plate starts (a fraction of the way to the mid-line)


def _lamina(arch: Pose, sx: float, canal_half_w: float, s: float, hyp: float) -> tuple[Shape, Shape, Shape, tuple]:
    """One lamina: the lateral plate (a boxy superquadric: its long axis runs from the pars/IAP
    junction medially and back towards the spinous process, its height along the vertebra's
    axis), the part of it lateral to the spinous process (the dog's body on the oblique), the
    sloping medial plate, and the medial plate's (upper, lower) edge on the mid-line (LPS)."""
    _hx, hy, hz = arch.half
    lat = arch.to_lps((sx * (canal_half_w + 0.5 * s), hy + 17.0 * s, 0.0))
    med = arch.to_lps((0.0, hy + 23.5 * s, 0.0))
    along = _unit(med - lat)

    def plate_axes(slope_deg: float) -> tuple[np.ndarray, np.ndarray]:
        # the plate slopes: its upper edge lies forwards (against the canal), its lower edge back
        post = arch.axes[:, 1] - (arch.axes[:, 1] @ along) * along
        post = post / np.linalg.norm(post)
        slope = math.radians(slope_deg)
        up = math.cos(slope) * arch.axes[:, 2] - math.sin(slope) * post
        return np.stack([np.cross(up, along), up, along], axis=1), up

    axes, _up = plate_axes(LAMINA_SLOPE_DEG)
    z_c = (-hz - 4.0 * s + -1.0 * s) / 2  # from above the inferior endplate level to below it
    half_h = 4.8 * s
    lat_end = lat + (med - lat) * LAMINA_LATERAL_FRACTION
    length = float(np.linalg.norm(lat_end - lat))
    centre = (lat + lat_end) / 2 + arch.axes[:, 2] * z_c
    plate = Shape("sq", centre, axes, (3.4 * s * hyp, half_h, length / 2 + 1.5 * s), exponent=4.0)
    seen = Shape("sq", centre, axes, (3.4 * s * hyp, half_h, length / 2), exponent=4.0)
    # the medial plate: from where the lateral one ends to past the mid-line (the two laminae
    # join there and the spinous process leaves their junction), taller and sloping
    m_axes, m_up = plate_axes(LAMINA_MEDIAL_SLOPE_DEG)
    m_a = lat + (med - lat) * LAMINA_MEDIAL_START
    m_b = med + along * 6.0 * s
    m_centre = (m_a + m_b) / 2 + arch.axes[:, 2] * (z_c - 1.0 * s) + arch.axes[:, 1] * 1.0 * s
    m_half_h = LAMINA_MEDIAL_HALF_H_MM * s
    m_len = float(np.linalg.norm(m_b - m_a))
    medial = Shape("sq", m_centre, m_axes, (2.8 * s * hyp, m_half_h, m_len / 2), exponent=4.0)
    mid = m_centre + along * (float((med - m_centre) @ along))  # on the mid-line
    edges = (mid + m_up * (m_half_h - 1.0), mid - m_up * (m_half_h - 1.0))
    return plate, seen, medial, edges


def _pars_lesion_ops(model: Model, lv, side, spec, pose, arch, a_front, m_front, m_back, b_back, pr) -> None:
    ops = model.ops
    bone = frozenset({T.CORTICAL, T.CANCELLOUS, T.EDEMA, T.SCLEROTIC, T.ENDPLATE})
    axis = _unit(b_back - a_front if np.allclose(m_front, m_back) else b_back - m_back)
    frame = _frame_from_axis(axis)
    if spec.edema_pars:
        for c in {tuple(m_front), tuple(m_back)}:
            ed = Shape("sq", np.array(c), frame, (pr + 3.0, pr + 3.0, 9.0), exponent=2.0)
            ops.append(Op(P_EDEMA, ed, T.EDEMA, 5, only_on=frozenset({T.CANCELLOUS})))
    if not spec.status.is_defect:
        return
    w = spec.gap_width_mm
    chronic = spec.status is ParsStatus.CHRONIC_NONUNION
    gap_label = T.GAP_FIBROUS if chronic or not spec.edema else T.GAP_FLUID
    centres = [(m_back, +1.0)] if np.allclose(m_front, m_back) else [(m_back, +1.0), (m_front, -1.0)]
    rc = pr + 3.5
    for c, _sgn in centres:
        if chronic:
            scl = Shape("cyl", c, frame, (rc, rc, w / 2 + 2.6))
            ops.append(Op(P_SCLER, scl, T.SCLEROTIC, 5, only_on=frozenset({T.CANCELLOUS, T.EDEMA})))
        gap = Shape("cyl", c, frame, (rc, rc, w / 2))
        if spec.status is ParsStatus.INCOMPLETE_FRACTURE:
            # through the inferior (caudal) part of the cross-section only
            down = np.array([0.0, 0.0, -1.0])
            d = _unit(down - (down @ axis) * axis)
            gap.clip = (c + d * 0.8, -d)
        ops.append(Op(P_GAP, gap, gap_label, 5, only_on=bone))
    if len(centres) == 2:  # fibrous tissue bridging the slipped fragments
        br = cylinder(m_back, m_front, pr * 0.8, pr * 0.8)
        ops.append(Op(P_GAP, br, gap_label, 5, only_on=frozenset({T.MUSCLE, T.FAT, T.VISCERA})))


def _sacrum_ops(model: Model, pose: Pose) -> None:
    ops = model.ops
    s = model.geometry.scale
    _hx, hy, hz = pose.half
    R = pose.axes
    canal_half_w = 11.0 * s
    for side in Side:
        sx = 1.0 if side is Side.LEFT else -1.0
        # S1 pedicle mass and superior articular process
        ped = Shape("sq", pose.to_lps((sx * (canal_half_w + 5 * s), hy + 5 * s, 0.0)), R, (5.5 * s, 8 * s, 9 * s), exponent=3.0)
        _bone(ops, ped, 4, cortex=1.2)
        _articular_ops(ops, model.geometry, Level.S1, sx, superior=True)
    from app.samples.sacrum import sacrum_ops  # imports this module

    sacrum_ops(model, pose)
    # the S1 laminae: below the L5-S1 interlaminar space (the L5 inferior articular processes sit above them)
    # rounded (an ellipsoid-like superquadric, 28 mm wide) and cancellous through (no shell of
    # cortex): as a 36 mm wide box with a 1.2 mm cortex, seen end on, it drew an oval ring behind
    # the top of the sacrum on the lateral; made solid, a white blob; rounded with a 0.8 mm
    # cortex, still a ring
    dorsal1 = Shape("sq", pose.to_lps((0.0, (hy + 17) * s, -10 * s)), R, (14 * s, 3.0 * s, 9 * s), exponent=2.2)
    _bone(ops, dorsal1, 11, cortex=0.8 * s, outer_label=T.CANCELLOUS)
    crest = Shape("sq", pose.to_lps((0.0, (hy + 22) * s, -6 * s)), R, (3 * s, 5 * s, 9 * s), exponent=3.0)
    _bone(ops, crest, 10, cortex=1.2)
    cn = Shape("cyl", pose.to_lps((0.0, hy + 8 * s, 0.0)), R, (canal_half_w, 6.5 * s, hz + 2))
    ops.append(Op(P_CANAL, cn, T.EPIDURAL_FAT, 12))


def _flavum_ops(model: Model) -> None:
    """The ligamenta flava: a band of fibrous tissue (the fascia label: intermediate to low MR
    signal, soft-tissue CT numbers) from the lower edge of each level's laminae to the upper edge
    of the laminae below, closing the interlaminar space behind the canal; soft tissue only, so
    the bone keeps its own outline."""
    g = model.geometry
    s = g.scale
    s1 = g.poses[Level.S1]
    s1_top = s1.to_lps((0.0, (s1.half[1] + 17) * s - 3.0 * s, -1.0 * s))
    soft = frozenset({T.FAT, T.MUSCLE, T.SKIN, T.VISCERA})
    for lv in LUMBAR:
        below = ALL_LEVELS[ALL_LEVELS.index(lv) + 1]
        a = model.lamina_edges[lv][1]
        b = s1_top if below is Level.S1 else model.lamina_edges[below][0]
        band = cylinder(a, b, 8.0 * s, 1.6 * s, extend=1.0)
        model.ops.append(Op(P_OUTER, band, T.FASCIA, 0, only_on=soft))


def _disc_ops(model: Model, upper: Level, lower: Level) -> None:
    g = model.geometry
    up, lo = g.poses[upper], g.poses[lower]
    degenerated = upper is Level.L5 and model.case.disc_degenerated_l5s1
    hx = max(up.half[0], lo.half[0])
    max(up.half[1], lo.half[1])
    pts = np.array([up.corner(a, False) for a in (False, True)] + [lo.corner(a, True) for a in (False, True)])
    c = pts.mean(axis=0)
    ax = lo.axes
    ext = np.abs((pts - c) @ ax).max(axis=0)
    disc = dict(up=up, lo=lo, degenerated=degenerated)
    box = Shape("sq", c, ax, (hx * 1.1 + 1, ext[1] + 3, ext[2] + 3))
    model.ops.append(Op(P_DISC, box, T.ANNULUS, 3, disc=dict(disc, nucleus=False)))
    model.ops.append(Op(P_DISC, box, T.NUCLEUS_DEGENERATED if degenerated else T.NUCLEUS, 3, disc=dict(disc, nucleus=True)))


def _disc_inside(d: dict, p) -> np.ndarray:
    up, lo = d["up"], d["lo"]
    shape = np.broadcast(p[0], p[1], p[2]).shape
    X = np.broadcast_to(p[0], shape)
    Y = np.broadcast_to(p[1], shape)
    Z = np.broadcast_to(p[2], shape)
    # signed heights above the lower endplate and below the upper endplate
    lo_top = lo.origin + lo.axes[:, 2] * lo.half[2]
    up_bot = up.origin - up.axes[:, 2] * up.half[2]
    n_lo, n_up = lo.axes[:, 2], up.axes[:, 2]
    h_lo = (p[0] - lo_top[0]) * n_lo[0] + (p[1] - lo_top[1]) * n_lo[1] + (p[2] - lo_top[2]) * n_lo[2]
    h_up = -((p[0] - up_bot[0]) * n_up[0] + (p[1] - up_bot[1]) * n_up[1] + (p[2] - up_bot[2]) * n_up[2])
    # the disc fills the cupped centre of each endplate too (body_ops: BODY_CUPPING_MM), inside the rims
    inside = (h_lo >= -BODY_CUPPING_MM - 0.5) & (h_up >= -BODY_CUPPING_MM - 0.5)
    idx = np.nonzero(inside)
    if idx[0].size == 0:
        return inside
    x, y, z = X[idx], Y[idx], Z[idx]
    hl, hu = h_lo[idx], h_up[idx]
    t = np.clip(hl / np.maximum(hl + hu, 1e-3), 0.0, 1.0)
    qs = []
    for pose, top in ((lo, True), (up, False)):
        cc = pose.origin + pose.axes[:, 2] * (pose.half[2] if top else -pose.half[2])
        A = pose.axes
        q0 = (x - cc[0]) * A[0, 0] + (y - cc[1]) * A[1, 0] + (z - cc[2]) * A[2, 0]
        q1 = (x - cc[0]) * A[0, 1] + (y - cc[1]) * A[1, 1] + (z - cc[2]) * A[2, 1]
        qs.append((q0, q1))
    q0 = qs[0][0] * (1 - t) + qs[1][0] * t
    q1 = qs[0][1] * (1 - t) + qs[1][1] * t
    hx = lo.half[0] * (1 - t) + up.half[0] * t
    hy = lo.half[1] * (1 - t) + up.half[1] * t
    if d["nucleus"]:
        band = 0.35 if d["degenerated"] else 0.18
        a0 = q0 / (hx * 0.5)
        a1 = (q1 - 2.0) / (hy * 0.45)
        sel = (a0 * a0 + a1 * a1 <= 1.0) & (t > band) & (t < 1 - band)
    else:
        bulge = 1.0 + 0.04 * np.sin(np.pi * t)
        a0 = q0 / (hx * bulge)
        a1 = q1 / (hy * bulge)
        r2 = a0 * a0 + a1 * a1
        sel = r2 <= np.where((hl < -0.3) | (hu < -0.3), 0.7, 1.0)
    out = np.zeros(shape, dtype=bool)
    out[tuple(i[sel] for i in idx)] = True
    return out


def _canal_ops(model: Model) -> None:
    g = model.geometry
    s = g.scale
    for lv in LUMBAR:
        pose = g.arch_poses[lv] if lv is not Level.L5 else g.poses[lv]
        _hx, hy, hz = pose.half
        c = pose.to_lps((0.0, hy + 8.0 * s, 0.0))
        length = hz + 10.0
        model.ops.append(Op(P_CANAL, Shape("cyl", c, pose.axes, (11.5 * s, 8.0 * s, length)), T.EPIDURAL_FAT, 12,
                            only_on=frozenset(T.SOFT_LABELS | {T.ANNULUS})))
        model.ops.append(Op(P_CANAL, Shape("cyl", pose.to_lps((0.0, hy + 8.5 * s, 0.0)), pose.axes,
                                           (8.0 * s, 6.0 * s, length)), T.CSF, 12,
                            only_on=frozenset({T.EPIDURAL_FAT})))
        _nerve_ops(model, pose, lv)
    s1 = g.poses[Level.S1]
    hy = s1.half[1]
    model.ops.append(Op(P_CANAL, Shape("cyl", s1.to_lps((0.0, hy + 8.0 * s, 8.0)), s1.axes, (6.5 * s, 5.0 * s, 10.0)),
                        T.CSF, 12, only_on=frozenset({T.EPIDURAL_FAT})))


def _nerve_ops(model: Model, pose: Pose, lv: Level) -> None:
    """The conus medullaris (ending at L1) and the cauda equina roots, which lie in the dorsal,
    dependent part of the thecal sac of a supine patient."""
    s = model.geometry.scale
    _hx, hy, hz = pose.half
    if lv is Level.L1:
        conus = Shape("sq", pose.to_lps((0.0, hy + 9.0 * s, 8.0)), pose.axes, (4.2 * s, 3.6 * s, hz + 10.0), exponent=2.0)
        model.ops.append(Op(P_CANAL, conus, T.NERVE, 12, only_on=frozenset({T.CSF})))
    n_roots = 4 + 2 * min(LUMBAR.index(lv), 3) if lv in LUMBAR else 4
    for k in range(n_roots):
        x = (k - (n_roots - 1) / 2) * 1.9 * s
        y = hy + (10.5 + 2.0 * (1 - (2 * k / max(n_roots - 1, 1) - 1) ** 2)) * s
        root = Shape("cyl", pose.to_lps((x, y, 0.0)), pose.axes, (0.8, 0.8, hz + 10.0))
        model.ops.append(Op(P_CANAL, root, T.NERVE, 12, only_on=frozenset({T.CSF})))


def build_model(case: CaseSpec) -> Model:
    g = spine_geometry(case)
    model = Model(case, g)
    for lv in ALL_LEVELS:
        _vertebra_ops(model, lv)
    for up, lo in itertools.pairwise(ALL_LEVELS):
        _disc_ops(model, up, lo)
    _flavum_ops(model)
    _canal_ops(model)
    from app.samples.anatomy_extra import add_extra_ops  # imports this module

    add_extra_ops(model)
    # the soft tissue follows the spine loosely: half the slope of a straight line fitted to the
    # body centres (the trunk's outline is straight on the lateral, with no step where the
    # lordosis turns into the sacrum)
    zs = np.array([g.poses[lv].origin[2] for lv in ALL_LEVELS])
    ys = np.array([g.arch_poses[lv].origin[1] for lv in ALL_LEVELS])
    slope, _icpt = np.polyfit(zs, ys, 1)
    z_ends = np.array([zs.min() - 400.0, zs.max() + 400.0])
    model.spine_y_at_z = (z_ends, float(ys.mean()) + 0.5 * slope * (z_ends - float(zs.mean())))
    return model


# --------------------------------------------------------------------------- grids


@dataclass(frozen=True)
class Grid:
    """Sample points: an affine lattice in the patient x-y plane, repeated at heights ``z``.

    Point (k, a, b) is at x-y ``origin_xy + a * step0_xy + b * step1_xy`` and height ``z[k]``;
    label arrays are indexed [k, a, b]. Every Isthmus grid (axial CT, sagittal MR, radiograph
    projection frames rotated about the body axis) has one axis along patient z.
    """

    origin_xy: tuple[float, float]
    step0_xy: tuple[float, float]
    step1_xy: tuple[float, float]
    n0: int
    n1: int
    z: tuple[float, ...]
    # optional per-(k, b) shift of the points along step0, in steps, in [0, 1) (float32 [nz, n1]):
    # the anatomy (``Op`` shapes) is sampled at the shifted points, the soft-tissue background at
    # the lattice points. A radiograph's rays run along step0: a random shift per ray turns the
    # chord lengths' whole-step quantisation into noise instead of moire (see render_dx)
    shift0: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.z), self.n0, self.n1)

    def xy(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        o, s0, s1 = np.array(self.origin_xy), np.array(self.step0_xy), np.array(self.step1_xy)
        x = o[0] + a[:, None] * s0[0] + b[None, :] * s1[0]
        y = o[1] + a[:, None] * s0[1] + b[None, :] * s1[1]
        return x, y

    def index_box(self, corners_lps: np.ndarray):
        """Index ranges (k0, k1, a0, a1, b0, b1) of the points inside the hull of ``corners_lps``."""
        z = np.asarray(self.z)
        zmin, zmax = float(corners_lps[:, 2].min()), float(corners_lps[:, 2].max())
        ks = np.nonzero((z >= zmin) & (z <= zmax))[0]
        if ks.size == 0:
            return None
        M = np.array([[self.step0_xy[0], self.step1_xy[0]], [self.step0_xy[1], self.step1_xy[1]]])
        ab = (corners_lps[:, :2] - np.array(self.origin_xy)) @ np.linalg.inv(M).T
        a0 = max(int(math.floor(ab[:, 0].min())), 0)
        a1 = min(int(math.ceil(ab[:, 0].max())) + 1, self.n0)
        b0 = max(int(math.floor(ab[:, 1].min())), 0)
        b1 = min(int(math.ceil(ab[:, 1].max())) + 1, self.n1)
        if self.shift0 is not None:  # a shifted point (a, b) lies up to one step past a
            a0 = max(a0 - 1, 0)
        if a0 >= a1 or b0 >= b1:
            return None
        return int(ks.min()), int(ks.max()) + 1, a0, a1, b0, b1


# --------------------------------------------------------------------------- soft tissue


@dataclass(frozen=True)
class _Ellipse:
    cx: float
    cy: float
    ax: float
    ay: float
    exponent: float = 2.0  # > 2: a rounded rectangle (the trunk's outline)

    def q(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        e = self.exponent
        if e == 2.0:
            return ((x - self.cx) / self.ax) ** 2 + ((y - self.cy) / self.ay) ** 2
        return np.abs((x - self.cx) / self.ax) ** e + np.abs((y - self.cy) / self.ay) ** e

    def signed_mm(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Approximate signed distance (mm, negative inside) to the outline: (q - 1) / |grad q|."""
        e = self.exponent
        u, v = np.abs(x - self.cx) / self.ax, np.abs(y - self.cy) / self.ay
        grad = e * np.sqrt((u ** (e - 1) / self.ax) ** 2 + (v ** (e - 1) / self.ay) ** 2)
        return (u ** e + v ** e - 1.0) / np.maximum(grad, 1e-6)


@dataclass(frozen=True)
class _SoftLayout:
    """The soft-tissue ellipses of an axial cross-section (painted in this order)."""

    body: _Ellipse  # skin outline
    fat: _Ellipse  # inside the 2 mm skin
    inner: _Ellipse  # abdominal wall muscle (inside the subcutaneous fat)
    viscera: _Ellipse
    fat_pads: tuple[_Ellipse, ...]  # perirenal / retroperitoneal fat
    psoas: tuple[_Ellipse, ...]
    paraspinal: tuple[_Ellipse, ...]  # quadratus lumborum, erector spinae, multifidus


# the psoas grows and moves laterally from L1 (fraction 0) to the pelvic brim (fraction ~1.2): on
# the AP its lateral edge is an oblique line diverging caudally from the L1 transverse processes
PSOAS_T_MAX = 1.25
PSOAS_T_STEPS = 60  # label maps quantise the fraction in steps of PSOAS_T_MAX / PSOAS_T_STEPS (~3 mm of height)


def psoas_fraction(case: CaseSpec, z: np.ndarray) -> np.ndarray:
    """Where a height ``z`` (mm) lies between the L1 body centre (0) and the S1 body centre (1)."""
    g = model_for(case).geometry
    z1, zs1 = g.poses[Level.L1].origin[2], g.poses[Level.S1].origin[2]
    return np.clip((z1 - np.asarray(z, dtype=np.float64)) / (z1 - zs1), 0.0, PSOAS_T_MAX)


def psoas_key(case: CaseSpec, z: np.ndarray) -> np.ndarray:
    """The quantised psoas fraction (int) of heights ``z`` for the label maps."""
    return np.round(psoas_fraction(case, z) / PSOAS_T_MAX * PSOAS_T_STEPS).astype(int)


def psoas_of_key(k: int) -> float:
    return float(k) * PSOAS_T_MAX / PSOAS_T_STEPS


def _psoas(s: float, ys: float, t: float) -> tuple[_Ellipse, ...]:
    """Both psoas muscles at psoas fraction ``t``: small beside L1, large and lateral at S1."""
    return tuple(_Ellipse(sx * (25.0 + 24.0 * t) * s, ys - 2 - 4.0 * t, (8.5 + 11.0 * t) * s, (10.0 + 9.0 * t) * s)
                 for sx in (1.0, -1.0))


def _soft_layout(case: CaseSpec, ys: float, psoas_t: float = 0.6) -> _SoftLayout:
    s = 1.0 if not case.adolescent else 0.9
    fat_t = (20.0 if not case.adolescent else 9.0) + (6.0 if case.sex == "F" else 0.0)
    bx, by = 165.0 * s, 120.0 * s
    cy = ys - 40.0
    wall = 11.0
    sides = (1.0, -1.0)
    e = 2.8  # the trunk is a rounded rectangle: about as wide at the spine as in front of it
    return _SoftLayout(
        body=_Ellipse(0.0, cy, bx, by, e), fat=_Ellipse(0.0, cy, bx - 2, by - 2, e),
        inner=_Ellipse(0.0, cy, bx - 2 - fat_t, by - 2 - fat_t, e),
        viscera=_Ellipse(0.0, cy, bx - 2 - fat_t - wall, by - 2 - fat_t - wall, e),
        fat_pads=tuple(_Ellipse(sx * 70 * s, ys + 5, 30 * s, 32 * s) for sx in sides),
        psoas=_psoas(s, ys, psoas_t),
        paraspinal=tuple(e for sx in sides for e in (
            _Ellipse(sx * 62 * s, ys + 28, 17 * s, 10 * s), _Ellipse(sx * 38 * s, ys + 58 * s, 27 * s, 24 * s),
            _Ellipse(sx * 13 * s, ys + 55 * s, 11 * s, 19 * s))),
    )


def _inside_small(e: _Ellipse, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``e.q(x, y) <= 1`` with q (a power per point) evaluated only within the ellipse's bounding
    box (the same mask: outside the box q > 1); the muscles and fat pads cover a few % of a
    plane, and q over whole planes was the largest single cost of the CT's soft tissue."""
    x, y = np.broadcast_arrays(x, y)
    near = (np.abs(x - e.cx) <= e.ax) & (np.abs(y - e.cy) <= e.ay)
    out = np.zeros(near.shape, dtype=bool)
    out[near] = e.q(x[near], y[near]) <= 1.0
    return out


def _soft_2d(case: CaseSpec, x: np.ndarray, y: np.ndarray, ys: float, parts: bool = False,
             psoas_t: float = 0.6) -> np.ndarray:
    """Soft-tissue labels of an axial cross-section; ``ys`` is the body-centre y of the spine,
    ``psoas_t`` the psoas fraction (``psoas_fraction``) of its height."""
    lay = _soft_layout(case, ys, psoas_t)
    lab = np.zeros(np.broadcast(x, y).shape, dtype=np.uint8)
    r_out = lay.body.q(x, y)
    lab[r_out <= 1.0] = T.SKIN
    in_fat = lay.fat.q(x, y) <= 1.0
    lab[in_fat] = T.FAT
    inner = lay.inner.q(x, y) <= 1.0
    lab[inner] = T.MUSCLE  # abdominal wall
    lab[lay.viscera.q(x, y) <= 1.0] = T.VISCERA
    for e in lay.fat_pads:
        lab[_inside_small(e, x, y)] = T.FAT
    psoas_part = np.zeros_like(lab, dtype=bool)
    for e in lay.psoas + lay.paraspinal:
        m = _inside_small(e, x, y)
        if e in lay.psoas:
            psoas_part |= m
        lab[m] = T.MUSCLE
    # keep the posterior subcutaneous fat and skin
    lab[(r_out > 1.0)] = T.AIR
    outer_fat = (r_out <= 1.0) & ~inner
    lab[outer_fat & (lab == T.MUSCLE)] = T.FAT
    lab[~in_fat & (r_out <= 1.0)] = T.SKIN
    if parts:
        out = np.zeros_like(lab)
        for k, v in _PART_OF_SOFT.items():
            out[lab == k] = v
        out[(lab == T.MUSCLE)] = 13
        out[psoas_part & (lab == T.MUSCLE)] = 14
        return out
    return lab


def soft_mu_2d(case: CaseSpec, x: np.ndarray, y: np.ndarray, ys: float, mu: np.ndarray, edge_mm: float,
               psoas_t: float = 0.6) -> np.ndarray:
    """The soft tissue of ``_soft_2d`` as a per-point value of ``mu`` (a per-label table), with
    every outline blended over ``edge_mm`` (anti-aliased): summed along a ray it gives chord
    lengths that vary smoothly from ray to ray, not in steps of the sampling interval."""
    return _soft_mu_parts(case, x, y, ys, mu, edge_mm, psoas_t)[0]


def soft_mu_ray_profiles(case: CaseSpec, x: np.ndarray, y: np.ndarray, ys: float, mu: np.ndarray, edge_mm: float,
                         psoas_ts: np.ndarray) -> np.ndarray:
    """``soft_mu_2d`` summed over axis 0 (along the rays), for each psoas fraction in ``psoas_ts``:
    [len(psoas_ts), n]. Only the psoas changes from one fraction to the next, so the rest is
    computed once: the psoas replaces what lies under it (``below``) by muscle, and what is
    painted after it scales that change by ``gain``."""
    base, below, gain = _soft_mu_parts(case, x, y, ys, mu, edge_mm, None)
    s = 1.0 if not case.adolescent else 0.9
    out = []
    for t in psoas_ts:
        keep = np.ones_like(base)
        for e in _psoas(s, ys, float(t)):
            keep *= np.clip(0.5 + e.signed_mm(x, y) / edge_mm, 0.0, 1.0)
        out.append((base + gain * (1.0 - keep) * below).sum(axis=0))
    return np.stack(out)


def _soft_mu_parts(case: CaseSpec, x: np.ndarray, y: np.ndarray, ys: float, mu: np.ndarray, edge_mm: float,
                   psoas_t: float | None):
    """(values, change where the psoas is painted, gain of that change); without the psoas when
    ``psoas_t`` is None."""
    lay = _soft_layout(case, ys, 0.6 if psoas_t is None else psoas_t)

    def w(e: _Ellipse) -> np.ndarray:
        return np.clip(0.5 - e.signed_mm(x, y) / edge_mm, 0.0, 1.0)

    def lerp(a, b, t):
        return a + (b - a) * t

    m_fat, m_mus = float(mu[T.FAT]), float(mu[T.MUSCLE])
    w_inner = w(lay.inner)
    out = lerp(np.float64(mu[T.SKIN]), m_fat, w(lay.fat))
    out = lerp(out, m_mus, w_inner)
    out = lerp(out, float(mu[T.VISCERA]), w(lay.viscera))
    for e in lay.fat_pads:
        out = lerp(out, m_fat, w(e))
    muscle_here = lerp(m_fat, m_mus, w_inner)  # muscle outside the wall is subcutaneous fat
    below = muscle_here - out  # what a psoas adds where it is painted
    if psoas_t is not None:
        for e in lay.psoas:
            out = lerp(out, muscle_here, w(e))
    gain = w(lay.body)
    for e in lay.paraspinal:
        wp = w(e)
        out = lerp(out, muscle_here, wp)
        gain = gain * (1.0 - wp)
    skin_ring = 1.0 - w(lay.fat)
    out = lerp(out, float(mu[T.SKIN]), skin_ring)
    gain = gain * (1.0 - skin_ring)
    return out * w(lay.body), below, gain


# --------------------------------------------------------------------------- rasterisation

_MODEL_CACHE: dict = {}


def model_for(case: CaseSpec) -> Model:
    key = case
    m = _MODEL_CACHE.get(key)
    if m is None:
        m = build_model(case)
        _MODEL_CACHE.clear()
        _MODEL_CACHE[key] = m
    return m


def _rasterise(case: CaseSpec, grid: Grid, want_parts: bool, soft_quantum_mm: float = 1.0) -> np.ndarray:
    model = model_for(case)
    nz, n0, n1 = grid.shape
    lab = np.zeros((nz, n0, n1), dtype=np.uint8)
    parts = np.zeros((nz, n0, n1), dtype=np.uint8) if want_parts else None
    z = np.asarray(grid.z, dtype=np.float64)
    # soft tissue: one 2-D map per distinct (quantised) spine offset
    zs, ys = model.spine_y_at_z
    q = soft_quantum_mm
    yk = np.round(np.interp(z, zs, ys) / q).astype(int)
    pk = psoas_key(case, z)
    x_all, y_all = grid.xy(np.arange(n0, dtype=np.float64), np.arange(n1, dtype=np.float64))
    for yv, pv in sorted(set(zip(yk.tolist(), pk.tolist(), strict=True))):
        sel = (yk == yv) & (pk == pv)
        lab[sel] = _soft_2d(case, x_all, y_all, float(yv) * q, psoas_t=psoas_of_key(pv))[None]
        if want_parts:
            parts[sel] = _soft_2d(case, x_all, y_all, float(yv) * q, parts=True, psoas_t=psoas_of_key(pv))[None]
    ops = sorted(enumerate(model.ops), key=lambda t: (t[1].pass_no, t[0]))
    for _, op in ops:
        sh = op.shape
        box = grid.index_box(sh.corners())
        if box is None:
            continue
        k0, k1, a0, a1, b0, b1 = box
        X, Y = grid.xy(np.arange(a0, a1, dtype=np.float64), np.arange(b0, b1, dtype=np.float64))
        X = X[None].astype(np.float32)
        Y = Y[None].astype(np.float32)
        Z = z[k0:k1, None, None].astype(np.float32)
        sh0 = None if grid.shift0 is None else grid.shift0[k0:k1, None, b0:b1]
        s0x, s0y = np.float32(grid.step0_xy[0]), np.float32(grid.step0_xy[1])
        if op.disc is not None:
            m = _disc_inside(op.disc, _shifted(X, Y, Z, sh0, s0x, s0y))
        else:
            d0, d1, d2 = X - np.float32(sh.centre[0]), Y - np.float32(sh.centre[1]), Z - np.float32(sh.centre[2])
            A = sh.axes.astype(np.float32)
            # the shift enters each local coordinate as one more (k, 1, b) term: adding it to X and
            # Y first made two more full-size arrays per shape (+12 % of an oblique's render time)
            q = tuple(d0 * A[0, i] + d1 * A[1, i] + d2 * A[2, i]
                      + (0 if sh0 is None else sh0 * (s0x * A[0, i] + s0y * A[1, i])) for i in range(3))
            m = sh.inside(q, _shifted(X, Y, Z, sh0, s0x, s0y) if sh.clip is not None else (X, Y, Z))
        if not m.any():
            continue
        sub = lab[k0:k1, a0:a1, b0:b1]
        if op.only_on is not None:
            m = m & np.isin(sub, list(op.only_on))
        sub[m] = op.label
        if want_parts and op.pass_no not in (P_EDEMA, P_SCLER, P_GAP):
            parts[k0:k1, a0:a1, b0:b1][m] = op.part
    return (lab, parts) if want_parts else lab


def _shifted(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, sh0: np.ndarray | None, s0x: np.float32,
             s0y: np.float32) -> tuple:
    """The points as sampled, with a grid's per-ray shifts (``Grid.shift0``): full-size arrays."""
    return (X, Y, Z) if sh0 is None else (X + sh0 * s0x, Y + sh0 * s0y, Z)


def label_volume(case: CaseSpec, grid: Grid, soft_quantum_mm: float = 1.0) -> np.ndarray:
    """uint8 tissue labels (app.samples.labels) of ``case`` sampled on ``grid``, shape grid.shape.
    The body outline follows the spine's y in steps of ``soft_quantum_mm``."""
    return _rasterise(case, grid, False, soft_quantum_mm)


def part_volume(case: CaseSpec, grid: Grid) -> np.ndarray:
    """uint8 structure ids (``PART_NAMES``) of ``case`` on ``grid``."""
    return _rasterise(case, grid, True)[1]


def pars_info(case: CaseSpec) -> dict:
    """(Level, Side) -> ParsInfo for L1-L5."""
    return model_for(case).pars


def measured_slip_pct(geometry: SpineGeometry) -> float:
    """Slip of L5 on S1 from the landmarks: perpendicular from the L5 postero-inferior corner to
    the S1 endplate line, distance from the S1 postero-superior corner along the endplate,
    divided by the S1 endplate AP width (Bourassa-Moreau technique 1)."""
    lm = geometry.landmarks()
    ps, as_ = lm["S1 postero-superior corner"], lm["S1 antero-superior corner"]
    pi = lm["L5 postero-inferior corner"]
    u = as_ - ps
    width = float(np.linalg.norm(u))
    return float((pi - ps) @ (u / width)) / width * 100.0
