"""Render a case's phantom as an axial CT over L3-S1 (int16 HU, bone kernel noise), no Qt."""

from __future__ import annotations

import math

import numpy as np

from app.findings.model import Level
from app.samples import labels as T
from app.samples.cases import CaseSpec
from app.samples.phantom import Grid, _soft_layout, label_volume, model_for
from app.samples.render_common import VolumeGeometry, blur3, box1d, case_rng, open_internal_cortex, smooth_noise
from app.samples.soft_detail import paint_posterior_canal, refine_soft_labels
from app.samples.texture import trabecular_factor

CT_MATRIX = 320  # columns (patient x)
CT_PIXEL_MM = 0.55  # targeted field of view: 176 x 158 mm
CT_SLICE_MM = 1.0
CT_ROWS = 288  # anterior-posterior
CT_NOISE_HU = 30.0  # soft-tissue noise SD of a bone (sharp) kernel
# relative density swing of cancellous bone between trabeculae and marrow spaces: at 0.25 (the
# radiographs' value) the texture was ~+/-60 HU, invisible under 30 HU noise in a 2000 HU bone
# window; at 0.8 the struts reach ~400 HU and the marrow spaces ~70 HU (adult). The factor's
# mean is not 1 (measured 1.30 at depth 0.8), so it is divided by its mean over the lattice: the
# mean CT number of cancellous bone stays the table's value.
CT_TRABECULAR_DEPTH = 0.8
_TRAB_MEAN = float(trabecular_factor(*np.random.default_rng(0).uniform(-128.0, 128.0, (3, 100_000)),
                                     depth=CT_TRABECULAR_DEPTH).mean())
# the body outline follows the spine in steps of this (phantom default 1 mm: a visible staircase
# on sagittal reformats of the skin and muscle outlines)
CT_SOFT_QUANTUM_MM = 0.5
_CT_SUB = 2  # samples per pixel along each axis (partial volume at cortical edges)


def ct_extent_z(case: CaseSpec) -> tuple[float, float]:
    """Top and bottom z (mm) of the CT: L3 superior endplate to the S2 segment."""
    g = model_for(case).geometry
    l3 = g.poses[Level.L3]
    top = l3.origin[2] + l3.half[2] + 4.0
    s1 = g.poses[Level.S1]
    bottom = s1.origin[2] - s1.half[2] - 6.0
    return float(top), float(bottom)


def _ct_noise(case: CaseSpec, shape: tuple[int, ...]) -> np.ndarray:
    """Noise of a sharp (bone) reconstruction kernel, scaled to CT_NOISE_HU: band-pass, not
    white. White noise smoothed over about a pixel (the kernel's cut-off) minus most of its
    own low frequencies (the ramp filter takes them down), so the grain is ~1-1.5 mm and the
    noise power peaks at mid frequencies as in a measured bone-kernel NPS; a slight correlation
    between neighbouring 1 mm slices (the reconstruction's slice profile)."""
    n: np.ndarray = case_rng(case, 1).standard_normal(size=shape).astype(np.float32)
    n = blur3(blur3(n, 1, 0.22), 2, 0.22)
    low = n
    for axis in (1, 2):
        for _ in range(2):
            low = box1d(low, 5, axis)
    n = n - np.float32(0.85) * low
    n = blur3(n, 0, 0.15)
    return n * np.float32(CT_NOISE_HU / float(n.std()))


CT_MUSCLE_TEXTURE_HU = 9.0  # SD of the density variation between muscle fascicles


def _muscle_texture(case: CaseSpec, shape: tuple[int, int, int]) -> np.ndarray:
    """Muscle is not uniform: fascicles and thin fibro-fatty septa vary its density by a few
    HU over ~2-4 mm, long along the fibres (craniocaudal). Zero-mean field, SD
    CT_MUSCLE_TEXTURE_HU; made on a grid of half the in-plane resolution and repeated."""
    n, r, c = shape
    f = smooth_noise(case_rng(case, 2), (n, (r + 1) // 2, (c + 1) // 2), (5, 3, 3), passes=2)
    f = np.repeat(np.repeat(f, 2, axis=1), 2, axis=2)[:, :r, :c]
    return ((f - f.mean()) * np.float32(CT_MUSCLE_TEXTURE_HU / max(float(f.std()), 1e-6))).astype(np.float32)


# CT table under the patient (carbon-fibre shells round a foam core), curved up at the sides
CT_TABLE_GAP_MM = 2.0  # between the back at its most posterior and the table top
CT_TABLE_SHELL_MM = 1.5
CT_TABLE_CORE_MM = 28.0
CT_TABLE_SHELL_HU = 350.0
CT_TABLE_CORE_HU = -930.0
_CT_TABLE_RISE = 6.0 / 88.0 ** 2  # 6 mm higher at 88 mm from the midline


def _table_hu(case: CaseSpec, x: np.ndarray, y: np.ndarray, z_range: tuple[float, float]) -> np.ndarray:
    """HU of the CT table (air elsewhere) at points x, y (LPS mm): flat along z, its top just
    behind the most posterior point of the patient's back over ``z_range``."""
    zs, ys_at = model_for(case).spine_y_at_z
    zz = np.linspace(z_range[1], z_range[0], 32)
    back_y = max(b.cy + b.ay for b in (_soft_layout(case, float(v)).body for v in np.interp(zz, zs, ys_at)))
    top = back_y + CT_TABLE_GAP_MM - _CT_TABLE_RISE * x ** 2  # y of the top surface
    depth = y - top
    hu = np.full(np.broadcast(x, y).shape, -1000.0, dtype=np.float32)
    outer = CT_TABLE_CORE_MM + 2 * CT_TABLE_SHELL_MM
    hu[(depth >= 0) & (depth < outer)] = CT_TABLE_SHELL_HU
    hu[(depth >= CT_TABLE_SHELL_MM) & (depth < outer - CT_TABLE_SHELL_MM)] = CT_TABLE_CORE_HU
    return hu


def render_ct(case: CaseSpec) -> tuple[np.ndarray, VolumeGeometry]:
    """Axial CT over L3-S1: int16 HU array [k, j, i] (k = slice, superior first) and its geometry.

    Each voxel averages 2 x 2 x 2 samples of the phantom (partial volume at cortical edges)
    with the soft-tissue detail of app.samples.soft_detail (fat planes between the muscles,
    the superficial fascia, discrete bowel loops in mesenteric fat, aorta and IVC) and the CT
    table under the patient; cancellous bone carries the trabecular texture and muscle a faint
    fascicle texture; then a slight reconstruction blur and the band-pass noise of a bone kernel."""
    g = model_for(case).geometry
    top, bottom = ct_extent_z(case)
    n_slices = int(math.floor((top - bottom) / CT_SLICE_MM)) + 1
    zc = top - CT_SLICE_MM * np.arange(n_slices)
    cy = float(np.mean([g.poses[lv].origin[1] + g.poses[lv].half[1] for lv in (Level.L3, Level.L4, Level.L5, Level.S1)])) + 8.0
    x0 = -(CT_MATRIX - 1) / 2 * CT_PIXEL_MM
    y0 = cy - (CT_ROWS - 1) / 2 * CT_PIXEL_MM
    f = _CT_SUB
    sub = (np.arange(f) - (f - 1) / 2) / f
    zs = (zc[:, None] + sub[None, :] * CT_SLICE_MM).ravel()
    step = CT_PIXEL_MM / f
    xs0, ys0 = x0 + sub[0] * CT_PIXEL_MM, y0 + sub[0] * CT_PIXEL_MM
    n0, n1 = CT_ROWS * f, CT_MATRIX * f
    hu_table = T.ct_hu_table(case.adolescent)
    hu = np.empty((n_slices, CT_ROWS, CT_MATRIX), dtype=np.float32)
    muscle = np.empty_like(hu)  # fraction of each voxel that is muscle
    yy = ys0 + step * np.arange(n0)
    xx = xs0 + step * np.arange(n1)
    table = _table_hu(case, xx[None, :], yy[:, None], (float(zc[-1]), float(zc[0])))
    chunk = 8
    for s0 in range(0, n_slices, chunk):
        s1_ = min(n_slices, s0 + chunk)
        zsub = zs[f * s0:f * s1_]
        grid = Grid((xs0, ys0), (0.0, step), (step, 0.0), n0, n1, tuple(float(z) for z in zsub))
        lab = label_volume(case, grid, soft_quantum_mm=CT_SOFT_QUANTUM_MM)
        refine_soft_labels(case, lab, grid, soft_quantum_mm=CT_SOFT_QUANTUM_MM)
        paint_posterior_canal(case, lab, grid)
        open_internal_cortex(lab, axis=1, step_mm=step)
        h = hu_table[lab]
        h = np.where(lab == T.AIR, table[None], h)
        k, a, b = np.nonzero(lab == T.CANCELLOUS)
        if k.size:
            h[k, a, b] *= trabecular_factor(xx[b], yy[a], zsub[k], depth=CT_TRABECULAR_DEPTH) / _TRAB_MEAN
        hu[s0:s1_] = h.reshape(s1_ - s0, f, CT_ROWS, f, CT_MATRIX, f).mean(axis=(1, 3, 5))
        muscle[s0:s1_] = (lab == T.MUSCLE).reshape(s1_ - s0, f, CT_ROWS, f, CT_MATRIX, f).mean(axis=(1, 3, 5))
    hu += muscle * _muscle_texture(case, hu.shape)
    hu = blur3(blur3(hu, 1, 0.12), 2, 0.12)  # reconstruction point-spread
    hu = np.clip(np.rint(hu + _ct_noise(case, hu.shape)), -1024, 3071).astype(np.int16)
    geo = VolumeGeometry(
        row_cosine=(1.0, 0.0, 0.0), col_cosine=(0.0, 1.0, 0.0),
        positions=tuple((float(x0), float(y0), float(z)) for z in zc),
        pixel_spacing=(CT_PIXEL_MM, CT_PIXEL_MM), slice_thickness=CT_SLICE_MM, slice_spacing=CT_SLICE_MM)
    return hu, geo

