"""Rendering to a display buffer: values -> uint8 grey through a lookup table.

``render_slice`` is the last pure step before Qt; ``app.ui.viewer`` wraps its result in a
QImage (Format_Grayscale8) without copying. Integer images go through a 65536-entry uint8
LUT indexed by the uint16 view of the pixels (one ``np.take``); float images are scaled in
float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.viewer.window_level import WindowLevel


def _linear(values: np.ndarray, wl: WindowLevel) -> np.ndarray:
    """DICOM linear VOI function to [0, 255] float32 (PS3.3 C.11.2.1.2.1)."""
    c, w = wl.center, wl.width
    out = ((values - (c - 0.5)) / (w - 1.0 if w > 1 else 1.0) + 0.5) * 255.0
    return np.clip(out, 0.0, 255.0)


@dataclass(frozen=True)
class VoiTable:
    """A DICOM VOI LUT (first mapped input value, output bits, table) in plain numpy."""

    first_mapped: int
    bits: int
    table: np.ndarray


def build_lut(dtype: np.dtype, wl: WindowLevel | None, invert: bool = False,
              voi: VoiTable | None = None) -> np.ndarray:
    """65536-entry uint8 LUT for int16/uint16 images, indexed by ``pixels.view(uint16)``."""
    dtype = np.dtype(dtype)
    idx = np.arange(65536, dtype=np.uint32)
    if dtype == np.int16:
        values = idx.astype(np.uint16).view(np.int16).astype(np.float32)
    elif dtype == np.uint16:
        values = idx.astype(np.float32)
    else:
        raise TypeError(f"LUT rendering needs int16 or uint16 pixels, got {dtype}")
    if voi is not None and wl is None:
        table = np.asarray(voi.table, dtype=np.float32)
        pos = np.clip(values - voi.first_mapped, 0, len(table) - 1).astype(np.int64)
        top = float((1 << voi.bits) - 1) if voi.bits else float(table.max() or 1.0)
        lut = np.clip(table[pos] / top * 255.0, 0, 255)
    else:
        lut = _linear(values, wl if wl is not None else WindowLevel(2048, 4096))
    lut = np.rint(lut).astype(np.uint8)
    if invert:
        lut = 255 - lut
    return lut


class LutCache:
    """Keeps the LUT for the current (dtype, window, invert, voi) so dragging rebuilds it once per
    change and scrolling never rebuilds it."""

    def __init__(self) -> None:
        self._key = None
        self._lut: np.ndarray | None = None

    def get(self, dtype, wl, invert, voi=None) -> np.ndarray:
        key = (np.dtype(dtype).str, wl, invert, id(voi) if voi is not None else None)
        if key != self._key or self._lut is None:
            self._lut = build_lut(dtype, wl, invert, voi)
            self._key = key
        return self._lut


def render_slice(pixels: np.ndarray, wl: WindowLevel | None, invert: bool = False,
                 voi: VoiTable | None = None, lut_cache: LutCache | None = None) -> np.ndarray:
    """2D pixels -> C-contiguous uint8 display buffer (0 black, 255 white)."""
    a = np.asarray(pixels)
    if a.ndim != 2:
        raise ValueError(f"render_slice needs a 2D image, got shape {a.shape}")
    if a.dtype in (np.int16, np.uint16):
        lut = lut_cache.get(a.dtype, wl, invert, voi) if lut_cache is not None else build_lut(a.dtype, wl, invert, voi)
        out = np.take(lut, a.view(np.uint16))
        return np.ascontiguousarray(out)
    if a.dtype == np.uint8 and wl is None and voi is None:
        out = a.copy()
    else:
        if wl is None:
            lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
            wl = WindowLevel((lo + hi) / 2.0, max(hi - lo, 1.0))
        out = _linear(a.astype(np.float32, copy=False), wl).astype(np.uint8)
    if invert:
        np.subtract(255, out, out=out)
    return np.ascontiguousarray(out)


def render_slice_naive(pixels: np.ndarray, wl: WindowLevel, invert: bool = False) -> np.ndarray:
    """The naive peer used by bench/render_bench.py: float64 clip per frame."""
    a = np.asarray(pixels, dtype=np.float64)
    lo, hi = wl.center - wl.width / 2.0, wl.center + wl.width / 2.0
    out = (np.clip(a, lo, hi) - lo) / (hi - lo) * 255.0
    if invert:
        out = 255.0 - out
    return out.astype(np.uint8)


def display_step(screen_px_per_pixel: float) -> int:
    """How many image pixels (per axis) one rendered pixel may average when the image is shown at
    ``screen_px_per_pixel`` screen pixels per image pixel: the largest integer step that still
    leaves at least one rendered pixel per screen pixel (1 = full resolution, for zoom >= 1:1)."""
    if not np.isfinite(screen_px_per_pixel) or screen_px_per_pixel <= 0:
        return 1
    return max(1, int(np.floor(1.0 / screen_px_per_pixel + 1e-9)))


class ReducedImageCache:
    """Keeps the box-averaged image of one source image at one step, so a window/level drag on a
    fitted radiograph re-runs only the LUT over the reduced pixels (the reduction reads them all)."""

    def __init__(self) -> None:
        self._source: np.ndarray | None = None
        self._step = 0
        self._reduced: np.ndarray | None = None

    def get(self, pixels: np.ndarray, step: int) -> np.ndarray:
        if step <= 1:
            return pixels
        if pixels is not self._source or step != self._step or self._reduced is None:
            self._reduced = area_decimate(pixels, step)
            self._source, self._step = pixels, step
        return self._reduced


def _accumulator(dtype: np.dtype) -> np.dtype:
    if dtype.kind == "u":
        return np.dtype(np.uint32)
    if dtype.kind in "ib":
        return np.dtype(np.int32) if dtype.itemsize <= 2 else np.dtype(np.int64)
    return np.dtype(np.float32) if dtype.itemsize <= 4 else np.dtype(np.float64)


def area_decimate(pixels: np.ndarray, step: int) -> np.ndarray:
    """Mean of each ``step`` x ``step`` block (the last row/column of blocks averages what is
    left): the box-filtered reduced image, same dtype as the input (integers rounded), shape
    ``ceil(rows / step) x ceil(cols / step)``. Rendered pixel (c, r) covers image pixels
    [c * step, (c + 1) * step). Box averaging keeps a one-pixel line as a fainter line where
    taking every ``step``-th pixel drops it or turns a fine pattern into moire
    (bench/render_bench.py measures both)."""
    a = np.asarray(pixels)
    if a.ndim != 2:
        raise ValueError(f"area_decimate needs a 2D image, got shape {a.shape}")
    step = int(step)
    if step <= 1:
        return a
    h, w = a.shape
    hh, ww = -(-h // step), -(-w // step)
    acc_t = _accumulator(a.dtype)
    out = _phase_sum(_phase_sum(a, step, 0, acc_t), step, 1, acc_t)  # block sums: rows, then columns
    n_rows = np.full(hh, step, dtype=np.int64)
    n_rows[-1] = h - (hh - 1) * step
    n_cols = np.full(ww, step, dtype=np.int64)
    n_cols[-1] = w - (ww - 1) * step
    if acc_t.kind == "f":
        out /= step * step
        if n_rows[-1] != step:
            out[-1] *= step / n_rows[-1]
        if n_cols[-1] != step:
            out[:, -1] *= step / n_cols[-1]
        return out.astype(a.dtype, copy=False)
    full = step * step
    edge_rows, edge_cols = out[-1].copy(), out[:-1, -1].copy()
    out += full // 2  # integer mean rounded half up (floor division alone would bias dark)
    out //= full
    if n_rows[-1] != step or n_cols[-1] != step:  # the partial blocks at the bottom and right edges
        counts = n_rows[-1] * n_cols
        out[-1] = (edge_rows + counts // 2) // counts
        counts = n_rows[:-1] * n_cols[-1]
        out[:-1, -1] = (edge_cols + counts // 2) // counts
    return out.astype(a.dtype)


def _phase_sum(a: np.ndarray, step: int, axis: int, acc_t: np.dtype) -> np.ndarray:
    """Sum of the ``step`` interleaved phases of ``a`` along ``axis`` (0 rows, 1 columns): element
    n is the sum of a[n * step + k] for k < step, fewer at the end. Strided views, no reshape
    copies; the first two phases are added straight into the wider accumulator (one pass)."""

    def phase(k: int) -> np.ndarray:
        return a[k::step] if axis == 0 else a[:, k::step]

    def head(n: int) -> tuple[slice, ...]:
        return (slice(0, n),) if axis == 0 else (slice(None), slice(0, n))

    first, second = phase(0), phase(1)
    out = np.empty(first.shape, acc_t)
    n = second.shape[axis]
    np.add(first[head(n)], second, out=out[head(n)], dtype=acc_t)
    if n < first.shape[axis]:  # the last block has a single row/column
        tail = (slice(n, None),) if axis == 0 else (slice(None), slice(n, None))
        out[tail] = first[tail]
    for k in range(2, step):
        part = phase(k)
        out[head(part.shape[axis])] += part
    return out
