"""Variable slice spacing: resample a stack whose slices are not equally spaced onto a regular
grid along the slice axis, so MPR and measurements see true distances.

Each output slice at distance ``t`` along the k axis is the linear interpolation of the two
acquired slices around it (exact when it coincides with one). Across a gap wider than
``MAX_INTERPOLATED_GAP`` grid steps nothing is invented: the nearest acquired slice is used
within half a step of it, else the slice is left blank (filled with the minimum value)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.dicom.median import median
from app.dicom.memory_guard import ensure_allocatable

MAX_INTERPOLATED_GAP = 3.0
MAX_GROWTH = 4  # resampled slices at most this many times the acquired ones (+4)


@dataclass
class Resampled:
    array: np.ndarray  # [k, j, i] on the regular grid
    step_mm: float
    source_of_k: list[int | None]  # acquired slice shown at each k when it coincides, else None
    blank_k: int  # slices left blank across wide gaps


def regular_step_mm(t_mm: np.ndarray) -> float:
    """Grid step: the median distance between neighbouring acquired slices."""
    return median(np.diff(t_mm))


def is_irregular(t_mm: np.ndarray, k_index: list[int], step_mm: float) -> bool:
    """True when slices at ``t_mm`` are farther from their grid places ``k_index * step`` than
    1% of a step (0.01 mm at least)."""
    grid = t_mm[0] + np.asarray(k_index, dtype=np.float64) * step_mm
    return float(np.max(np.abs(t_mm - grid))) > max(0.01, 0.01 * step_mm)


def has_spacing_runs(t_mm: np.ndarray) -> bool:
    """True when two neighbouring steps are both wider than 1.5x the median and equal: a run of
    a second spacing (variable-spacing acquisition), not an isolated missing slice."""
    diffs = np.diff(t_mm)
    if len(diffs) < 3:
        return False
    med = median(diffs)
    wide = diffs > 1.5 * med
    same = np.abs(diffs[1:] - diffs[:-1]) <= 0.05 * diffs[1:]
    return bool(np.any(wide[1:] & wide[:-1] & same))


def resample_slices(array: np.ndarray, t_mm: np.ndarray) -> Resampled | None:
    """``array`` [n, j, i] of acquired slices at increasing distances ``t_mm`` (n,) along the k
    axis -> a regular grid from t[0] to t[-1]. None when the grid would be unreasonably large
    (positions too irregular)."""
    n = len(t_mm)
    step = regular_step_mm(t_mm)
    if n < 2 or step <= 0:
        return None
    total = float(t_mm[-1] - t_mm[0])
    n_out = int(round(total / step)) + 1
    if n_out > MAX_GROWTH * n + 4:
        return None
    step = total / (n_out - 1)
    out_dtype = array.dtype
    ensure_allocatable(None, n_out * array[0].nbytes, f"resampling {n} slices onto {n_out}")
    out = np.empty((n_out, *array.shape[1:]), dtype=out_dtype)
    fill = array.min()
    source: list[int | None] = []
    blank = 0
    for k in range(n_out):
        t = t_mm[0] + k * step
        hi = int(np.searchsorted(t_mm, t - 1e-6))
        hi = min(max(hi, 0), n - 1)
        lo = max(hi - 1, 0)
        if abs(t_mm[hi] - t) <= 1e-3 * step:
            out[k] = array[hi]
            source.append(hi)
            continue
        if abs(t_mm[lo] - t) <= 1e-3 * step:
            out[k] = array[lo]
            source.append(lo)
            continue
        gap = float(t_mm[hi] - t_mm[lo])
        if gap > MAX_INTERPOLATED_GAP * step:
            near = lo if (t - t_mm[lo]) <= (t_mm[hi] - t) else hi
            if abs(t_mm[near] - t) <= 0.5 * step:
                out[k] = array[near]
                source.append(near)
            else:
                out[k] = fill
                source.append(None)
                blank += 1
            continue
        source.append(None)
        w = (t - t_mm[lo]) / gap
        mixed = array[lo].astype(np.float32) * np.float32(1 - w) + array[hi].astype(np.float32) * np.float32(w)
        out[k] = np.rint(mixed).astype(out_dtype) if out_dtype.kind in "iu" else mixed.astype(out_dtype)
    return Resampled(out, step, source, blank)
