"""Render a case's phantom as sagittal MR (T1, T2, STIR) with graded marrow oedema and Rician noise, no Qt."""

from __future__ import annotations

import numpy as np

from app.findings.model import Level
from app.samples import labels as T
from app.samples.cases import CaseSpec
from app.samples.phantom import Grid, label_volume, model_for
from app.samples.render_common import VolumeGeometry, blur3, case_rng

MR_MATRIX = 256
MR_PIXEL_MM = 0.9
MR_SLICES = 15
MR_SLICE_MM = 3.5
MR_SCALE = 0.4  # stored signal units per table unit


def mr_field(case: CaseSpec) -> tuple[float, float]:
    """(centre z, centre y) of the sagittal MR field of view."""
    g = model_for(case).geometry
    zc = (g.poses[Level.L1].origin[2] + g.poses[Level.S1].origin[2]) / 2 - 12.0
    yc = float(np.mean([g.poses[lv].origin[1] for lv in g.poses])) + 22.0
    return float(zc), yc


def render_mr_labels(case: CaseSpec) -> tuple[np.ndarray, VolumeGeometry]:
    """Oversampled labels for the sagittal MR: [z (2x rows), x (4 per slice), y (2x columns)]."""
    zc, yc = mr_field(case)
    n = MR_MATRIX * 2
    step = MR_PIXEL_MM / 2
    top = zc + (n - 1) / 2 * step
    zs = tuple(float(top - step * r) for r in range(n))
    x_centres = (np.arange(MR_SLICES) - (MR_SLICES - 1) / 2) * MR_SLICE_MM
    sub = (np.arange(4) - 1.5) * (MR_SLICE_MM / 4)
    xs = (x_centres[:, None] + sub[None, :]).ravel()
    y0 = yc - (n - 1) / 2 * step
    grid = Grid((float(xs[0]), y0), (MR_SLICE_MM / 4, 0.0), (0.0, step), len(xs), n, zs)
    lab = label_volume(case, grid, soft_quantum_mm=0.25)
    y_first = yc - (MR_MATRIX - 1) / 2 * MR_PIXEL_MM
    z_first = zc + (MR_MATRIX - 1) / 2 * MR_PIXEL_MM
    geo = VolumeGeometry(
        row_cosine=(0.0, 1.0, 0.0), col_cosine=(0.0, 0.0, -1.0),
        positions=tuple((float(x), float(y_first), float(z_first)) for x in x_centres),
        pixel_spacing=(MR_PIXEL_MM, MR_PIXEL_MM), slice_thickness=MR_SLICE_MM, slice_spacing=MR_SLICE_MM)
    return lab, geo


def render_mr(case: CaseSpec, sequence: str, lab: np.ndarray) -> np.ndarray:
    """uint16 signal [k, j, i] for "T1", "T2" or "STIR" from ``render_mr_labels``."""
    table = T.mr_signal_table(sequence, case.adolescent)
    sig = table[lab]  # [z, x, y]
    frac = edema_fraction(lab)
    if frac is not None:
        box, e = frac
        sig[box] += (table[T.EDEMA] - sig[box]) * e
    nz, nx, ny = sig.shape
    sig = sig.reshape(nz // 2, 2, nx // 4, 4, ny // 2, 2).mean(axis=(1, 3, 5))  # [row, slice, col]
    sig = np.transpose(sig, (1, 0, 2))  # [slice, row, col]
    sig = blur3(blur3(sig, 1, 0.15), 2, 0.15)
    # smooth coil-sensitivity shading: brighter posteriorly (spine coil under the back)
    cols = np.arange(ny // 2, dtype=np.float32)
    shade = 0.75 + 0.35 * (cols / cols[-1])
    sig = sig * shade[None, None, :]
    rng = case_rng(case, 10 + ("T1", "T2", "STIR").index(sequence))
    sig = sig * MR_SCALE
    sigma = 5.0
    n1 = rng.normal(0.0, sigma, size=sig.shape)
    n2 = rng.normal(0.0, sigma, size=sig.shape)
    mag = np.sqrt((sig + n1) ** 2 + n2 ** 2)  # Rician magnitude noise
    return np.clip(np.rint(mag), 0, 4095).astype(np.uint16)


def _box1d(a: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Moving average of odd ``size`` along ``axis`` (cumulative sums, edge replication)."""
    r = size // 2
    pad = [(0, 0)] * a.ndim
    pad[axis] = (r + 1, r)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float64)
    n = a.shape[axis]
    hi = tuple(slice(size, size + n) if d == axis else slice(None) for d in range(a.ndim))
    lo = tuple(slice(0, n) if d == axis else slice(None) for d in range(a.ndim))
    return ((c[hi] - c[lo]) / size).astype(np.float32)


MR_EDEMA_FALLOFF_MM = 3.5  # about the Gaussian sigma of the edge of marrow oedema


def edema_fraction(lab: np.ndarray) -> tuple[tuple[slice, ...], np.ndarray] | None:
    """Oedema as it looks: graded and ill-defined. The oedema labels of the oversampled MR grid
    ([z, x, y] at MR_PIXEL_MM / 2, MR_SLICE_MM / 4, MR_PIXEL_MM / 2) are smoothed (three box
    passes, ~MR_EDEMA_FALLOFF_MM) and the result, restricted to marrow, is the fraction of
    oedema signal mixed into each sample: full in the core, fading into normal marrow.
    Returns (the box it covers, the fraction there), or None without oedema."""
    e = lab == T.EDEMA
    if not e.any():
        return None
    idx = np.nonzero(e)
    steps = (MR_PIXEL_MM / 2, MR_SLICE_MM / 4, MR_PIXEL_MM / 2)
    sizes = [max(3, int(round(MR_EDEMA_FALLOFF_MM * 1.2 / st)) | 1) for st in steps]
    box = tuple(slice(max(int(i.min()) - 2 * sz, 0), min(int(i.max()) + 2 * sz + 1, n))
                for i, sz, n in zip(idx, sizes, lab.shape, strict=True))
    f = e[box].astype(np.float32)
    for axis, sz in enumerate(sizes):
        for _ in range(3):
            f = _box1d(f, sz, axis)
    # patchy: a smooth random field (seeded by the oedema's own shape) modulates the fraction
    rng = np.random.default_rng(int(e.sum()))
    mottle = rng.random(f.shape, dtype=np.float32)
    for axis, sz in enumerate(sizes):
        mottle = _box1d(_box1d(mottle, sz, axis), sz, axis)
    mottle = (mottle - mottle.min()) / max(float(np.ptp(mottle)), 1e-6)
    marrow = np.isin(lab[box], (T.CANCELLOUS, T.EDEMA))
    frac = np.clip(1.5 * f, 0.0, 1.0) * (0.65 + 0.35 * mottle)
    return box, np.where(marrow, frac, 0.0).astype(np.float32)

