"""Soft-tissue detail that the CT and the MR show and the radiographs do not need, painted into
a label volume after ``phantom.label_volume``, no Qt.

- fat planes (~1.2 mm) around the psoas and each paraspinal muscle (quadratus lumborum,
  erector spinae, multifidus) where it borders another tissue, and thin intramuscular fat
  streaks in the paraspinal muscles (fibres run craniocaudally, so the streaks change slowly
  along z);
- the abdominal contents as bowel loops in mesenteric fat instead of one uniform "viscera";
- the aorta (left of the midline, bifurcating at L4 into the common iliac arteries) and the
  inferior vena cava (right), each in a rim of retroperitoneal fat, as ``labels.VESSEL``.

The patterns are functions of the LPS position (sums of a few sinusoids with fixed phases), so
the CT and the MR of a case show the same loops, planes and vessels.
"""

from __future__ import annotations

import numpy as np

from app.findings.model import Level
from app.samples import labels as T
from app.samples.cases import CaseSpec
from app.samples.phantom import Grid, _Ellipse, _soft_layout, model_for

_BODY_HALF_DEPTH_MM = 16.0  # antero-posterior half depth of a lumbar body (phantom: 15-17.5 mm)
_RETRO_FAT_MM = 25.0  # depth over which the bowel gives way to retroperitoneal fat in front of the spine
FAT_PLANE_MM = 1.2  # width of the fat plane between two muscles
_STREAK_HALF = 0.055  # half-width of an intramuscular fat streak in pattern units (~0.8 mm)

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


_WAVES_BOWEL = _random_waves(18, 12, (16.0, 45.0))


class _Waves:
    """sum_i sin(kx x + ky y + kz z + phase) / n on a fixed x-y plane: the x-y parts are
    computed once, each z costs two multiply-adds per component."""

    def __init__(self, waves: tuple, x: np.ndarray, y: np.ndarray) -> None:
        self.waves = waves
        self.sin_xy = [np.sin(kx * x + ky * y).astype(np.float32) for kx, ky, _kz, _ph in waves]
        self.cos_xy = [np.cos(kx * x + ky * y).astype(np.float32) for kx, ky, _kz, _ph in waves]

    def at(self, z: float) -> np.ndarray:
        out = np.zeros_like(self.sin_xy[0])
        for (_kx, _ky, kz, ph), sn, cs in zip(self.waves, self.sin_xy, self.cos_xy, strict=True):
            c = kz * z + ph
            out += sn * np.float32(np.cos(c)) + cs * np.float32(np.sin(c))
        return out / np.float32(np.sqrt(len(self.waves) / 2))  # SD ~1


def _vessels(case: CaseSpec, ys: float, z: float) -> list[_Ellipse]:
    """Cross-sections of the aorta / iliac arteries and the IVC / iliac veins at height z."""
    g = model_for(case).geometry
    s = g.scale
    front = ys - g.poses[Level.L4].half[1] - 3.0  # just anterior to the vertebral bodies
    z_bif = float(g.poses[Level.L4].origin[2])  # aortic bifurcation at L4
    z_cav = float(g.poses[Level.L5].origin[2])  # IVC confluence at L5
    out = []
    if z >= z_bif:
        out.append(_Ellipse(12.0 * s, front - 10.0 * s, 9.0 * s, 9.0 * s))
    else:
        d = min(z_bif - z, 60.0)
        for sx in (1.0, -1.0):
            out.append(_Ellipse(sx * (6.0 + 0.45 * d) * s + 3.0, front - 8.0 * s + 0.1 * d, 5.5 * s, 5.5 * s))
    if z >= z_cav:
        out.append(_Ellipse(-17.0 * s, front - 9.0 * s, 11.0 * s, 7.5 * s))
    else:
        d = min(z_cav - z, 60.0)
        for sx in (1.0, -1.0):
            out.append(_Ellipse(sx * (9.0 + 0.5 * d) * s - 4.0, front - 5.0 * s + 0.1 * d, 7.0 * s, 5.5 * s))
    return out


def _muscle_masks(case: CaseSpec, x: np.ndarray, y: np.ndarray, ys: float) -> tuple[np.ndarray, np.ndarray]:
    """(inside a paraspinal muscle, on the visible outline of a muscle) for spine offset ``ys``."""
    lay = _soft_layout(case, ys)
    muscles = lay.psoas + lay.paraspinal
    para = np.zeros(x.shape, dtype=bool)
    for e in lay.paraspinal:
        para |= e.q(x, y) <= 1.0
    band = np.zeros(x.shape, dtype=bool)
    d = [e.signed_mm(x, y) for e in muscles]
    for i in range(len(muscles)):
        b = np.abs(d[i]) < FAT_PLANE_MM / 2
        for later in d[i + 1:]:
            b &= later > -FAT_PLANE_MM / 2
        band |= b
    return para, band


def refine_soft_labels(case: CaseSpec, lab: np.ndarray, grid: Grid, soft_quantum_mm: float = 1.0) -> None:
    """Paint fat planes, intramuscular fat, bowel loops and the great vessels into ``lab``
    (labels of ``grid``, [k, a, b], in place; ``soft_quantum_mm`` as given to
    ``label_volume``). Only soft-tissue labels change."""
    zs, ys_at = model_for(case).spine_y_at_z
    x, y = grid.xy(np.arange(grid.n0, dtype=np.float64), np.arange(grid.n1, dtype=np.float64))
    x = x.astype(np.float32)
    y = y.astype(np.float32)
    bowel, streak = _Waves(_WAVES_BOWEL, x, y), _Waves(_WAVES_STREAK, x, y)
    masks: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for k, z in enumerate(grid.z):
        ys = float(np.round(np.interp(z, zs, ys_at) / soft_quantum_mm)) * soft_quantum_mm
        if ys not in masks:
            masks[ys] = _muscle_masks(case, x, y, ys)
        para, band = masks[ys]
        plane = lab[k]
        soft = np.isin(plane, (T.MUSCLE, T.VISCERA, T.FAT))
        # the phantom's "viscera" also fills the gaps beside and behind the vertebra: there it
        # is paravertebral fat (beside the body) and muscle (among the posterior elements)
        visc = plane == T.VISCERA
        front = ys - _BODY_HALF_DEPTH_MM
        plane[visc & (y > ys + 8.0)] = T.MUSCLE
        # bowel loops (solid) in mesenteric fat: fat along the contours between the loops, more
        # of it towards the spine (retroperitoneal fat), all fat beside and in front of the body
        visc = plane == T.VISCERA
        b = bowel.at(float(z))
        toward_spine = np.clip((y - (front - _RETRO_FAT_MM)) / _RETRO_FAT_MM, 0.0, 1.0)
        plane[visc & (np.abs(b) < 0.12 + 1.5 * toward_spine ** 2)] = T.FAT
        # intramuscular fat streaks (paraspinal muscles only: the psoas is lean)
        st = streak.at(float(z))
        plane[(plane == T.MUSCLE) & para & (np.abs(st) < _STREAK_HALF) & (b > 0.2)] = T.FAT  # broken lines
        # fat planes on the visible outline of each muscle
        plane[band & soft] = T.FAT
        # great vessels in a rim of fat
        for e in _vessels(case, ys, float(z)):
            near = (np.abs(x - e.cx) < e.ax + 3.0) & (np.abs(y - e.cy) < e.ay + 3.0)
            if not near.any():
                continue
            d = e.signed_mm(x[near], y[near])
            s = soft[near]
            lab_near = plane[near]
            lab_near[(d < 2.0) & s] = T.FAT
            lab_near[(d < 0.0) & s] = T.VESSEL
            plane[near] = lab_near
