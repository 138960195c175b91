"""The anatomy around the lumbar spine that a radiograph shows (no Qt): T11 and T12 with the
11th and 12th ribs, the iliac bones with the sacroiliac joints, and some bowel gas.

None of it carries findings; it is there so that the radiographs (and the CT through the
sacrum) show what a reader expects in the field of view. ``add_extra_ops`` appends shapes to a
``phantom.Model``; the parts table of the phantom names them (pedicle, rib, ilium, ...).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from app.findings.model import Level
from app.samples import labels, phantom
from app.samples.spinous import SpinousBlade

PART_RIB = 18
PART_ILIUM = 19
PART_GAS = 20
# the sacroiliac joint: its tilt from the vertical (on the AP it runs down and medially; 0 drew
# it as a vertical cut) and the undulation of its surfaces (amplitude and period along its
# height, mm)
SI_TILT_DEG = 12.0
SI_WAVE_MM = 0.6
# its obliquity in the axial plane (the normal's turn backwards from the lateral: the joint runs
# from anterolateral to posteromedial; 25 before) and how far inside the ala's lateral edge it
# passes at S1 (mm; 1.5 before: it cut only the thin tip of the ala's lens-shaped section, a sharp
# corner against a sliver of ilium, so the two faced each other over a few mm only)
SI_OBLIQUE_DEG = 35.0
SI_INSET_MM = 8.0
# the iliac side of the joint (the auricular part and the tuberosity behind it): a superellipsoid
# whose centre lies AUR_CENTRE_MM beyond the iliac joint face, well inside its half-thickness
# AUR_HALF_MM, so the cut leaves a long flat face along the joint (centred one half-thickness
# beyond it, as before, it touched the joint along a line: an oval sliver on the axial CT);
# shifted back along the joint and down by AUR_BACK_MM and AUR_DOWN_MM; half-height AUR_HALF_H_MM.
# (At 12-13 mm half-thickness and 22-24 mm half-length it drew a large oval lump beside the joint
# on the AP)
AUR_HALF_MM = 9.0
AUR_CENTRE_MM = 3.0
AUR_BACK_MM = 6.0
AUR_DOWN_MM = 2.0
AUR_HALF_H_MM = 26.0
AUR_CORTEX_MM = 0.8
# where the wing's mid-surface starts (lateral, posterior mm from the S1 body centre): inside the
# iliac side of the joint, so that the two merge (from 62 mm lateral, a dark band lay between
# them on the AP)
WING_START_MM = (54.0, 12.0)
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
            # the transverse processes of T11 and T12 are short stubs (the 11th and 12th ribs do
            # not articulate with them): as 14 mm rods of 5 mm radius they drew a square block
            # at the start of each rib on the AP
            tp_a = pose.to_lps((sx * (canal + 6 * s), hy + 11 * s, 1 * s))
            tp_b = pose.to_lps((sx * (canal + 15 * s), hy + 17 * s, 3 * s))
            phantom._bone(ops, phantom.cylinder(tp_a, tp_b, 3.8 * s, 3.2 * s), 9, cortex=1.0)
            lam = phantom.cylinder(pose.to_lps((sx * (canal + 2 * s), hy + 15 * s, -2 * s)),
                              pose.to_lps((0.0, hy + 22 * s, -2 * s)), 3.5 * s, 6.5 * s)
            phantom._bone(ops, lam, 6, cortex=1.5)
            # the rib's head at the posterolateral corner of the body (the costovertebral joint)
            head = pose.to_lps((sx * (hx * 0.8), hy * 0.75, 1.0 * s))
            _rib_ops(ops, head, sx, s, twelfth=(k == 0))
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


# the 11th and 12th ribs: length (mm), heading in the axial plane from the lateral at the head
# and at the tip (deg, + forwards), descent per mm along the rib at the head and at the tip, and
# the half-height and half-thickness of the section at the head (it tapers to a point)
_RIBS = {True: (95.0, (-35.0, 20.0), (0.5, 0.85), (4.2, 2.1)),
         False: (165.0, (-35.0, 50.0), (0.35, 0.95), (5.0, 2.4))}


def _rib_ops(ops: list, head_lps: np.ndarray, sx: float, s: float, twelfth: bool) -> None:
    """The 11th or 12th rib: from its head beside the body, first laterally and a little back
    (to its angle), then laterally, forwards and down, curving, thin and tapering to a point
    (they float: no costal cartilage). A chain of short elliptic cylinders, each taller (along
    the body axis) than thick, their cross-sections turned consistently (the tall axis is the body
    axis made perpendicular to the segment), so that the chain reads as one smooth bone. (Swept
    70 deg round from behind to in front at an even width, they drew flat bands with square ends
    on the AP and a hook on the lateral.)"""
    length_mm, (h0, h1), (d0, d1), (tall0, thick0) = _RIBS[twelfth]
    length_mm *= s
    n = 22
    ds = length_mm / n
    pts = [np.asarray(head_lps, dtype=np.float64)]
    for i in range(n):
        t = (i + 0.5) / n
        head = math.radians(h0 + (h1 - h0) * math.sin(0.5 * math.pi * t))
        descent = d0 + (d1 - d0) * t
        step = np.array([sx * math.cos(head), math.sin(-head), -descent])
        step *= ds / float(np.linalg.norm(step))
        pts.append(pts[-1] + step)
    up = np.array([0.0, 0.0, 1.0])
    for i in range(n):
        t = (i + 0.5) / n
        axis = pts[i + 1] - pts[i]
        seg_len = float(np.linalg.norm(axis))
        axis = axis / seg_len
        tall_dir = up - (up @ axis) * axis
        tall_dir = tall_dir / np.linalg.norm(tall_dir)
        frame = np.stack([tall_dir, np.cross(axis, tall_dir), axis], axis=1)
        taper = (1.0 - t) ** 0.8  # to a point
        tall = max(tall0 * (0.35 + 0.65 * taper) * taper ** 0.3, 0.35) * s
        thick = max(thick0 * (0.4 + 0.6 * taper), 0.35) * s
        seg = phantom.Shape("cyl", (pts[i] + pts[i + 1]) / 2, frame, (tall, thick, seg_len / 2 + thick * 0.5))
        phantom._bone(ops, seg, PART_RIB, cortex=0.9 - 0.5 * t)


@dataclass(frozen=True)
class _IliacWing:
    """The wing of an ilium as a curved plate (a ``phantom.Shape`` of kind "fn").

    Its mid-surface, in polar coordinates round an axis in front of and medial to it
    (``polar_c``), runs from the sacroiliac joint (u = 0) laterally round to the anterior superior
    iliac spine (u = 1) at a radius tabulated against u (a smooth curve through a few points of
    the axial plane: laterally and a little forwards behind, turning forwards ever more steeply
    in front, concave forwards and inwards: the iliac fossa), not an arc of a circle (as an arc
    of 47 mm radius it showed on the obliques as a round plate with a circular rim, and edge on
    as a straight-sided fan; as an S with a straight part running laterally it drew a long
    bright line down the lateral). The wing flares outwards upwards, more
    towards its lateral part and more the higher (so its silhouette edge on is curved). The crest
    rises from the joint end, peaks near the middle (the tubercle a little in front of it) and
    falls to the anterior spine. The plate is thin in the fossa (faint en face) and thick at the
    crest (a rounded rim), near the joint, along the arcuate line and the greater sciatic notch,
    and towards the body of the ilium below. Local coordinates: (lateral, posterior, superior) mm
    from ``origin`` (the box centre)."""

    polar_c: tuple[float, float]
    r_tab: tuple[float, ...]  # mid-surface radius (mm) at height 0 at u = 0, 1 / n, ... 1 (n + 1 values)
    th0: float  # polar angle (rad) of the sacroiliac end
    th1: float  # polar angle of the anterior superior iliac spine
    z_crest: tuple[float, float, float]  # crest height at the joint end, its rise at mid-arc, at the spine
    z_low: tuple[float, float]  # lower edge of the wing at the joint end and at the spine (the body continues below)
    box_c: tuple[float, float, float]  # box centre in the S1-anchored frame
    r_band: tuple[float, float]  # least and greatest mid-surface radius at height 0
    s: float

    def flare_mm(self, u: np.ndarray, z: np.ndarray) -> np.ndarray:
        """How far the mid-surface moves outwards at height ``z`` (0 at the joint end)."""
        zz = z / self.s
        return self.s * _smoothstep(u * 2.0) * (0.15 * zz + 0.0008 * zz * np.abs(zz))

    def mid_r(self, u: np.ndarray, z: np.ndarray) -> np.ndarray:
        # linear interpolation in the evenly spaced table (np.interp's search made the wing's
        # inside test 1.4 times slower)
        tab = np.asarray(self.r_tab, dtype=np.float32)
        n = tab.size - 1
        pos = np.clip(u, np.float32(0.0), np.float32(1.0)) * np.float32(n)
        i0 = np.minimum(pos.astype(np.int32), n - 1)
        f = pos - i0.astype(np.float32)
        return tab[i0] * (1 - f) + tab[i0 + 1] * f + self.flare_mm(u, z)

    def top(self, u: np.ndarray) -> np.ndarray:
        a, rise, b = self.z_crest
        uc = np.clip(u, 0.0, 1.0)
        # the crest's tubercle in front of its highest point, and a dip behind the anterior spine
        bumps = self.s * (4.0 * np.exp(-(((uc - 0.7) / 0.08) ** 2)) - 3.0 * np.exp(-(((uc - 0.9) / 0.05) ** 2)))
        return (1 - uc) * a + uc * b + rise * np.sin(np.pi * uc ** 0.85) + bumps

    def half_thickness_mm(self, u: np.ndarray, z: np.ndarray, top: np.ndarray, u_back: np.ndarray,
                          u_front: np.ndarray, length: float) -> np.ndarray:
        s = self.s
        # the crest: a thick rounded rim, thickest at the tubercle and behind
        crest_amp = 5.0 + 1.6 * np.exp(-(((u - 0.7) / 0.1) ** 2)) + 1.2 * np.exp(-((u / 0.2) ** 2))
        crest = crest_amp * np.exp(-(((top - z) / (7.0 * s)) ** 2))
        joint = 5.0 * np.exp(-((u / 0.22) ** 2))
        low = 7.0 * np.clip(-z / (85.0 * s), 0.0, 1.0) ** 1.5  # the body of the ilium above the acetabulum
        # the arcuate line: a ridge on the pelvic brim from below the joint forwards and down
        arcuate = 2.6 * np.exp(-(((z - (-38.0 - 55.0 * u) * s) / (3.0 * s)) ** 2)) * np.clip((0.8 - u) / 0.2, 0.0, 1.0)
        # the thick posterior border round the greater sciatic notch
        notch = 3.0 * np.exp(-(((u - u_back) * length / (7.0 * s)) ** 2)) * np.clip((-z / s - 25.0) / 20.0, 0.0, 1.0)
        # the rounded anterior border (the anterior spines and the notch between them): with the
        # fossa's thickness there the anterior superior spine stood alone on the lateral, a bright
        # half-disc in front of the sacrum
        front = 2.2 * np.exp(-(((u_front - u) * length / (6.0 * s)) ** 2))
        return s * (0.65 + crest + joint + low + arcuate + notch + front)

    def __call__(self, q0: np.ndarray, q1: np.ndarray, q2: np.ndarray, shrink: float) -> np.ndarray:
        # the plate fills a small part of its box: the full test runs only on the points within
        # the thickest half-thickness of the mid-surface, found in two cheap passes (the band of
        # radii the mid-surface spans at that height, then the mid-surface at the point's angle).
        # Measured: the wing was a third of an oblique's render time when every point of its
        # box took the full test; with the angle's arctan2 on every point of the box, 1.7 times
        # the time of the circular wing's test
        x = q0 + np.float32(self.box_c[0] - self.polar_c[0])
        y = q1 + np.float32(self.box_c[1] - self.polar_c[1])
        z = q2 + np.float32(self.box_c[2])
        r = np.sqrt(x * x + y * y)
        zz = z / self.s
        fl = self.s * (0.15 * zz + 0.0008 * zz * np.abs(zz))
        h = 14.0 * self.s
        near = (r >= self.r_band[0] + np.minimum(fl, 0.0) - h) & (r <= self.r_band[1] + np.maximum(fl, 0.0) + h)
        return phantom.inside_where(near, self._near_mid, x, y, z, r, shrink=shrink)

    def _near_mid(self, x: np.ndarray, y: np.ndarray, z: np.ndarray, r: np.ndarray, shrink: float) -> np.ndarray:
        u = (np.arctan2(y, x) - np.float32(self.th0)) * np.float32(1.0 / (self.th1 - self.th0))
        near = (np.abs(r - self.mid_r(u, z)) <= 14.0 * self.s) & (u > -0.1) & (u < 1.1)
        return phantom.inside_where(near, self._full, u, z, r, shrink=shrink)

    def _full(self, u: np.ndarray, z: np.ndarray, r: np.ndarray, shrink: float) -> np.ndarray:
        length = 1.15 * float(np.mean(self.r_band)) * abs(self.th1 - self.th0)
        top = self.top(u)
        low = (1 - u) * self.z_low[0] + u * self.z_low[1]
        # the lower edge (below the radiographs' field) fades over 15 mm
        fade = np.clip((z - low) / (15.0 * self.s), 0.0, 1.0)
        fade *= 0.35 + 0.65 * np.clip((1 - u) * length / (14.0 * self.s), 0.0, 1.0)  # the anterior spine tapers
        # below the joint the posterior border curves forwards (the posterior inferior spine, then
        # the greater sciatic notch) and below the anterior superior spine the anterior border
        # recedes, with a notch above the anterior inferior spine: the body of the ilium is the
        # middle of the arc, a thick column running down towards the acetabulum
        drop = -z / self.s
        u_back = 0.06 * np.exp(-(((drop - 16.0) / 7.0) ** 2)) + 0.42 * _smoothstep((drop - 36.0) / 45.0)
        # (curving on back below: as a straight vertical border it drew a long dense line down
        # the lateral in front of the sacrum)
        u_front = (1.0 - 0.3 * _smoothstep((drop - 8.0) / 40.0) - 0.22 * _smoothstep((drop - 40.0) / 60.0)
                   - 0.07 * np.exp(-(((drop - 26.0) / 8.0) ** 2)))
        m = ((u - u_back) * length >= shrink) & ((u_front - u) * length >= shrink) & (z <= top - shrink)
        half = self.half_thickness_mm(u, z, top, u_back, u_front, length) * fade
        # a rounded crest: the section closes as a half-disc over the last half-thickness
        cap_h = np.maximum(half, 0.5)
        over = np.clip(z - (top - cap_h), 0.0, None) / cap_h
        half = half * np.sqrt(np.clip(1.0 - over * over, 0.0, 1.0))
        return m & (np.abs(r - self.mid_r(u, z)) <= half - shrink)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _catmull_rom(ctrl: np.ndarray, per_span: int) -> np.ndarray:
    """Points of the Catmull-Rom spline through the rows of ``ctrl`` (the end points doubled)."""
    p = np.concatenate([ctrl[:1], ctrl, ctrl[-1:]])
    t = np.linspace(0.0, 1.0, per_span, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3))
    out.append(ctrl[-1:])
    return np.concatenate(out)


def _wing_shape(anchor: np.ndarray, sx: float, s: float) -> phantom.Shape:
    """The wing of one ilium; ``anchor`` is the S1 body centre, ``sx`` +1 left, -1 right."""
    # mid-surface in the axial plane (lateral, posterior mm from the anchor) through: beside the
    # sacroiliac joint, the posterior part (laterally and a little forwards), the most lateral
    # point of the wing, round to the anterior superior iliac spine; polar round a point in front.
    # (With the spine 70 mm, or 56 mm, in front of the S1 body centre it stood alone far in
    # front of the spine on the lateral, a bright half-disc: the wings now overlap the sacrum and
    # L5 there.)
    pc = np.array([40.0, -60.0]) * s
    ctrl = np.array([(WING_START_MM[0], WING_START_MM[1]), (88.0, 0.0), (112.0, -10.0), (127.0, -19.0), (133.0, -30.0),
                     (131.0, -40.0), (120.0, -49.0)]) * s
    curve = _catmull_rom(ctrl, 24)
    th = np.arctan2(curve[:, 1] - pc[1], curve[:, 0] - pc[0])
    rr = np.hypot(curve[:, 0] - pc[0], curve[:, 1] - pc[1])
    th0, th1 = float(th[0]), float(th[-1])
    u_tab = (th - th0) / (th1 - th0)  # increasing along the curve
    # the crest peaks level with the L4-L5 disc (the intercristal line): at 36 mm of rise it was at
    # L5, below the superimposed posterior elements on the lateral
    z_crest = (14 * s, 50 * s, -4 * s)
    z_low = (-105 * s, -100 * s)  # the lower end fades below the radiographs' field
    uu = np.linspace(0.0, 1.0, 81)
    r_tab = np.interp(np.linspace(0.0, 1.0, 129), u_tab, rr)
    proto = _IliacWing((float(pc[0]), float(pc[1])), tuple(float(v) for v in r_tab),
                       th0, th1, z_crest, z_low, (0.0, 0.0, 0.0), (float(rr.min()), float(rr.max())), s)
    # bounding box of the plate
    th = th0 + (th1 - th0) * uu
    pts = []
    for z in np.linspace(min(z_low), z_crest[1] + max(z_crest[0], z_crest[2]) + 6 * s, 9):
        rr = proto.mid_r(uu, np.full_like(uu, z))
        pts.append(np.stack([pc[0] + rr * np.cos(th), pc[1] + rr * np.sin(th), np.full_like(th, z)], axis=1))
    allp = np.concatenate(pts)
    h_max = 16.0 * s
    lo, hi = allp.min(axis=0) - h_max, allp.max(axis=0) + h_max
    box_c = (lo + hi) / 2
    wing = dataclasses.replace(proto, box_c=(float(box_c[0]), float(box_c[1]), float(box_c[2])))
    axes = np.diag([sx, 1.0, 1.0])
    half = tuple(float(v) for v in (hi - lo) / 2)
    centre = anchor + axes @ box_c
    return phantom.Shape("fn", centre, axes, half, extra={"inside": wing, "half0": half[0]})


def _ilium_ops(model: phantom.Model) -> None:
    """Each iliac bone: the auricular part against the sacral ala across a 2.5 mm sacroiliac
    joint (an oblique cleft, running backwards and medially in the axial plane and down and
    medially on the AP), the wing as a curved plate to the crest,
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
        a, b = math.radians(SI_OBLIQUE_DEG), math.radians(SI_TILT_DEG)
        n = np.array([sx * math.cos(a) * math.cos(b), math.sin(a) * math.cos(b), -math.sin(b)])
        t = np.array([-sx * math.sin(a), math.cos(a), 0.0])
        v = np.cross(n, t)
        v = v * np.sign(v[2])
        # the joint through the deep part of the ala (at its thin lateral tip, 1.5 mm inside
        # the edge, the sacrum's section ended in a sharp corner against a sliver of ilium)
        j = c + np.array([sx * (ala_edge - SI_INSET_MM * s), 6 * s, -12 * s])
        gap = 2.5
        wave = (SI_WAVE_MM * s, SI_WAVE_PERIOD_MM * s, v)
        _clip_sacral_ala(model, j, n, wave)
        # the iliac side: lateral to and behind the joint, its medial face the joint surface
        # offset by the gap (the two sides of the cleft are the same smooth undulating plane)
        aur_c = j + n * (gap + AUR_CENTRE_MM * s) + t * (AUR_BACK_MM * s) - v * (AUR_DOWN_MM * s)
        neg = (-wave[0], wave[1], wave[2])
        auricular = phantom.Shape("sq", aur_c, np.stack([n, t, v], axis=1),
                                  (AUR_HALF_MM * s, 16 * s, AUR_HALF_H_MM * s), exponent=2.2, clip=(j + n * gap, -n, neg))
        # marrow merging into the thick joint end of the wing, inside the dense joint face (the
        # subchondral plate, a line along the joint on the AP, following its undulation) and a
        # thin cortex (AUR_CORTEX_MM: without one the iliac side was a shapeless patch of
        # cancellous bone on the axial CT; with the full cortex of the old oval block, an oval
        # ring, "a balloon", beside the joint on every view; at 0.8 mm a faint outline of its
        # lower end on the AP)
        ops.append(phantom.Op(phantom.P_OUTER, auricular, labels.CORTICAL, PART_ILIUM))
        marrow = phantom.Shape("sq", aur_c, auricular.axes, tuple(h - AUR_CORTEX_MM * s for h in auricular.half), exponent=2.2,
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
