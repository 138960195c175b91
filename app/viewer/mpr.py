"""Multiplanar reformatting (MPR) with numpy only: axial, sagittal, coronal and oblique planes,
with optional thick slab (MIP or average).

A :class:`PlaneSpec` (app.geometry.frames) is a 2D grid in patient space: pixel (col, row) sits at
``origin_lps + col * spacing_col * right_lps + row * spacing_row * down_lps``; ``right_lps`` is
the screen's right and ``down_lps`` the screen's down. Reslicing maps each output pixel to
continuous voxel indices ``ijk`` with one affine step per row/column (no per-pixel matrix
product) and gathers from the flattened volume: trilinear (8 gathers) or nearest (1 gather).
Planes that run along the voxel axes take a fast gather with no interpolation in-plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.dicom.model import Geometry
from app.geometry.frames import PlaneSpec as PlaneSpec  # the one plane class (defined with the frame transforms)

ORIENTATIONS = ("axial", "sagittal", "coronal")

# Screen right / down directions in LPS for the standard radiological views:
# axial viewed from the feet (patient's left on screen right), sagittal with anterior on the
# left, coronal viewed from the front.
_SCREEN_AXES = {
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
}


def screen_axes(orientation: str) -> tuple[np.ndarray, np.ndarray]:
    r, d = _SCREEN_AXES[orientation]
    return np.array(r), np.array(d)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64).reshape(3)
    n = np.linalg.norm(v)
    if n == 0:
        raise ValueError("zero-length direction")
    return v / n


def rotation_matrix(axis_lps, angle_deg: float) -> np.ndarray:
    """Rodrigues rotation about a unit axis (right-handed, degrees)."""
    a = _unit(axis_lps)
    t = np.deg2rad(angle_deg)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)


def volume_corners_lps(geometry: Geometry) -> np.ndarray:
    ni, nj, nk = geometry.shape_ijk
    c = np.array([[i, j, k] for i in (0, ni - 1) for j in (0, nj - 1) for k in (0, nk - 1)], dtype=np.float64)
    return geometry.ijk_to_lps(c)


def volume_center_lps(geometry: Geometry) -> np.ndarray:
    return volume_corners_lps(geometry).mean(axis=0)


@dataclass(frozen=True)
class PlaneStack:
    """All parallel planes of one orientation through a volume: a scrollable slice stack."""

    base: PlaneSpec  # the plane at offset 0 (through the volume centre)
    offsets_mm: tuple[float, float]  # first and last offset along the normal
    step_mm: float

    @property
    def count(self) -> int:
        return int(round((self.offsets_mm[1] - self.offsets_mm[0]) / self.step_mm)) + 1

    def offset_of(self, index: int) -> float:
        return self.offsets_mm[0] + index * self.step_mm

    def index_of(self, offset_mm: float) -> int:
        return int(np.clip(round((offset_mm - self.offsets_mm[0]) / self.step_mm), 0, self.count - 1))

    def plane(self, index: int) -> PlaneSpec:
        return self.base.shifted(self.offset_of(index))

    def index_containing(self, point_lps) -> int:
        return self.index_of(float((np.asarray(point_lps) - self.base.origin_lps) @ self.base.normal_lps))


def plane_stack(geometry: Geometry, right_lps, down_lps, pixel_mm: float | None = None) -> PlaneStack:
    """Planes with the given screen axes covering the whole volume. Pixel size defaults to the
    smallest voxel spacing; slices are spaced by the voxel extent along the normal."""
    right, down = _unit(right_lps), _unit(down_lps)
    down = _unit(down - (down @ right) * right)  # keep orthonormal
    normal = _unit(np.cross(right, down))
    centre = volume_center_lps(geometry)
    corners = volume_corners_lps(geometry) - centre
    u, v, w = corners @ right, corners @ down, corners @ normal
    step_in = float(pixel_mm or geometry.spacing_mm.min())
    # spacing along the normal: the voxel step projected onto the normal (exact for aligned planes)
    axes = geometry.direction * geometry.spacing_mm[np.newaxis, :]
    proj = np.abs(normal @ axes)
    aligned = np.isclose(proj.max(), np.linalg.norm(axes[:, int(np.argmax(proj))]), rtol=1e-4)
    step_n = float(axes[:, int(np.argmax(proj))] @ normal) if aligned else float(geometry.spacing_mm.min())
    step_n = abs(step_n) or step_in
    step_u = _axis_step(axes, right, step_in) if pixel_mm is None else step_in
    step_v = _axis_step(axes, down, step_in) if pixel_mm is None else step_in
    cols = int(np.floor((u.max() - u.min()) / step_u + 1e-6)) + 1
    rows = int(np.floor((v.max() - v.min()) / step_v + 1e-6)) + 1
    origin = centre + u.min() * right + v.min() * down
    base = PlaneSpec(origin, right, down, (step_v, step_u), (rows, cols))
    lo = float(w.min())
    n = int(np.floor((w.max() - lo) / step_n + 1e-6)) + 1
    return PlaneStack(base, (lo, lo + (n - 1) * step_n), step_n)


def _axis_step(axes: np.ndarray, direction: np.ndarray, default: float) -> float:
    """Voxel spacing along ``direction`` when it runs along a voxel axis (so the plane samples the
    grid exactly and the view shows non-square pixels), else ``default``."""
    for a in range(3):
        col = axes[:, a]
        n = np.linalg.norm(col)
        if abs(abs(col @ direction) - n) < 1e-6 * n:
            return float(n)
    return default


def _plane_ijk(geometry: Geometry, plane: PlaneSpec):
    inv = np.linalg.inv(geometry.direction * geometry.spacing_mm[np.newaxis, :])
    p0 = inv @ (plane.origin_lps - geometry.origin_lps)
    du = inv @ (plane.right_lps * plane.spacing_mm[1])
    dv = inv @ (plane.down_lps * plane.spacing_mm[0])
    return p0, du, dv


def _aligned_axes(du: np.ndarray, dv: np.ndarray, p0: np.ndarray):
    """If columns and rows step exactly one voxel along single axes from an integer start, return
    (axis_u, sign_u, axis_v, sign_v); else None."""
    def single(d):
        a = int(np.argmax(np.abs(d)))
        if abs(abs(d[a]) - 1.0) < 1e-6 and np.all(np.abs(np.delete(d, a)) < 1e-6):
            return a, int(np.sign(d[a]))
        return None
    su, sv = single(du), single(dv)
    if su is None or sv is None or su[0] == sv[0]:
        return None
    if abs(p0[su[0]] - round(p0[su[0]])) > 1e-4 or abs(p0[sv[0]] - round(p0[sv[0]])) > 1e-4:
        return None
    return su[0], su[1], sv[0], sv[1]


def reslice(array: np.ndarray, geometry: Geometry, plane: PlaneSpec, order: int = 1,
            fill: float = 0.0, slab_mm: float = 0.0, slab_mode: str = "mip") -> np.ndarray:
    """Sample ``array`` ([k, j, i]) on ``plane``. order 0 = nearest, 1 = trilinear.

    Returns float32 for interpolated planes and the input dtype for exact grid planes. Pixels
    outside the volume get ``fill``. With ``slab_mm`` > 0, planes spaced by the smallest voxel
    spacing across the slab are combined by maximum ("mip") or mean ("mean").
    """
    if slab_mm and slab_mm > 0:
        axes = geometry.direction * geometry.spacing_mm[np.newaxis, :]
        step = _axis_step(axes, plane.normal_lps, float(geometry.spacing_mm.min()))
        half = int(np.floor(slab_mm / 2.0 / step + 1e-6))
        offsets = np.arange(-half, half + 1) * step
        acc = None
        # many planes: sample each nearest-neighbour (a 10 mm MIP of a 0.7 mm CT is 15 planes)
        sub_order = order if len(offsets) <= 4 else 0
        for off in offsets:
            img = reslice(array, geometry, plane.shifted(float(off)), sub_order, fill).astype(np.float32, copy=False)
            if acc is None:
                acc = img.copy()
            elif slab_mode == "mip":
                np.maximum(acc, img, out=acc)
            else:
                acc += img
        if slab_mode != "mip":
            acc /= len(offsets)
        return acc
    a = np.ascontiguousarray(array)
    nk, nj, ni = a.shape
    sizes = (ni, nj, nk)
    rows, cols = plane.shape
    p0, du, dv = _plane_ijk(geometry, plane)
    al = _aligned_axes(du, dv, p0)
    if al is not None:
        return _reslice_aligned(a, sizes, p0, al, rows, cols, order, fill)
    c = np.arange(cols, dtype=np.float32)
    r = np.arange(rows, dtype=np.float32)[:, None]
    coords = [np.float32(p0[ax]) + r * np.float32(dv[ax]) + c * np.float32(du[ax]) for ax in range(3)]
    flat = a.ravel()
    strides = (1, ni, ni * nj)
    if order == 0:
        idx = None
        valid = None
        for ax in range(3):
            q = np.rint(coords[ax]).astype(np.int32)
            ok = (q >= 0) & (q < sizes[ax])
            valid = ok if valid is None else valid & ok
            np.clip(q, 0, sizes[ax] - 1, out=q)
            idx = q * strides[ax] if idx is None else idx + q * strides[ax]
        out = np.take(flat, idx)
        if not valid.all():
            out = out.astype(np.result_type(out.dtype, np.min_scalar_type(fill)), copy=False)
            out[~valid] = fill
        return out
    base = None
    fracs = []
    valid = None
    for ax in range(3):
        x = coords[ax]
        ok = (x > -0.5) & (x < sizes[ax] - 0.5)
        valid = ok if valid is None else valid & ok
        np.clip(x, 0, sizes[ax] - 1, out=x)
        top = max(sizes[ax] - 2, 0)
        x0 = np.minimum(x.astype(np.intp), top)
        x -= x0  # x now holds the fraction in [0, 1]
        fracs.append(x)
        if strides[ax] != 1:
            x0 *= strides[ax]
        base = x0 if base is None else base + x0
    fx, fy, fz = fracs
    si = 1 if ni > 1 else 0
    sj = ni if nj > 1 else 0
    sk = ni * nj if nk > 1 else 0

    def g(off):  # gather at base + off without building base + off: take from a shifted view
        return np.take(flat[off:], base).astype(np.float32)

    c00 = g(0)
    c00 += fx * (g(si) - c00)
    c10 = g(sj)
    c10 += fx * (g(sj + si) - c10)
    c00 += fy * (c10 - c00)
    c01 = g(sk)
    c01 += fx * (g(sk + si) - c01)
    c10 = g(sk + sj)
    c10 += fx * (g(sk + sj + si) - c10)
    c01 += fy * (c10 - c01)
    c00 += fz * (c01 - c00)
    if not valid.all():
        c00[~valid] = fill
    return c00


def _reslice_aligned(a, sizes, p0, al, rows, cols, order, fill):
    ax_u, s_u, ax_v, s_v = al
    ax_n = 3 - ax_u - ax_v
    iu = int(round(p0[ax_u])) + s_u * np.arange(cols)
    iv = int(round(p0[ax_v])) + s_v * np.arange(rows)
    ok_u = (iu >= 0) & (iu < sizes[ax_u])
    ok_v = (iv >= 0) & (iv < sizes[ax_v])
    n = float(p0[ax_n])

    full = ok_u.all() and ok_v.all()

    def _sl(ix: np.ndarray, step: int) -> slice:
        stop = int(ix[-1]) + step
        return slice(int(ix[0]), None if stop < 0 else stop, step)

    def take_at(kn: int) -> np.ndarray:
        if full:  # basic slicing: a strided view, one copy, no index arrays
            idx = [None, None, None]
            idx[ax_u], idx[ax_v], idx[ax_n] = _sl(iu, s_u), _sl(iv, s_v), kn
            view = a[idx[2], idx[1], idx[0]]
            # remaining axes keep array order (k, j, i); rows must follow ax_v
            if next(ax for ax in (2, 1, 0) if ax != ax_n) != ax_v:
                view = view.T
            return np.ascontiguousarray(view)
        idx = [None, None, None]  # in (i, j, k) order
        idx[ax_u] = np.clip(iu, 0, sizes[ax_u] - 1)[None, :]
        idx[ax_v] = np.clip(iv, 0, sizes[ax_v] - 1)[:, None]
        idx[ax_n] = kn
        return a[idx[2], idx[1], idx[0]]

    if n < -0.5 or n > sizes[ax_n] - 0.5:
        return np.full((rows, cols), fill, dtype=np.float32)
    n0 = int(np.clip(np.floor(n), 0, sizes[ax_n] - 1))
    frac = n - n0
    if order == 0 or abs(frac) < 1e-4 or n0 + 1 >= sizes[ax_n]:
        out = take_at(int(np.clip(round(n), 0, sizes[ax_n] - 1)))
    else:
        lo = take_at(n0).astype(np.float32)
        out = lo + np.float32(frac) * (take_at(n0 + 1).astype(np.float32) - lo)
    if not (ok_u.all() and ok_v.all()):
        out = out.astype(np.result_type(out.dtype, np.float32) if out.dtype.kind == "f" else out.dtype, copy=True)
        mask = ~(ok_v[:, None] & ok_u[None, :])
        out[mask] = fill
    return np.ascontiguousarray(out)
