"""The modality rescale (slope, intercept) of a whole volume, keeping integer types where the
values fit; and the same step done slice by slice while the slices are read (cache-hot, in the
reading threads), so the common CT case needs no further pass over the volume."""

from __future__ import annotations

import math

import numpy as np

_INT16 = np.dtype(np.int16)


def rescale_slice_in_place(frame: np.ndarray, slope: float, intercept: float) -> tuple[float, float, bool]:
    """(min, max) of the stored values of one slice and whether the slice now holds its final
    values: True when nothing is to be done (slope 1, intercept 0) or when an int16 slice with
    slope 1 and a whole intercept stays within int16 (the intercept is then added in place,
    exactly what :func:`rescale_volume` would produce, since int16 is its first choice).
    Otherwise the slice is left as stored for :func:`rescale_volume`."""
    lo, hi = (float(frame.min()), float(frame.max())) if frame.size else (0.0, 0.0)
    if slope == 1 and intercept == 0:
        return lo, hi, True
    if (frame.dtype == _INT16 and slope == 1 and math.isfinite(intercept) and intercept == int(intercept)
            and lo + intercept >= -32768 and hi + intercept <= 32767):
        np.add(frame, np.int16(int(intercept)), out=frame)
        return lo, hi, True
    return lo, hi, False


def _output_dtype(lo: float, hi: float) -> np.dtype:
    for dt in (np.int16, np.uint16, np.int32):
        info = np.iinfo(dt)
        if lo >= info.min and hi <= info.max:
            return np.dtype(dt)
    return np.dtype(np.float32)


def rescale_volume(stored: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
    """Apply per-slice modality rescale, keeping integer types where the values fit."""
    if stored.dtype.kind == "f":
        out = stored.astype(np.float32, copy=False)
        for k in range(out.shape[0]):
            if slopes[k] != 1 or intercepts[k] != 0:
                out[k] *= np.float32(slopes[k])
                out[k] += np.float32(intercepts[k])
        return out
    if np.all(slopes == 1) and np.all(intercepts == 0):
        if stored.dtype in (np.dtype(np.uint32),):
            hi = int(stored.max()) if stored.size else 0
            if hi <= np.iinfo(np.int32).max:
                return stored.view(np.int32)
        return stored
    integral = np.all(slopes == np.rint(slopes)) and np.all(intercepts == np.rint(intercepts))
    if not integral:
        out = np.empty(stored.shape, dtype=np.float32)
        for k in range(stored.shape[0]):
            np.multiply(stored[k], np.float32(slopes[k]), out=out[k], dtype=np.float32)
            out[k] += np.float32(intercepts[k])
        return out
    mins = stored.min(axis=(1, 2)).astype(np.float64)
    maxs = stored.max(axis=(1, 2)).astype(np.float64)
    a = mins * slopes + intercepts
    b = maxs * slopes + intercepts
    dt = _output_dtype(float(np.minimum(a, b).min()), float(np.maximum(a, b).max()))
    if dt.kind == "f":
        out = np.empty(stored.shape, dtype=np.float32)
        for k in range(stored.shape[0]):
            out[k] = stored[k].astype(np.float64) * slopes[k] + intercepts[k]
        return out
    if dt.itemsize == stored.dtype.itemsize:
        out = stored.view(dt)
        if dt == stored.dtype and np.all(slopes == 1):
            for k in range(stored.shape[0]):
                if intercepts[k] != 0:
                    np.add(stored[k], dt.type(intercepts[k]), out=out[k])
            return out
        for k in range(stored.shape[0]):
            tmp = stored[k].astype(np.int64) * int(slopes[k]) + int(intercepts[k])
            out[k] = tmp.astype(dt)
        return out
    out = np.empty(stored.shape, dtype=dt)
    for k in range(stored.shape[0]):
        out[k] = (stored[k].astype(np.int64) * int(slopes[k]) + int(intercepts[k])).astype(dt)
    return out
