"""The modality rescale (slope, intercept) of a whole volume, keeping integer types where the
values fit; and the same step done slice by slice while the slices are read (cache-hot, in the
reading threads), so the common CT case needs no further pass over the volume."""

from __future__ import annotations

import math

import numpy as np

_INT16 = np.dtype(np.int16)
_IN_PLACE = (np.dtype(np.int16), np.dtype(np.uint16))


def _int16_shift(slope: float, intercept: float) -> int | None:
    if slope == 1 and math.isfinite(intercept) and intercept == int(intercept):
        return int(intercept)
    return None


def rescale_slice_in_place(frame: np.ndarray, slope: float, intercept: float) -> tuple[float, bool]:
    """(lowest stored value, done) for one slice just read. For 16-bit stored values, slope 1
    and a whole intercept whose result fits int16, the slice is rewritten in place as int16
    (the bytes of ``frame`` then hold int16 values) and done is True: int16 is the first type
    :func:`rescale_volume` chooses, so when every slice is done the volume is final."""
    if not frame.size:
        return 0.0, False
    lo, hi = float(frame.min()), float(frame.max())
    shift = _int16_shift(slope, intercept)
    if frame.dtype not in _IN_PLACE or shift is None or lo + shift < -32768 or hi + shift > 32767:
        return lo, False
    if shift:
        as_int16 = frame.view(_INT16)
        np.add(as_int16, np.int16(shift), out=as_int16, casting="unsafe")
    return lo, True


def finish_rescale(stored: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray, done: np.ndarray) -> np.ndarray:
    """The rescaled volume from slices read with :func:`rescale_slice_in_place` (``done`` per
    slice): the int16 view when every slice is done, else the done slices are put back to their
    stored values (exact: the shift is undone in the same 16 bits) and :func:`rescale_volume`
    runs as it would have without the in-place step."""
    if np.all(slopes == 1) and np.all(intercepts == 0):
        return rescale_volume(stored, slopes, intercepts)  # nothing was changed
    if stored.dtype in _IN_PLACE and bool(np.all(done)):
        return stored.view(_INT16)
    for k in np.nonzero(done)[0]:
        shift = _int16_shift(float(slopes[k]), float(intercepts[k]))
        if shift:
            as_int16 = stored[k].view(_INT16)
            np.subtract(as_int16, np.int16(shift), out=as_int16, casting="unsafe")
    return rescale_volume(stored, slopes, intercepts)


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
