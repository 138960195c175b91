"""Soft-tissue detail that the CT and the MR show and the radiographs do not need, painted into
a label volume after ``phantom.label_volume``, no Qt.

- fat planes (~1.2 mm) around the psoas and each paraspinal muscle (quadratus lumborum,
  erector spinae, multifidus) where it borders another tissue, and thin intramuscular fat
  streaks in the paraspinal muscles (fibres run craniocaudally, so the streaks change slowly
  along z);
- the superficial fascia, a thin interrupted line in the subcutaneous fat parallel to the skin;
- the abdominal contents as discrete bowel loops with mesenteric vessels in mesenteric fat
  (app.samples.bowel) instead of one uniform "viscera";
- the aorta (just left of the midline, tapering, bifurcating at L4 into the common iliac
  arteries; ``labels.VESSEL`` inside a fibrous wall) and the inferior vena cava (right) with the
  iliac veins (``labels.VEIN``: slow flow), each in a rim of retroperitoneal fat;
- the psoas' medial part against the vertebral body, the kidneys' lower poles at L3, the
  iliacus in the iliac fossa, and bands of fatty muscle in the paraspinal muscles (wider in
  an adult).

The patterns are functions of the LPS position (sums of a few sinusoids with fixed phases, and
the bowel's seeded capsules), so the CT and the MR of a case show the same loops, planes and
vessels.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from app.findings.model import Level
from app.samples import labels as T
from app.samples.bowel import anterior_spine_y, paint_bowel
from app.samples.cases import CaseSpec
from app.samples.phantom import Grid, _Ellipse, _inside_small, _psoas, _soft_layout, model_for, psoas_key, psoas_of_key

FAT_PLANE_MM = 1.2  # width of the fat plane between two muscles
_STREAK_HALF = 0.055  # half-width of an intramuscular fat streak in pattern units (~0.8 mm)
PSOAS_STREAK_HALF = 0.035  # thinner and (with the gate) fewer in the lean psoas
FATTY_MIN_AGE_YEARS = 30.0
FATTY_BAND_HALF_ADULT = 0.32  # bands of fatty muscle around the streaks, pattern units
FATTY_BAND_HALF_YOUNG = 0.1

# (kx, ky, kz) in rad/mm and phase of the pattern components (fixed: same anatomy every run)
_WAVES_STREAK = ((0.21, 0.33, 0.012, 0.4), (-0.29, 0.17, -0.010, 2.1), (0.11, -0.25, 0.015, 4.0))


def _random_waves(seed: int, n: int, wavelength_mm: tuple[float, float]) -> tuple:
    """n components with random 3-D directions and wavelengths (fixed seed): many, so the
    pattern does not repeat visibly."""
    rng = np.random.default_rng(seed)
    d = rng.standard_normal((n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    k = 2 * np.pi / rng.uniform(*wavelength_mm, size=n)
    ph = rng.uniform(0, 2 * np.pi, size=n)
    return tuple((float(a * kk), float(b * kk), float(c * kk), float(p)) for (a, b, c), kk, p in zip(d, k, ph, strict=True))


_WAVES_BOWEL = _random_waves(18, 12, (16.0, 45.0))  # breaks the intramuscular fat streaks
_WAVES_MOTTLE = _random_waves(19, 8, (5.0, 11.0))  # gas bubbles in faeces


class _Waves:
    """sum_i sin(kx x + ky y + kz z + phase) / n on a fixed x-y plane: the x-y parts are
    computed once, each z costs two multiply-adds per component."""

    def __init__(self, waves: tuple, x: np.ndarray, y: np.ndarray) -> None:
        self.waves = waves
        self.sin_xy = [np.sin(kx * x + ky * y).astype(np.float32) for kx, ky, _kz, _ph in waves]
        self.cos_xy = [np.cos(kx * x + ky * y).astype(np.float32) for kx, ky, _kz, _ph in waves]

    def at_box(self, z: float, box: tuple[int, int, int, int]) -> np.ndarray:
        """The pattern at height ``z`` on the index box (a0, a1, b0, b1) of the plane."""
        a0, a1, b0, b1 = box
        out = np.zeros((a1 - a0, b1 - b0), dtype=np.float32)
        for (_kx, _ky, kz, ph), sn, cs in zip(self.waves, self.sin_xy, self.cos_xy, strict=True):
            c = kz * z + ph
            out += sn[a0:a1, b0:b1] * np.float32(np.cos(c)) + cs[a0:a1, b0:b1] * np.float32(np.sin(c))
        return out / np.float32(np.sqrt(len(self.waves) / 2))


@dataclass(frozen=True)
class _Vessel(_Ellipse):
    """A vessel's cross-section: an ellipse whose outline is not a perfect circle (a 2- and
    3-lobed undulation of ``amp_mm`` that turns slowly with height: a tortuous, slightly
    flattened vessel, not a straight cylinder)."""

    z: float = 0.0
    amp_mm: float = 0.0
    phase: float = 0.0
    vein: bool = False  # slow flow (labels.VEIN), no visible wall

    def signed_mm(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        th = np.arctan2(y - self.cy, x - self.cx)
        a, ph = self.amp_mm, self.phase
        wobble = a * np.cos(2 * th + 0.021 * self.z + ph) + 0.6 * a * np.cos(3 * th - 0.033 * self.z + 2 * ph)
        return super().signed_mm(x, y) + wobble


def _vessels(case: CaseSpec, ys: float, z: float) -> list[_Ellipse]:
    """Cross-sections of the aorta / iliac arteries and the IVC / iliac veins at height z: in
    front of the vertebral bodies, following the lordosis (``anterior_spine_y``), the aorta
    bifurcating at L4 and the IVC forming at L5; below L5 the iliac vessels diverge over the
    psoas and stay at the depth of the L5 body (they do not follow the sacrum back)."""
    g = model_for(case).geometry
    s = g.scale
    z_bif = float(g.poses[Level.L4].origin[2])  # aortic bifurcation at L4
    z_cav = float(g.poses[Level.L5].origin[2])  # IVC confluence at L5
    front = float(anterior_spine_y(case, max(z, z_cav))) - 3.0  # just anterior to the vertebral bodies
    out: list[_Ellipse] = []
    if z >= z_bif:
        # the aorta: in front of the body, just left, tapering towards the bifurcation (a tube
        # of one calibre read as a drawn pipe on the sagittal MR) with a slow ectatic swell
        r = (AORTA_RADIUS_MM[1] + (AORTA_RADIUS_MM[0] - AORTA_RADIUS_MM[1]) * min((z - z_bif) / 110.0, 1.0)
             + 0.3 * math.sin(0.05 * z + 1.1)) * s
        # its back at a fixed distance from the bodies: the calibre change shows on its front
        out.append(_Vessel(8.0 * s, front - 1.0 * s - 0.95 * r, r, 0.95 * r, z=z, amp_mm=0.5 * s, phase=0.3))
    else:
        d = min(z_bif - z, 60.0)
        for sx in (1.0, -1.0):
            out.append(_Vessel(sx * (6.0 + 0.45 * d) * s + 3.0, front - 8.0 * s + 0.1 * d, 5.5 * s, 5.0 * s, z=z,
                               amp_mm=0.35 * s, phase=1.0 + sx))
    if z >= z_cav:
        out.append(_Vessel(-17.0 * s, front - 9.0 * s, 11.0 * s, 7.5 * s, z=z, amp_mm=0.9 * s, phase=2.2,
                           vein=True))
    else:
        d = min(z_cav - z, 60.0)
        for sx in (1.0, -1.0):
            out.append(_Vessel(sx * (9.0 + 0.5 * d) * s - 4.0, front - 5.0 * s + 0.1 * d, 7.0 * s, 5.5 * s, z=z,
                               amp_mm=0.6 * s, phase=4.0 - sx, vein=True))
    return out


AORTA_RADIUS_MM = (10.5, 8.0)  # the aorta's radius 110 mm above its bifurcation and at it (adult)
AORTA_WALL_MM = 1.2  # the arterial wall (fibrous label: a grey rim between the flow void and the fat)


KIDNEY_HALF_MM = (24.0, 17.0, 55.0)  # semi-axes (x, y, z) of a kidney (adult)
_KIDNEY_RIGHT_LOWER_MM = 12.0  # the right kidney lies lower (the liver above it)


def _kidneys(case: CaseSpec, ys: float, z: float) -> list[_Ellipse]:
    """Cross-sections of the kidneys at height ``z``: ellipsoids whose lower poles lie at the L3
    body (the right one lower), the long axis tilted so the lower pole is more lateral and
    anterior, each in the perirenal fat lateral to the psoas and in front of the quadratus."""
    g = model_for(case).geometry
    s = 1.0 if not case.adolescent else 0.9
    hx, hy, hz = (v * s for v in KIDNEY_HALF_MM)
    out = []
    for sx in (1.0, -1.0):
        pole = float(g.poses[Level.L3].origin[2]) - 2.0 - (_KIDNEY_RIGHT_LOWER_MM if sx < 0 else 0.0)
        zc = pole + hz
        u = (z - zc) / hz
        if abs(u) >= 1.0:
            continue
        f = math.sqrt(1.0 - u * u)
        below = zc - z  # > 0 towards the lower pole
        out.append(_Ellipse(sx * (62.0 + 0.2 * below) * s, ys - 2.0 - 0.12 * below, hx * f, hy * f))
    return out


def _psoas_medial(case: CaseSpec, ys: float, psoas_t: float) -> list[_Ellipse]:
    """The psoas is not a round cord beside the spine: its medial part lies against the side of
    the vertebral body and the disc (a tear-drop section). An ellipse on the medial side of
    each psoas, painted into fat only (CT and MR; the radiographs keep the phantom's psoas)."""
    s = 1.0 if not case.adolescent else 0.9
    return [_Ellipse(e.cx - math.copysign(0.55 * e.ax, e.cx), e.cy + 0.2 * e.ay, 0.7 * e.ax, 0.62 * e.ay)
            for e in _psoas(s, ys, psoas_t)]


ILIACUS_MEDIAL_MM = 16.0  # how far the iliacus reaches in from the iliac wing
ILIACUS_ANTERIOR_MM = 10.0
_ILIAC_MIN_X_MM = 58.0  # bone lateral to this (on a plane below the iliac crest) is the ilium


def _iliacus(plane: np.ndarray, x: np.ndarray, grid: Grid) -> None:
    """The iliacus lines the iliac fossa: soft tissue (fat) just medial and anterior to the
    iliac wing becomes muscle (painted by shifting the wing's mask on the plane's index grid,
    separably: medially up to ILIACUS_MEDIAL_MM, anteriorly up to ILIACUS_ANTERIOR_MM)."""
    bone = np.isin(plane, (T.CORTICAL, T.CANCELLOUS, T.SCLEROTIC)) & (np.abs(x) > _ILIAC_MIN_X_MM)
    if not bone.any():
        return
    # index axes of x and y on this grid, and their steps (mm)
    ax_x = 0 if abs(grid.step0_xy[0]) > abs(grid.step0_xy[1]) else 1
    sx_mm = grid.step0_xy[0] if ax_x == 0 else grid.step1_xy[0]
    sy_mm = grid.step1_xy[1] if ax_x == 0 else grid.step0_xy[1]
    soft = plane == T.FAT
    for side in (1.0, -1.0):
        m = bone & (x * side > 0)
        if not m.any():
            continue
        grown = m.copy()
        medial = int(round(-side * np.sign(sx_mm)))  # index step towards the midline
        for _ in range(int(ILIACUS_MEDIAL_MM / abs(sx_mm))):
            m = np.roll(m, medial, axis=ax_x)
            grown |= m
        m = grown.copy()
        ant = -int(np.sign(sy_mm))  # index step anteriorly (smaller y)
        for _ in range(int(ILIACUS_ANTERIOR_MM / abs(sy_mm))):
            m = np.roll(m, ant, axis=1 - ax_x)
            grown |= m
        plane[grown & soft & (x * side > 20.0)] = T.MUSCLE


def _paint_ellipses(plane: np.ndarray, x: np.ndarray, y: np.ndarray, shapes: list[_Ellipse], label: int,
                    onto: tuple[int, ...]) -> None:
    for e in shapes:
        near = (np.abs(x - e.cx) < e.ax + 1.0) & (np.abs(y - e.cy) < e.ay + 1.0)
        if not near.any():
            continue
        sub = plane[near]
        sub[(e.q(x[near], y[near]) <= 1.0) & np.isin(sub, onto)] = label
        plane[near] = sub


MUSCLE_LOBE_MM = 2.6  # amplitude of the lobulation of a muscle's outline (adult)
_LOBE_ORDERS = (2, 3, 5, 7, 11)  # lobes round the outline (with relative weights below, each
_LOBE_WEIGHTS = (0.5, 1.0, 0.6, 0.4, 0.25)  # muscle's scaled by its own random factors)
_LOBE_SEED = 27


def _lobulation(e: _Ellipse, i: int, x: np.ndarray, y: np.ndarray, ys: float, amp_mm: float) -> np.ndarray:
    """Offset (mm) of muscle ``i``'s outline at points x, y: lobes round its centre whose
    phases turn slowly with the spine offset ``ys`` (so with height), not a smooth ellipse. Each
    muscle has its own weights per order (seeded by ``i``) and an envelope that makes one side
    of it bumpier than the other: with the same orders and weights for all, every muscle had the
    same regular bumps all round on axial CT."""
    th = np.arctan2((y - e.cy) / e.ay, (x - e.cx) / e.ax)
    rng = np.random.default_rng([_LOBE_SEED, i])
    weights = np.asarray(_LOBE_WEIGHTS) * rng.uniform(0.3, 1.6, size=len(_LOBE_ORDERS))
    rates = rng.uniform(0.05, 0.13, size=len(_LOBE_ORDERS))
    phases = rng.uniform(0.0, 2 * np.pi, size=len(_LOBE_ORDERS) + 1)
    out = np.zeros(np.shape(th), dtype=np.float32)
    for k, wk, rk, pk in zip(_LOBE_ORDERS, weights, rates, phases, strict=False):
        out += np.float32(wk) * np.cos(k * th + pk + rk * k * ys).astype(np.float32)
    envelope = 1.0 + 0.6 * np.cos(th + phases[-1] + 0.04 * ys).astype(np.float32)
    return out * envelope * np.float32(amp_mm / sum(_LOBE_WEIGHTS))


def _muscle_masks(case: CaseSpec, x: np.ndarray, y: np.ndarray, ys: float,
                  psoas_t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(inside a paraspinal muscle, on the visible outline of a muscle, muscle to grow into fat,
    muscle to give up to fat) for spine offset ``ys`` and psoas fraction ``psoas_t`` (the psoas
    the phantom painted at that height). The outlines are lobulated (``_lobulation``): the
    phantom paints ellipses, and the difference is the grow / shrink masks. Signed distances
    only in each muscle's bounding box (+ the lobes' reach)."""
    lay = _soft_layout(case, ys, psoas_t)
    muscles = lay.psoas + lay.paraspinal
    n_psoas = len(lay.psoas)
    amp = MUSCLE_LOBE_MM * (1.0 if not case.adolescent else 0.7)
    reach = amp + FAT_PLANE_MM
    para = np.zeros(x.shape, dtype=bool)
    inside_p = np.zeros(x.shape, dtype=bool)  # inside a lobulated outline
    inside_e = np.zeros(x.shape, dtype=bool)  # inside an ellipse (what the phantom painted)
    d = []
    for i, e in enumerate(muscles):
        near = (np.abs(x - e.cx) < e.ax + reach) & (np.abs(y - e.cy) < e.ay + reach)
        di = np.full(x.shape, np.inf, dtype=np.float32)
        de = e.signed_mm(x[near], y[near]).astype(np.float32)
        dp = de + _lobulation(e, i, x[near], y[near], ys, amp)
        di[near] = dp
        d.append(di)
        inside_e[near] |= de <= 0
        inside_p[near] |= dp <= 0
        if i >= n_psoas:
            para[near] |= dp <= 0
    band = np.zeros(x.shape, dtype=bool)
    for i in range(len(muscles)):
        b = np.abs(d[i]) < FAT_PLANE_MM / 2
        for later in d[i + 1:]:
            b &= later > -FAT_PLANE_MM / 2
        band |= b
    in_wall = lay.inner.q(x, y) < 1.0
    return para, band, inside_p & ~inside_e & in_wall, inside_e & ~inside_p


FASCIA_DEPTH_FRACTION = 0.4  # superficial fascia: this far into the subcutaneous fat from the skin
FASCIA_MM = 0.7


def _fascia_mask(case: CaseSpec, x: np.ndarray, y: np.ndarray, ys: float) -> np.ndarray:
    """The superficial fascia: a thin, gently wavy, here and there interrupted line in the
    subcutaneous fat, parallel to the skin (the membranous layer that splits the fat into a
    superficial and a deep layer on CT and on T1)."""
    lay = _soft_layout(case, ys)
    depth = -lay.fat.signed_mm(x, y)  # mm inside the skin's inner surface
    fat_t = lay.fat.ay - lay.inner.ay
    target = FASCIA_DEPTH_FRACTION * fat_t + 1.2 * np.sin(0.045 * x + 0.03 * y) + 0.6 * np.sin(0.13 * x - 0.09 * y)
    broken = np.sin(0.07 * x - 0.05 * y + 1.3) > -0.6
    subcutaneous = lay.inner.q(x, y) > 1.0
    return (np.abs(depth - target) < FASCIA_MM / 2) & broken & subcutaneous & (depth > 0)


BACK_CURVE_GAIN = 0.5  # the back's outline follows this fraction of the lordosis' curvature
BACK_CURVE_MAX_FAT_FRACTION = 0.45  # at most this fraction of the subcutaneous fat's thickness
_BACK_RAMP_MM = (30.0, 28.0)  # the warp starts this far behind the spine and is full this much further back


def back_curve_mm(case: CaseSpec, z: float) -> float:
    """How far (mm, <= 0: anteriorly) the posterior outline of the trunk lies in front of the
    phantom's straight one at height ``z``: the lordosis' own curve (a cubic fitted to the body
    centres' offsets from their straight-line fit) scaled by BACK_CURVE_GAIN, zero where the back
    is most posterior (the sacrum and the thoracolumbar junction lie on the table), deepest over
    L3-L4. The phantom's trunk follows a straight line (the radiographs keep it)."""
    cubic, top, lo, hi, limit = _back_curve_fit(case)
    zz = min(max(z, lo), hi)
    return float(np.clip(BACK_CURVE_GAIN * (np.polyval(cubic, zz) - top), -limit, 0.0))


_BACK_FITS: dict = {}


def _back_curve_fit(case: CaseSpec) -> tuple[np.ndarray, float, float, float, float]:
    """(cubic, its top over L1-S1, lowest and highest body-centre z, deepest offset) of a case."""
    if case not in _BACK_FITS:
        g = model_for(case).geometry
        lvs = (Level.L1, Level.L2, Level.L3, Level.L4, Level.L5, Level.S1)
        zs = np.array([g.poses[lv].origin[2] for lv in lvs])
        ys = np.array([g.arch_poses[lv].origin[1] for lv in lvs])
        res = ys - np.polyval(np.polyfit(zs, ys, 1), zs)
        cubic = np.polyfit(zs, res, 3)
        top = float(np.polyval(cubic, np.linspace(zs.min(), zs.max(), 64)).max())
        fat_t = (20.0 if not case.adolescent else 9.0) + (6.0 if case.sex == "F" else 0.0)
        _BACK_FITS.clear()
        _BACK_FITS[case] = (cubic, top, float(zs.min()), float(zs.max()), BACK_CURVE_MAX_FAT_FRACTION * fat_t)
    return _BACK_FITS[case]


def _curve_back(plane: np.ndarray, y: np.ndarray, grid: Grid, ys: float, shift_mm: float) -> None:
    """Move the back's soft tissue (skin, subcutaneous fat, fascia, the posterior muscle border)
    ``shift_mm`` along y, ramping in from nothing at _BACK_RAMP_MM[0] behind the spine: a gather
    along the grid's y axis (the grids are axis-aligned, so y depends on that index only); bone
    keeps its place and is not copied into soft tissue."""
    if shift_mm == 0.0:
        return
    ax_y = 0 if abs(grid.step0_xy[1]) > abs(grid.step1_xy[1]) else 1
    step = grid.step0_xy[1] if ax_y == 0 else grid.step1_xy[1]
    y1 = y[:, 0] if ax_y == 0 else y[0, :]
    ramp = np.clip((y1 - (ys + _BACK_RAMP_MM[0])) / _BACK_RAMP_MM[1], 0.0, 1.0)
    js = np.nonzero(ramp > 0)[0]
    if js.size == 0:
        return
    src = np.clip(np.rint(js - shift_mm * ramp[js] / step).astype(np.intp), 0, plane.shape[ax_y] - 1)
    here = np.take(plane, js, axis=ax_y)
    moved = np.take(plane, src, axis=ax_y)
    bone = np.isin(here, tuple(T.BONE_LABELS)) | np.isin(moved, tuple(T.BONE_LABELS))
    out = np.where(bone, here, moved)
    if ax_y == 0:
        plane[js, :] = out
    else:
        plane[:, js] = out


FLAVUM_HALF_HEIGHT_MM = 6.0  # half the height of the interlaminar space behind the canal (measured on the
# phantom's mid-line: 11 mm between the spinous processes, centred FLAVUM_LEVEL_MM below the upper body)
FLAVUM_LEVEL_MM = 14.0
FLAVUM_THICK_MM = 3.5
EPIDURAL_PAD_MM = 3.5  # the posterior epidural fat pad's depth at its middle (triangular on a sagittal)
_CANAL_Y_MM = (2.5, 14.5, 16.0)  # the phantom's sac front, sac back and canal back behind the body's centre-half
INTERSPINOUS_HALF_MM = 0.8  # half-width of the interspinous ligament (its strands)
INTERSPINOUS_FAT_HALF_MM = 3.2  # the interspinous fat round it, between the spinous processes
INTERSPINOUS_HALF_HEIGHT_MM = 13.0  # reach above / below the interlaminar level (bone keeps its label)
INTERSPINOUS_STRAND_MM = 4.5  # period of the ligament's oblique strands (3 mm read as a hatch)
INTERSPINOUS_STRAND_DUTY = 0.45
SPINOUS_TIP_MM = 29.5  # the spinous tips' back behind the canal's back at the interlaminar level, in
# the upper arch's frame; SPINOUS_TIP_SLOPE mm further back per mm below it. Measured on case 4's
# mid-line (|x| < 1 mm, / scale): the upper tip 28 mm behind the canal 0-13 mm above the level, the
# lower one's top 31-33 mm 0-13 mm below it (L5: its own tip at 23 mm, S1 has none)
SPINOUS_TIP_SLOPE = 0.17
SUPRASPINOUS_MM = 1.5


def paint_posterior_canal(case: CaseSpec, lab: np.ndarray, grid: Grid) -> None:
    """The back of the spinal canal at each interlaminar level (L1-L2 ... L5-S1), in place on
    ``lab`` ([k, a, b] of ``grid``; soft tissue, CSF and epidural fat only):

    - the ligamentum flavum: a dark fibrous band FLAVUM_THICK_MM thick behind the canal,
      ~2 x FLAVUM_HALF_HEIGHT_MM high, between the laminae;
    - the posterior epidural fat pad in front of it: a triangle on a sagittal (EPIDURAL_PAD_MM
      deep at the middle of the level, thinning up and down) indenting the back of the sac;
    - between the spinous processes: interspinous fat (INTERSPINOUS_FAT_HALF_MM either side of
      the mid-line) with the interspinous ligament as broken oblique strands in it, and the
      supraspinous ligament as a thin band along the tips' back (SPINOUS_TIP_MM); as a solid
      4 mm mid-line band the ligament read as a dark block between the spinous processes on
      the sagittal MR.

    In the phantom the canal is a smooth tube (a straight bright line of epidural fat behind the
    sac on T1, nothing at the interlaminar levels). Local coordinates of the upper level's arch
    (the phantom's canal frame), each level only in its box."""
    g = model_for(case).geometry
    s = g.scale
    levels = (Level.L1, Level.L2, Level.L3, Level.L4, Level.L5)
    soft = np.array(sorted(T.SOFT_LABELS | {T.MUSCLE_FATTY, T.FASCIA}), dtype=np.uint8)
    for lv in levels:
        pose = g.arch_poses[lv] if lv is not Level.L5 else g.poses[lv]
        _hx, hy, hz = pose.half
        zc = -hz - FLAVUM_LEVEL_MM * s  # the interlaminar level, in the upper arch's frame
        y_sac, y_canal = hy + _CANAL_Y_MM[1] * s, hy + _CANAL_Y_MM[2] * s
        y_tip = y_canal + SPINOUS_TIP_MM * s  # the spinous tips' back at the level (supraspinous ligament)
        if lv is Level.L5:
            y_tip -= 5.0 * s
        h = INTERSPINOUS_HALF_HEIGHT_MM * s + 1.0
        local = np.array([(x, yy, zz) for x in (-12.0 * s, 12.0 * s)
                          for yy in (y_sac - EPIDURAL_PAD_MM * s - 1.0, y_tip + SUPRASPINOUS_MM + 4.0 * s)
                          for zz in (zc - h, zc + h)])
        boxed = _pose_box(pose, grid, np.array([pose.to_lps(c) for c in local]))
        if boxed is None:
            continue
        box, q = boxed  # q: local (x, y', z')
        qx, qy, qz = (np.abs(q[0]), q[1], q[2] - zc)
        t = np.clip(1.0 - np.abs(qz) / (FLAVUM_HALF_HEIGHT_MM * s), 0.0, 1.0)  # 1 mid-level .. 0 at the laminae
        block = lab[box]
        pad = (block == T.CSF) & (qy > y_sac - EPIDURAL_PAD_MM * s * t) & (qx < 5.0 * s * np.sqrt(t)) & (t > 0)
        block[pad] = T.EPIDURAL_FAT
        soft_here = np.isin(block, soft) | (block == T.EPIDURAL_FAT)
        flavum = (qy > y_canal - 0.5) & (qy < y_canal + FLAVUM_THICK_MM * s) & (qx < 11.0 * s) & (t > 0.05)
        block[flavum & soft_here] = T.LIGAMENT
        # between the spinous processes: fat with the interspinous ligament as oblique strands
        # (fibres running back and up) near the mid-line, and the supraspinous ligament as a
        # thin dark band over the tips (a solid 4 mm ligament read as a dark block between them)
        between = (qy >= y_canal + FLAVUM_THICK_MM * s) & (np.abs(qz) < INTERSPINOUS_HALF_HEIGHT_MM * s)
        back_soft = np.isin(block, (T.MUSCLE, T.MUSCLE_FATTY, T.FAT))
        block[between & (qy < y_tip) & (qx < INTERSPINOUS_FAT_HALF_MM) & back_soft] = T.FAT
        # the strands wander (two slow sines of the position; faster ones drew a lattice)
        u = (qy - qz) / np.sqrt(2.0) + 0.8 * np.sin(0.3 * qy + 1.9 * levels.index(lv)) + 0.5 * np.sin(0.45 * qz + 0.2 * qy)
        broken = np.sin(0.5 * qy + 0.8 * qz + levels.index(lv)) + np.sin(0.9 * qy - 0.3 * qz) > -0.3
        strand = (np.mod(u / INTERSPINOUS_STRAND_MM, 1.0) < INTERSPINOUS_STRAND_DUTY) & broken
        inter = between & (qy < y_tip) & (qx < INTERSPINOUS_HALF_MM) & strand & (np.abs(qz) < 10.0 * s)
        block[inter & back_soft] = T.LIGAMENT
        # the tips' back: further back below the level (the lower tip, in this arch's frame)
        tip_line = y_tip - SPINOUS_TIP_SLOPE * qz
        supra = between & (qy >= tip_line) & (qy < tip_line + SUPRASPINOUS_MM) & (qx < 3.0 * s)
        if lv is Level.L5:  # no spinous process on S1: the ligament ends at L5's tip
            supra &= qz > -3.0
        block[supra & back_soft] = T.LIGAMENT
    for lv in levels:
        _exiting_roots(g.poses[lv], s, lab, grid, soft)


def _pose_box(pose, grid: Grid, corners_lps: np.ndarray) -> tuple[tuple[slice, slice, slice], np.ndarray] | None:
    """The grid's index box round ``corners_lps`` (None: outside the grid) and the pose's local
    coordinates (3, k, a, b) of its voxels."""
    box = grid.index_box(corners_lps)
    if box is None:
        return None
    k0, k1, a0, a1, b0, b1 = box
    x, y = grid.xy(np.arange(a0, a1, dtype=np.float64), np.arange(b0, b1, dtype=np.float64))
    z = np.asarray(grid.z[k0:k1], dtype=np.float64)[:, None, None]
    d = np.stack(np.broadcast_arrays(x[None] - pose.origin[0], y[None] - pose.origin[1], z - pose.origin[2]))
    return (slice(k0, k1), slice(a0, a1), slice(b0, b1)), np.einsum("i...,ij->j...", d, pose.axes)


ROOT_PATH_MM = ((13.0, 5.0, -5.0), (30.0, -4.0, -20.0))  # (|x|, y' - hy, z') of the root's ends
ROOT_RADIUS_MM = 2.3  # the root with its ganglion
ROOT_FAT_MM = 5.0  # the foraminal fat round it


def _exiting_roots(pose, s: float, lab: np.ndarray, grid: Grid, soft: np.ndarray) -> None:
    """The exiting nerve root of a level: from the lateral recess under the pedicle, through the
    foramen and out laterally, down and forwards, in a sleeve of foraminal fat (painted into soft
    tissue only: bone, disc and canal keep their labels)."""
    _hx, hy, _hz = pose.half
    for sx in (1.0, -1.0):
        a = np.array([sx * ROOT_PATH_MM[0][0] * s, hy + ROOT_PATH_MM[0][1] * s, ROOT_PATH_MM[0][2] * s])
        b = np.array([sx * ROOT_PATH_MM[1][0] * s, hy + ROOT_PATH_MM[1][1] * s, ROOT_PATH_MM[1][2] * s])
        r = ROOT_FAT_MM + 1.0
        corners = np.array([pose.to_lps(p + np.array(o)) for p in (a, b)
                            for o in itertools.product((-r, r), repeat=3)])
        boxed = _pose_box(pose, grid, corners)
        if boxed is None:
            continue
        box, q = boxed
        ab = b - a
        t = np.clip(np.einsum("i...,i->...", q - a[:, None, None, None], ab) / float(ab @ ab), 0.0, 1.0)
        axis_pt = a[:, None, None, None] + ab[:, None, None, None] * t
        dist = np.linalg.norm(q - axis_pt, axis=0)
        # the fat: centred below and behind the root (the root runs in the upper foramen, under
        # the pedicle), widest in the foramen and thinning laterally, its outline irregular; a
        # concentric sleeve drew a uniform ring (a "donut") round every root on axial CT
        off = q - (axis_pt + np.array([0.0, 1.2, -1.8])[:, None, None, None] * s)
        dfat = np.linalg.norm(off, axis=0)
        ang = np.arctan2(off[2], off[1])
        r_fat = ROOT_FAT_MM * s * (1.1 - 0.55 * t) * (1.0 + 0.18 * np.sin(3 * ang + 2.0 * sx + 5.0 * t)
                                                       + 0.12 * np.sin(5 * ang - 7.0 * t))
        r_root = ROOT_RADIUS_MM * s * (1.0 - 0.35 * t)  # the ganglion in the foramen, the nerve beyond
        block = lab[box]
        here = np.isin(block, soft)
        block[here & (dfat < r_fat)] = T.FAT
        block[here & (dist < r_root)] = T.NERVE


class _PlaneCache:
    """What does not change from one plane of a grid to the next: the x, y of its points, the
    wave patterns' x-y parts and the per-(spine offset, psoas) masks. Kept for the last grid
    geometry, so the CT's chunks (same plane, other heights) share it (measured: the masks and
    patterns were ~40 % of the CT's soft-tissue time when made per chunk)."""

    def __init__(self, case: CaseSpec, grid: Grid) -> None:
        x, y = grid.xy(np.arange(grid.n0, dtype=np.float64), np.arange(grid.n1, dtype=np.float64))
        self.case = case
        self.x = x.astype(np.float32)
        self.y = y.astype(np.float32)
        self.bowel = _Waves(_WAVES_BOWEL, self.x, self.y)
        self.streak = _Waves(_WAVES_STREAK, self.x, self.y)
        self.mottle = _Waves(_WAVES_MOTTLE, self.x, self.y)
        self.masks: dict[tuple[float, int], tuple[np.ndarray, np.ndarray, tuple[int, int, int, int], np.ndarray,
                                                  np.ndarray]] = {}
        self.in_viscera: dict[float, np.ndarray] = {}
        self.psoas_box: dict[tuple[float, int], list[tuple[int, int, int, int]]] = {}
        self.fascia: dict[float, np.ndarray] = {}

    def muscle(self, ys: float, pk: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int], np.ndarray,
                                                  np.ndarray]:
        """(paraspinal mask, muscle outline band, index box of the paraspinal mask, muscle to
        grow into fat, muscle to give up to fat)."""
        if (ys, pk) not in self.masks:
            para, band, grow, shrink = _muscle_masks(self.case, self.x, self.y, ys, psoas_of_key(pk))
            rows, cols = np.nonzero(para.any(axis=1))[0], np.nonzero(para.any(axis=0))[0]
            box = (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1) if rows.size else (0, 0, 0, 0)
            self.masks[(ys, pk)] = (para, band, box, grow, shrink)
        return self.masks[(ys, pk)]

    def psoas_boxes(self, ys: float, pk: int) -> list[tuple[int, int, int, int]]:
        """Index boxes of the psoas muscles (shrunk by 2 mm: no streak at the outline)."""
        key = (ys, pk)
        if key not in self.psoas_box:
            s = 1.0 if not self.case.adolescent else 0.9
            out = []
            for e in _psoas(s, ys, psoas_of_key(pk)):
                m = _inside_small(_Ellipse(e.cx, e.cy, e.ax - 2.0, e.ay - 2.0), self.x, self.y)
                rows, cols = np.nonzero(m.any(axis=1))[0], np.nonzero(m.any(axis=0))[0]
                if rows.size:
                    out.append((int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1))
            self.psoas_box[key] = out
        return self.psoas_box[key]

    def soft(self, ys: float) -> tuple[np.ndarray, np.ndarray]:
        """(inside the phantom's viscera outline, superficial fascia)."""
        if ys not in self.in_viscera:
            self.in_viscera[ys] = _soft_layout(self.case, ys).viscera.q(self.x, self.y) < 1.0
            self.fascia[ys] = _fascia_mask(self.case, self.x, self.y, ys)
        return self.in_viscera[ys], self.fascia[ys]


_PLANES: dict = {}


def _plane_cache(case: CaseSpec, grid: Grid) -> _PlaneCache:
    key = (case, grid.origin_xy, grid.step0_xy, grid.step1_xy, grid.n0, grid.n1)
    c = _PLANES.get(key)
    if c is None:
        _PLANES.clear()
        c = _PLANES[key] = _PlaneCache(case, grid)
    return c


def refine_soft_labels(case: CaseSpec, lab: np.ndarray, grid: Grid, soft_quantum_mm: float = 1.0) -> None:
    """Paint fat planes, intramuscular fat, the superficial fascia, bowel loops (app.samples.bowel)
    and the great vessels into ``lab`` (labels of ``grid``, [k, a, b], in place;
    ``soft_quantum_mm`` as given to ``label_volume``). Only soft-tissue labels change."""
    zs, ys_at = model_for(case).spine_y_at_z
    pc = _plane_cache(case, grid)
    x, y = pc.x, pc.y
    for k, z in enumerate(grid.z):
        ys = float(np.round(np.interp(z, zs, ys_at) / soft_quantum_mm)) * soft_quantum_mm
        pk = int(psoas_key(case, np.array([z]))[0])
        para, band, pbox, grow, shrink = pc.muscle(ys, pk)
        in_viscera, fascia = pc.soft(ys)
        plane = lab[k]
        soft = np.isin(plane, (T.MUSCLE, T.VISCERA, T.FAT))
        # the phantom's "viscera" also fills the gaps beside and behind the vertebra: there it
        # is paravertebral fat (beside the body) and muscle (among the posterior elements)
        visc = plane == T.VISCERA
        plane[visc & (y > ys + 8.0)] = T.MUSCLE
        # the abdominal cavity (with the radiographs' gas pockets) becomes mesenteric and
        # retroperitoneal fat with discrete bowel loops and mesenteric vessels in it
        visc = plane == T.VISCERA
        cavity = visc | ((plane == T.AIR) & in_viscera)
        plane[cavity] = T.FAT
        paint_bowel(case, plane, cavity, grid, float(z), x, y, lambda box, zz=float(z): pc.mottle.at_box(zz, box))
        # the psoas against the vertebral body (tear-drop), the kidneys' lower poles in the
        # perirenal fat, the iliacus in the iliac fossa
        _paint_ellipses(plane, x, y, _psoas_medial(case, ys, psoas_of_key(pk)), T.MUSCLE, (T.FAT,))
        _paint_ellipses(plane, x, y, _kidneys(case, ys, float(z)), T.KIDNEY, (T.FAT, T.VISCERA))
        _iliacus(plane, x, grid)
        # lobulated muscle outlines: the phantom's ellipses give up or take fat along them
        plane[shrink & (plane == T.MUSCLE)] = T.FAT
        plane[grow & (plane == T.FAT)] = T.MUSCLE
        # intramuscular fat (paraspinal muscles only: the psoas is lean): bands of fatty muscle
        # (wider in an adult: fatty infiltration of multifidus and erector spinae) with thin
        # fat streaks in them, broken lines along the fibres
        a0, a1, b0, b1 = pbox
        b = pc.bowel.at_box(float(z), pbox)
        st = np.abs(pc.streak.at_box(float(z), pbox))
        sub = plane[a0:a1, b0:b1]
        in_para = (sub == T.MUSCLE) & para[a0:a1, b0:b1]
        fatty_half = FATTY_BAND_HALF_ADULT if case.age_years >= FATTY_MIN_AGE_YEARS else FATTY_BAND_HALF_YOUNG
        sub[in_para & (st < fatty_half) & (b > -0.4)] = T.MUSCLE_FATTY
        # the streaks' width varies along them (with the 12-wave pattern: 0.4-2.2 x _STREAK_HALF,
        # ~0.3-1.8 mm): of one width they read as a drawn hatch
        width = _STREAK_HALF * np.clip(0.4 + 1.1 * (b - 0.2), 0.4, 2.2)
        sub[np.isin(sub, (T.MUSCLE, T.MUSCLE_FATTY)) & para[a0:a1, b0:b1] & (st < width) & (b > 0.2)] = T.FAT
        # the psoas is lean: a few short, thinner fat streaks between its fascicles
        for box in pc.psoas_boxes(ys, pk):
            p0, p1, q0, q1 = box
            sub = plane[p0:p1, q0:q1]
            st = np.abs(pc.streak.at_box(float(z) + 40.0, box))
            gate = pc.streak.at_box(float(z) - 60.0, box)  # the cheap 3-wave pattern, not the 12-wave one
            sub[(sub == T.MUSCLE) & (st < PSOAS_STREAK_HALF) & (gate > 0.5)] = T.FAT
        # fat planes on the visible outline of each muscle
        plane[band & soft] = T.FAT
        plane[fascia & (plane == T.FAT)] = T.FASCIA
        # great vessels in a rim of fat
        for e in _vessels(case, ys, float(z)):
            near = (np.abs(x - e.cx) < e.ax + 3.0) & (np.abs(y - e.cy) < e.ay + 3.0)
            if not near.any():
                continue
            d = e.signed_mm(x[near], y[near])
            s = soft[near]
            lab_near = plane[near]
            lab_near[(d < 2.0) & s] = T.FAT
            vein = isinstance(e, _Vessel) and e.vein
            lab_near[(d < 0.0) & s] = T.VEIN if vein else T.VESSEL
            if not vein:
                lab_near[(d < 0.0) & (d > -AORTA_WALL_MM) & s] = T.FASCIA
            plane[near] = lab_near
        _curve_back(plane, y, grid, ys, back_curve_mm(case, float(z)))
