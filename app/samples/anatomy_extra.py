"""The anatomy around the lumbar spine that a radiograph shows (no Qt): T11 and T12 with the
11th and 12th ribs, the iliac bones with the sacroiliac joints, and some bowel gas.

None of it carries findings; it is there so that the radiographs (and the CT through the
sacrum) show what a reader expects in the field of view. ``add_extra_ops`` appends shapes to a
``phantom.Model``; the parts table of the phantom names them (pedicle, rib, ilium, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.findings.model import Level
from app.samples import labels, phantom
from app.samples.spinous import SpinousBlade

PART_RIB = 18
PART_ILIUM = 19
PART_GAS = 20
# the sacroiliac joint: its tilt from the vertical (on the AP it runs down and medially) and the
# undulation of its surfaces (amplitude and period along its height, mm)
SI_TILT_DEG = 0.0
SI_WAVE_MM = 0.6
SI_WAVE_PERIOD_MM = 30.0
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
        phantom.body_ops(ops, origin, R, (hx, hy, hz), kidney_mm=2.0 * s)
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
            _rib_ops(ops, tp_b, sx, s, length_mm=(85.0 if k == 0 else 150.0) * s)
        canal_c = pose.to_lps((0.0, hy + 8.0 * s, 0.0))
        length = hz + 10.0
        ops.append(phantom.Op(phantom.P_CANAL, phantom.Shape("cyl", canal_c, R, (10.0 * s, 7.5 * s, length)),
                              labels.EPIDURAL_FAT, 12, only_on=frozenset(labels.SOFT_LABELS | {labels.ANNULUS})))
        ops.append(phantom.Op(phantom.P_CANAL, phantom.Shape("cyl", canal_c, R, (7.5 * s, 5.8 * s, length)), labels.CSF, 12,
                         only_on=frozenset({labels.EPIDURAL_FAT})))
        ops.append(phantom.Op(phantom.P_CANAL, phantom.Shape("cyl", canal_c, R, (4.6 * s, 4.0 * s, length)), labels.NERVE, 12,
                         only_on=frozenset({labels.CSF})))
        # the spinous process: a blade pointing more steeply down than the lumbar ones (as an
        # elliptic cylinder with flat ends it read as a square box on the mid-line sagittal)
        sp_a, sp_b = pose.to_lps((0.0, hy + 20 * s, -2 * s)), pose.to_lps((0.0, hy + 40 * s, -14 * s))
        sp_len = float(np.linalg.norm(sp_b - sp_a))
        blade = SpinousBlade(sp_len, 3.5 * s, 7.0 * s, 2.2 * s, 3.2 * s, 5.0 * s)
        half = (3.2 * s + 0.5, 1.25 * 7.0 * s + 0.5, sp_len / 2)
        sp = phantom.Shape("fn", (sp_a + sp_b) / 2, phantom._frame_from_axis(sp_b - sp_a), half,
                           extra={"inside": blade, "half0": half[0]})
        phantom._bone(ops, sp, 10, cortex=1.0)
        below = pose


def _rib_ops(ops: list, start_lps: np.ndarray, sx: float, s: float, length_mm: float) -> None:
    """A lower rib: from the transverse process tip laterally, downwards and forwards, tapering.

    A chain of short elliptic cylinders, each taller (along the body axis) than thick, their
    cross-sections turned consistently (the tall axis is the body axis made perpendicular to the
    segment), so that the chain reads as one smooth flattened bone."""
    n = 18
    pts = []
    for i in range(n + 1):
        t = i / n
        ang = math.radians(70 * t)  # sweeps from lateral-backwards to lateral-forwards
        r = length_mm * 0.75
        x = start_lps[0] + sx * r * math.sin(ang)
        y = start_lps[1] + r * 0.15 * math.sin(2 * ang) - r * (1 - math.cos(ang)) * 0.9
        z = start_lps[2] - length_mm * 0.5 * t
        pts.append(np.array([x, y, z]))
    # flattened, tapering, and fading towards its anterior end (where the costal cartilage, not
    # seen on a radiograph, continues it): thinner cortex and section
    up = np.array([0.0, 0.0, 1.0])
    for i in range(n):
        t = (i + 0.5) / n
        axis = pts[i + 1] - pts[i]
        length = float(np.linalg.norm(axis))
        axis = axis / length
        tall_dir = up - (up @ axis) * axis
        tall_dir = tall_dir / np.linalg.norm(tall_dir)
        frame = np.stack([tall_dir, np.cross(axis, tall_dir), axis], axis=1)
        tall = (5.2 - 2.6 * t ** 1.5) * s
        thick = (2.8 - 1.3 * t) * s
        seg = phantom.Shape("cyl", (pts[i] + pts[i + 1]) / 2, frame, (tall, thick, length / 2 + thick * 0.5))
        phantom._bone(ops, seg, PART_RIB, cortex=1.0 - 0.5 * t)


@dataclass(frozen=True)
class _IliacWing:
    """The wing of an ilium as a curved plate (a ``phantom.Shape`` of kind "fn").

    Its mid-surface is an arc of a vertical cylinder (concave forwards and inwards: the iliac
    fossa), from the sacroiliac joint (u = 0) laterally round to the anterior superior iliac
    spine (u = 1), whose radius grows with height (the wing flares outwards towards the crest).
    The crest rises from the posterior end to its top near the middle of the arc and falls to
    the anterior spine. The plate is thin in the fossa and thick at the crest, near the
    sacroiliac joint and towards the body of the ilium below. Local coordinates: (lateral,
    posterior, superior) mm from ``origin`` (the box centre); the arc centre is ``arc_c``."""

    arc_c: tuple[float, float]
    r0: float  # mid-surface radius at height 0 (the S1 body centre's height)
    flare: float  # radius change per mm of height
    th0: float  # arc angle (rad) of the sacroiliac end
    th1: float  # arc angle of the anterior superior iliac spine
    z_crest: tuple[float, float, float]  # crest height at the joint end, its rise at mid-arc, at the spine
    z_low: tuple[float, float]  # lower edge of the wing at the joint end and at the spine (the body continues below)
    box_c: tuple[float, float, float]  # box centre in the S1-anchored frame
    s: float

    def top(self, u: np.ndarray) -> np.ndarray:
        a, rise, b = self.z_crest
        return (1 - u) * a + u * b + rise * np.sin(np.pi * np.clip(u, 0.0, 1.0))

    def half_thickness_mm(self, u: np.ndarray, z: np.ndarray, top: np.ndarray) -> np.ndarray:
        s = self.s
        crest = 3.0 * np.exp(-(((top - z) / (6.0 * s)) ** 2))
        joint = 5.0 * np.exp(-((u / 0.22) ** 2))
        low = 7.0 * np.clip(-z / (85.0 * s), 0.0, 1.0) ** 1.5  # the body of the ilium above the acetabulum
        # the arcuate line: a ridge on the pelvic brim from below the joint forwards and down
        arcuate = 2.2 * np.exp(-(((z - (-38.0 - 55.0 * u) * s) / (2.5 * s)) ** 2)) * np.clip((0.8 - u) / 0.2, 0.0, 1.0)
        return s * (1.5 + crest + joint + low + arcuate)

    def __call__(self, q0: np.ndarray, q1: np.ndarray, q2: np.ndarray, shrink: float) -> np.ndarray:
        # the plate fills a small part of its box: the full test runs only on the points within
        # the thickest half-thickness of the mid-surface (measured: the wing was a third of an
        # oblique's render time when every point of its box took the full test)
        x = q0 + np.float32(self.box_c[0] - self.arc_c[0])
        y = q1 + np.float32(self.box_c[1] - self.arc_c[1])
        z = q2 + np.float32(self.box_c[2])
        r = np.sqrt(x * x + y * y)
        near = np.abs(r - (self.r0 + self.flare * z)) <= 16.0 * self.s
        return phantom.inside_where(near, self._full, x, y, z, r, shrink=shrink)

    def _full(self, x: np.ndarray, y: np.ndarray, z: np.ndarray, r: np.ndarray, shrink: float) -> np.ndarray:
        u = (np.arctan2(y, x) - self.th0) / (self.th1 - self.th0)
        length = self.r0 * abs(self.th1 - self.th0)
        top = self.top(u)
        low = (1 - u) * self.z_low[0] + u * self.z_low[1]
        # the lower edge (below the radiographs' field) fades over 15 mm
        fade = np.clip((z - low) / (15.0 * self.s), 0.0, 1.0)
        fade *= 0.35 + 0.65 * np.clip((1 - u) * length / (14.0 * self.s), 0.0, 1.0)  # the anterior spine tapers
        # below the joint the posterior border curves forwards (the greater sciatic notch) and below
        # the anterior superior spine the anterior border recedes: the body of the ilium is the
        # middle of the arc, a thick column running down towards the acetabulum
        drop = -z / self.s
        u_back = 0.42 * _smoothstep((drop - 38.0) / 45.0)
        # (curving on back below: as a straight vertical border it drew a long dense line down
        # the lateral in front of the sacrum)
        u_front = 1.0 - 0.3 * _smoothstep((drop - 8.0) / 40.0) - 0.22 * _smoothstep((drop - 40.0) / 60.0)
        m = ((u - u_back) * length >= shrink) & ((u_front - u) * length >= shrink) & (z <= top - shrink)
        return m & (np.abs(r - (self.r0 + self.flare * z)) <= self.half_thickness_mm(u, z, top) * fade - shrink)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _circle(p1, p2, p3) -> tuple[np.ndarray, float]:
    """Centre and radius of the circle through three points of the plane."""
    a = np.array([[p2[0] - p1[0], p2[1] - p1[1]], [p3[0] - p1[0], p3[1] - p1[1]]], dtype=np.float64) * 2
    b = np.array([p2[0] ** 2 - p1[0] ** 2 + p2[1] ** 2 - p1[1] ** 2, p3[0] ** 2 - p1[0] ** 2 + p3[1] ** 2 - p1[1] ** 2])
    c = np.linalg.solve(a, b)
    return c, float(np.hypot(p1[0] - c[0], p1[1] - c[1]))


def _wing_shape(anchor: np.ndarray, sx: float, s: float) -> phantom.Shape:
    """The wing of one ilium; ``anchor`` is the S1 body centre, ``sx`` +1 left, -1 right."""
    # mid-surface in the axial plane (lateral, posterior mm from the anchor): beside the
    # sacroiliac joint, the most lateral point of the wing, the anterior superior iliac spine
    si, lateral, asis = (62 * s, 8 * s), (128 * s, -18 * s), (110 * s, -72 * s)
    c, r0 = _circle(si, lateral, asis)
    th0 = math.atan2(si[1] - c[1], si[0] - c[0])
    th1 = math.atan2(asis[1] - c[1], asis[0] - c[0])
    # the crest peaks level with the L4-L5 disc (the intercristal line): at 36 mm of rise it was at
    # L5, below the superimposed posterior elements on the lateral
    z_crest = (14 * s, 50 * s, -4 * s)
    z_low = (-105 * s, -100 * s)  # the lower end fades below the radiographs' field
    flare = 0.12
    # bounding box of the plate
    u = np.linspace(0, 1, 41)
    th = th0 + (th1 - th0) * u
    pts = []
    for z in (min(z_low), z_crest[1] + max(z_crest[0], z_crest[2])):
        rr = r0 + flare * z
        pts.append(np.stack([c[0] + rr * np.cos(th), c[1] + rr * np.sin(th), np.full_like(th, z)], axis=1))
    allp = np.concatenate(pts)
    h_max = 16.0 * s
    lo, hi = allp.min(axis=0) - h_max, allp.max(axis=0) + h_max
    box_c = (lo + hi) / 2
    wing = _IliacWing((float(c[0]), float(c[1])), r0, flare, th0, th1, z_crest, z_low,
                      (float(box_c[0]), float(box_c[1]), float(box_c[2])), s)
    axes = np.diag([sx, 1.0, 1.0])
    half = tuple(float(v) for v in (hi - lo) / 2)
    centre = anchor + axes @ box_c
    return phantom.Shape("fn", centre, axes, half, extra={"inside": wing, "half0": half[0]})


def _ilium_ops(model: phantom.Model) -> None:
    """Each iliac bone: the auricular part against the sacral ala across a 2.5 mm sacroiliac
    joint (an oblique cleft, converging backwards), the wing as a curved plate to the crest,
    and the body running down towards the acetabulum."""
    g = model.geometry
    s = g.scale
    s1 = g.poses[Level.S1]
    ops = model.ops
    hx = s1.half[0]
    ala_edge = hx + 29 * s  # lateral edge of the sacral ala (app.samples.sacrum: 55 mm at S1)
    c = s1.to_lps((0.0, 0.0, 0.0))
    for sx in (1.0, -1.0):
        wing = _wing_shape(c, sx, s)
        phantom._bone(ops, wing, PART_ILIUM, cortex=1.2)
        # the joint: a surface through J, its normal pointing laterally, 25 deg backwards and
        # SI_TILT_DEG down (so that on the AP the joint runs down and in, like the auricular
        # surfaces of a real pelvis, not as a vertical cut), undulating by SI_WAVE_MM over
        # SI_WAVE_PERIOD_MM along its height (an irregular joint line)
        a, b = math.radians(25.0), math.radians(SI_TILT_DEG)
        n = np.array([sx * math.cos(a) * math.cos(b), math.sin(a) * math.cos(b), -math.sin(b)])
        t = np.array([-sx * math.sin(a), math.cos(a), 0.0])
        v = np.cross(n, t)
        v = v * np.sign(v[2])
        j = c + np.array([sx * (ala_edge - 1.5 * s), 6 * s, -12 * s])
        gap = 2.5
        wave = (SI_WAVE_MM * s, SI_WAVE_PERIOD_MM * s, v)
        _clip_sacral_ala(model, j, n, wave)
        aur_c = j + n * (gap + 6 * s)
        neg = (-wave[0], wave[1], wave[2])
        auricular = phantom.Shape("sq", aur_c, np.stack([n, t, v], axis=1),
                                  (6 * s, 19 * s, 25 * s), exponent=2.2, clip=(j + n * gap, -n, neg))
        # marrow merging into the thick joint end of the wing, with no cortex of its own but the
        # dense joint face (the subchondral plate, a line along the joint on the AP, following
        # its undulation): a cortical shell all round showed it as an oval ring ("a balloon")
        # beside the joint on every view
        ops.append(phantom.Op(phantom.P_OUTER, auricular, labels.CORTICAL, PART_ILIUM))
        marrow = phantom.Shape("sq", aur_c, auricular.axes, auricular.half, exponent=2.2,
                               clip=(j + n * (gap + 1.6), -n, neg))
        ops.append(phantom.Op(phantom.P_INNER, marrow, labels.CANCELLOUS, PART_ILIUM,
                              only_on=frozenset({labels.CANCELLOUS, labels.CORTICAL})))


def _clip_sacral_ala(model: phantom.Model, j: np.ndarray, n: np.ndarray, wave: tuple) -> None:
    """Cut the sacrum's half of one side (app.samples.sacrum) at the joint surface through
    ``j`` (normal ``n``, lateral; undulating by ``wave``, see ``phantom.clip_wave``): the
    sacrum's auricular surface, with its subchondral cortex."""
    for op in model.ops:
        extra = op.shape.extra or {}
        if op.part != 11 or "sacrum_side" not in extra or op.shape.clip is not None:
            continue
        if extra["sacrum_side"] * n[0] <= 0:
            continue
        op.shape.clip = (j - n * (1.4 if op.pass_no == phantom.P_INNER else 0.0), n, wave)


def _bowel_gas_ops(model: phantom.Model) -> None:
    """Bowel gas (seeded by the case), painted over viscera only: a few loops, each a curved chain
    of overlapping pockets of different sizes (gas between the folds and the stool of the colon
    reads as mottled, lobulated lucencies, not as clean ellipses), and some scattered small bubbles."""
    g = model.geometry
    rng = np.random.default_rng([model.case.seed, 77])
    z_top = g.poses[Level.L1].origin[2] + 20.0
    z_bot = g.poses[Level.S1].origin[2] - 10.0
    y_spine = g.poses[Level.L3].origin[1]
    viscera = frozenset({labels.VISCERA})
    # the posterior arches as the obliques see them: a teaching film keeps gas off the Scotty
    # dogs (a bubble over a pars can hide or mimic its defect), so a pocket whose projection on
    # either oblique falls within 12 mm of a dog's part is left out
    dogs = np.array([shape.centre for shape in model.dog_parts.values()])
    columns = [np.array([math.cos(a), -math.sin(a), 0.0]) for a in (math.radians(45.0), math.radians(-45.0))]
    dog_cols = [dogs @ u for u in columns]

    def clear_of_dogs(c: np.ndarray, size: float) -> bool:
        return all(float(np.min(np.abs(cols - c @ u))) > size + 12.0 for u, cols in zip(columns, dog_cols, strict=True))

    def pocket(c: np.ndarray, size: float, flat: float) -> None:
        if not clear_of_dogs(c, size):
            return
        h = size * rng.uniform(0.6, 1.0, size=3)
        half = (float(h[0]), float(h[1] * flat), float(h[2]))
        shape = phantom.Shape("sq", c, phantom._rot_z(float(rng.uniform(0, 180))) @ phantom._rot_x(float(rng.uniform(-30, 30))),
                              half, exponent=float(rng.uniform(1.8, 2.4)))
        model.ops.append(phantom.Op(phantom.P_DISC, shape, labels.AIR, PART_GAS, only_on=viscera))

    for _ in range(6):  # loops
        c = np.array([rng.uniform(-100, 100), y_spine - rng.uniform(40, 85), rng.uniform(z_bot, z_top)])
        heading = rng.uniform(0, 2 * math.pi)
        for _k in range(int(rng.integers(4, 9))):
            pocket(c, float(rng.uniform(3.0, 9.0)), float(rng.uniform(0.6, 1.0)))
            heading += rng.normal(0.0, 0.7)
            step = rng.uniform(5.0, 10.0)
            c = c + np.array([step * math.cos(heading), rng.normal(0.0, 2.0), step * math.sin(heading)])
    for _ in range(25):  # scattered bubbles
        c = np.array([rng.uniform(-110, 110), y_spine - rng.uniform(30, 95), rng.uniform(z_bot, z_top)])
        pocket(c, float(rng.uniform(1.5, 4.0)), 1.0)


def add_extra_ops(model: phantom.Model) -> None:
    _thoracic_ops(model)
    _ilium_ops(model)
    _bowel_gas_ops(model)
