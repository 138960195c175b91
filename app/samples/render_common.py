"""Shared pieces of the sample renderers (CT, MR, radiographs): separable blurs, the seeded
random streams and the DICOM geometry of a rendered slice stack. No Qt."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.samples import labels as T
from app.samples.cases import CaseSpec


def blur3(a: np.ndarray, axis: int, w: float = 0.25) -> np.ndarray:
    """[w, 1-2w, w] smoothing along ``axis`` with edge replication."""
    pad = [(0, 0)] * a.ndim
    pad[axis] = (1, 1)
    p = np.pad(a, pad, mode="edge")
    n = a.shape[axis]
    sl = lambda s: tuple(slice(s, s + n) if i == axis else slice(None) for i in range(a.ndim))  # noqa: E731
    return w * p[sl(0)] + (1 - 2 * w) * p[sl(1)] + w * p[sl(2)]


def gauss_kernel(sigma: float) -> np.ndarray:
    r = max(1, int(math.ceil(3 * sigma)))
    x = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def gauss_blur(a: np.ndarray, sigma: float, axes=(0, 1)) -> np.ndarray:
    out = a.astype(np.float64)
    k = gauss_kernel(sigma)
    r = (len(k) - 1) // 2
    for ax in axes:
        pad = [(0, 0)] * out.ndim
        pad[ax] = (r, r)
        p = np.pad(out, pad, mode="edge")
        acc = np.zeros_like(out)
        n = out.shape[ax]
        for i, w in enumerate(k):
            sl = tuple(slice(i, i + n) if d == ax else slice(None) for d in range(out.ndim))
            acc += w * p[sl]
        out = acc
    return out


def box_blur(a: np.ndarray, size: int) -> np.ndarray:
    """Moving average of odd ``size`` along both axes (cumulative sums, edge replication)."""
    r = size // 2
    out = a.astype(np.float64)
    for ax in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[ax] = (r + 1, r)
        c = np.cumsum(np.pad(out, pad, mode="edge"), axis=ax)
        n = out.shape[ax]
        hi = tuple(slice(size, size + n) if d == ax else slice(None) for d in range(2))
        lo = tuple(slice(0, n) if d == ax else slice(None) for d in range(2))
        out = (c[hi] - c[lo]) / size
    return out


def case_rng(case: CaseSpec, stream: int) -> np.random.Generator:
    return np.random.default_rng([case.seed, stream])


@dataclass(frozen=True)
class VolumeGeometry:
    """DICOM geometry of a rendered slice stack (all LPS mm)."""

    row_cosine: tuple[float, float, float]  # direction of increasing column index
    col_cosine: tuple[float, float, float]  # direction of increasing row index
    positions: tuple[tuple[float, float, float], ...]  # ImagePositionPatient per slice
    pixel_spacing: tuple[float, float]  # (row spacing, column spacing)
    slice_thickness: float
    slice_spacing: float




def box1d(a: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Moving average of odd ``size`` along ``axis`` (cumulative sums, edge replication), float32."""
    r = size // 2
    pad = [(0, 0)] * a.ndim
    pad[axis] = (r + 1, r)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float64)
    n = a.shape[axis]
    hi = tuple(slice(size, size + n) if d == axis else slice(None) for d in range(a.ndim))
    lo = tuple(slice(0, n) if d == axis else slice(None) for d in range(a.ndim))
    return ((c[hi] - c[lo]) / size).astype(np.float32)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sizes: tuple[int, ...], passes: int = 2) -> np.ndarray:
    """A smooth random field in 0..1 (min-max scaled): white noise smoothed by ``passes`` box
    filters of ``sizes`` samples per axis (a size of 1 leaves that axis unsmoothed). Anisotropic
    sizes give streaks (long along the axis with the big size)."""
    f = rng.random(shape, dtype=np.float32)
    for axis, sz in enumerate(sizes):
        if sz > 1:
            for _ in range(passes):
                f = box1d(f, sz | 1, axis)
    lo, hi = float(f.min()), float(f.max())
    return ((f - lo) / max(hi - lo, 1e-6)).astype(np.float32)


INTERNAL_CORTEX_MAX_MM = 3.2  # two abutting cortical shells (body 1.2 mm + pedicle 1.7 mm)


def open_internal_cortex(lab: np.ndarray, axis: int, step_mm: float) -> None:
    """Cortex with marrow directly in front of and behind it (along ``axis``, the patient's
    antero-posterior y; samples ``step_mm`` apart) is where two of the phantom's shapes abut,
    e.g. the body's posterior wall across the base of a pedicle. In a real vertebra the marrow
    is continuous there (and so is pedicle oedema with the body's), so such runs of cortex up
    to INTERNAL_CORTEX_MAX_MM long become marrow (oedema if either side is oedema). In place."""
    cort_any = lab == T.CORTICAL
    if not cort_any.any():
        return
    # only the box round the cortex (the bone is ~1/3 of a CT plane and of the MR's y range)
    box = []
    for ax in range(lab.ndim):
        idx = np.nonzero(cort_any.any(axis=tuple(i for i in range(lab.ndim) if i != ax)))[0]
        lo, hi = int(idx[0]), int(idx[-1]) + 1
        if ax == axis:  # the marrow on either side along y must be in the box
            lo, hi = max(lo - 1, 0), min(hi + 1, lab.shape[ax])
        box.append(slice(lo, hi))
    lab_y = np.moveaxis(lab[tuple(box)], axis, -1)  # a view: writes go to ``lab``
    n = lab_y.shape[-1]
    cort = lab_y == T.CORTICAL
    yi = np.arange(n)
    nxt = np.minimum.accumulate(np.where(cort, n - 1, yi)[..., ::-1], axis=-1)[..., ::-1]  # first non-cortex at/after
    prv = np.maximum.accumulate(np.where(cort, 0, yi), axis=-1)  # last non-cortex at/before
    run_mm = (nxt - prv - 1).astype(np.float32) * np.float32(step_mm)
    marrow = np.isin(lab_y, (T.CANCELLOUS, T.EDEMA))
    internal = (cort & np.take_along_axis(marrow, nxt, axis=-1) & np.take_along_axis(marrow, prv, axis=-1)
                & (run_mm <= INTERNAL_CORTEX_MAX_MM))
    edema = lab_y == T.EDEMA
    edema_side = np.take_along_axis(edema, nxt, axis=-1) | np.take_along_axis(edema, prv, axis=-1)
    lab_y[internal] = T.CANCELLOUS
    lab_y[internal & edema_side] = T.EDEMA
