"""Multiplanar reformatting (MPR): axial, sagittal, coronal and oblique planes,
with optional thick slab (MIP or average).

A :class:`PlaneSpec` (app.geometry.frames) is a 2D grid in patient space: pixel (col, row) sits at
``origin_lps + col * spacing_col * right_lps + row * spacing_row * down_lps``; ``right_lps`` is
the screen's right and ``down_lps`` the screen's down. Reslicing maps each output pixel to
continuous voxel indices ``ijk`` with one affine step per row/column (no per-pixel matrix
product) and gathers from the flattened volume: trilinear (8 gathers) or nearest (1 gather).
Planes that run along the voxel axes take a fast gather with no interpolation in-plane.

Oblique planes and slabs go to SimpleITK's resampler when it is ready (see ``reslice``'s
``backend``): a thick slab is one resample of an [n, rows, cols] grid reduced along n (an oblique
MIP from a max-reduced copy of the volume, app.viewer.slab_reduce, with fewer planes). The numpy
gather stays as the fallback (the packaged bundle leaves SimpleITK out) and both are tested to
agree within interpolation tolerance.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from app.dicom import sitk_bridge
from app.dicom.model import Geometry
from app.geometry.frames import PlaneSpec as PlaneSpec  # the one plane class (defined with the frame transforms)
from app.viewer import slab_reduce

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


def _off_axes(geometry: Geometry, plane: PlaneSpec) -> bool:
    """True when the plane's right or down direction runs along no voxel axis, so the plane is
    certainly not grid-aligned: two 3x3 products instead of ``_plane_ijk``'s matrix inverse
    (measured 7 vs 25 us a frame with the alignment test, 2026-11-29; the oblique render path's budget is the bare resample)."""
    cos_right = np.abs(plane.right_lps @ geometry.direction).max()
    cos_down = np.abs(plane.down_lps @ geometry.direction).max()
    return bool(min(cos_right, cos_down) < 1.0 - 1e-9)


def _aligned_axes(p0: np.ndarray, du: np.ndarray, dv: np.ndarray):
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


BACKENDS = ("auto", "numpy", "sitk")


def reslice(array: np.ndarray, geometry: Geometry, plane: PlaneSpec, order: int = 1,
            fill: float = 0.0, slab_mm: float = 0.0, slab_mode: str = "mip", backend: str = "auto") -> np.ndarray:
    """Sample ``array`` ([k, j, i]) on ``plane``. order 0 = nearest, 1 = trilinear.

    Returns float32 for interpolated planes and the input dtype for exact grid planes. Pixels
    outside the volume get ``fill``. With ``slab_mm`` > 0, planes spaced by the voxel step along
    the normal across the slab are combined by maximum ("mip") or mean ("mean"); an oblique MIP
    of more than 4 such planes samples fewer planes from a max-reduced copy of the volume
    (app.viewer.slab_reduce; made on a background thread under "auto", waited for otherwise).

    ``backend``: planes along the voxel axes are always cut by array slicing. Other planes go to
    SimpleITK's resampler (one copy of the volume per volume, made on a background thread) when
    it is ready ("auto"), always ("sitk", waits for it; RuntimeError when not installed) or never
    ("numpy", the fallback of the packaged bundle, which leaves SimpleITK out).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown reslice backend {backend!r}; expected one of {BACKENDS}")
    if slab_mode not in SLAB_MODES:
        raise ValueError(f"unknown slab mode {slab_mode!r}; expected one of {SLAB_MODES}")
    if slab_mm and slab_mm > 0:
        return _reslice_slab(array, geometry, plane, order, fill, slab_mm, slab_mode, backend)
    if _off_axes(geometry, plane) or _aligned_axes(*_plane_ijk(geometry, plane)) is None:
        image = _sitk_image(array, geometry, backend)
        if image is not None:
            return sitk_bridge.resample_grid(image, plane.origin_lps, _grid_axes(plane),
                                             (plane.spacing_mm[1], plane.spacing_mm[0], 1.0),
                                             (plane.shape[1], plane.shape[0], 1), order, fill)[0]
    return _reslice_numpy(array, geometry, plane, order, fill)


SLAB_MODES = ("mip", "mean")


def _grid_axes(plane: PlaneSpec) -> np.ndarray:
    """3x3 matrix whose columns are the plane's right, down and normal directions (LPS): the
    normal as ``PlaneSpec.normal_lps`` (right x down, unit), with plain float arithmetic because
    np.cross costs more per frame than the rest of the set-up."""
    (rx, ry, rz), (dx, dy, dz) = plane.right_lps.tolist(), plane.down_lps.tolist()
    nx, ny, nz = ry * dz - rz * dy, rz * dx - rx * dz, rx * dy - ry * dx
    norm = (nx * nx + ny * ny + nz * nz) ** 0.5
    return np.array([[rx, dx, nx / norm], [ry, dy, ny / norm], [rz, dz, nz / norm]])


def _same_array(array) -> np.ndarray:
    """``array`` itself when it is an ndarray of any kind (an np.memmap too): the per-volume copies
    are keyed by the array's identity, and np.asarray of a subclass is a new object each frame."""
    return array if isinstance(array, np.ndarray) else np.asarray(array)


def _sitk_image(array: np.ndarray, geometry: Geometry, backend: str):
    if backend == "numpy":
        return None
    image = sitk_bridge.image_for(_same_array(array), geometry, wait=backend == "sitk")
    if image is None and backend == "sitk":
        raise RuntimeError("SimpleITK resampling requested but SimpleITK is not installed, "
                           f"the volume is above {sitk_bridge.MAX_CACHED_BYTES // 2**20} MiB "
                           "or its SimpleITK copy could not be made")
    return image


def _reduce_slab(stack: np.ndarray, mode: str) -> np.ndarray:
    """[n, rows, cols] -> [rows, cols] float32 by maximum or mean along the thickness axis."""
    if mode == "mip":
        return stack.max(axis=0).astype(np.float32, copy=False)
    return stack.mean(axis=0, dtype=np.float32)


def _reslice_slab(array: np.ndarray, geometry: Geometry, plane: PlaneSpec, order: int, fill: float,
                  slab_mm: float, mode: str, backend: str) -> np.ndarray:
    axes = geometry.direction * geometry.spacing_mm[np.newaxis, :]
    step = _axis_step(axes, plane.normal_lps, float(geometry.spacing_mm.min()))
    half = int(np.floor(slab_mm / 2.0 / step + 1e-6))
    n = 2 * half + 1
    # many planes: sample nearest-neighbour (a 10 mm MIP of a 0.7 mm CT is 15 planes)
    sub_order = order if n <= 4 else 0
    first = plane.shifted(-half * step)
    p0, du, dv = _plane_ijk(geometry, first)
    al = _aligned_axes(p0, du, dv)
    if al is None and mode == "mip" and n > 4:
        mip = _reduced_mip(_same_array(array), geometry, plane, fill, slab_mm, n, backend)
        if mip is not None:
            return mip
    if al is not None:
        block = _aligned_block_slab(np.asarray(array), geometry, first, step, n, al, fill, mode)
        if block is not None:
            return block
    else:
        image = _sitk_image(array, geometry, backend)
        if image is not None:  # one resample of a thick grid [n, rows, cols], reduced along n
            return sitk_bridge.resample_grid(image, first.origin_lps, _grid_axes(plane),
                                             (plane.spacing_mm[1], plane.spacing_mm[0], step),
                                             (plane.shape[1], plane.shape[0], n), sub_order, fill,
                                             reduce=lambda stack: _reduce_slab(stack, mode))
    # off-grid aligned planes, and the numpy fallback: plane by plane, one plane in memory
    acc = None
    for m in range(n):
        img = reslice(array, geometry, first.shifted(m * step), sub_order, fill, backend="numpy")
        img = img.astype(np.float32, copy=False)
        if acc is None:
            acc = img.copy()
        elif mode == "mip":
            np.maximum(acc, img, out=acc)
        else:
            acc += img
    assert acc is not None
    if mode != "mip":
        acc /= n
    return acc


def _plane_step_mm(spacing_mm: np.ndarray, cos: np.ndarray, axis: int, factor: int) -> float:
    """Largest spacing of the planes sampled from the max-reduced copy: its voxel's long side
    (``factor`` voxels along ``axis``) projected on the normal, less half the projection of its
    two other sides (``cos``: |cos(normal, voxel axis)|). A plane that only grazes a reduced
    voxel's corner can pass between its nearest-neighbour sample points; planes closer than the
    long side cut every reduced voxel well inside. Chosen by measurement, not derived: single
    bright voxels at random places, 10 mm oblique slab, volumes 0.7 x 0.7 x 1 mm and
    0.5 x 0.5 x 3 mm with planes tilted 25/15 and 40/30 degrees, 0.8 x 0.9 x 1.5 mm rotated 25
    degrees (2026-11-29). Voxels inside the slab shown, of 200 (planes then reaching +-(5 mm + half
    a step)): voxel-step planes from the volume (before) 181, 199, 186, 199; the copy with the whole
    projected reduced voxel as step 173, 169, 175, 184; the long side only 200, 194, 200, 200; this
    step 200 each. With the end margin of ``_reduced_mip`` (the figures of the code as it is),
    and ``MAX_SPREAD_PX`` (factor 3, 2, 2, 3; 7, 11, 13, 11 planes), of 201-205 voxels inside the
    slab: voxel-step 195, 200, 185, 203 of 205, 201, 201, 203; the copy 200, 201, 200, 203, the
    farthest from where a voxel projects 1.11, 0.69, 0.81, 1.08 pixels (voxel-step 0.76, 0.88,
    0.73, 1.80); voxels 5-6 mm from the centre shown 58, 47, 35, 33 % (voxel-step 27, 36, 32,
    31 %), beyond 6 mm 3, 0, 0, 0 % (voxel-step 0): the slab reaches a little further than its
    nominal thickness."""
    size_mm = spacing_mm.astype(np.float64)
    size_mm[axis] *= factor
    long_mm = float(size_mm[axis] * cos[axis])
    return long_mm - 0.5 * (float(size_mm @ cos) - long_mm)


_END_MARGIN = 0.25


def _copy_layout(geometry: Geometry, plane: PlaneSpec) -> tuple[int, int, int]:
    """Axes (i, j, k of the source) for the reduced copy's x, y, z: x the one a plane's row
    crosses fastest (in voxels per pixel), y and z the other two in the source's order (so the
    copy is built slice by slice). SimpleITK fills a plane row by row: with x along the row,
    consecutive samples share cache lines (measured on the bench's oblique slab, 2026-11-29:
    7 planes 40 vs 50 ms CPU, 20 % less, on a loaded machine)."""
    moves = [abs(float(plane.right_lps @ geometry.direction[:, b])) / geometry.spacing_mm[b] for b in range(3)]
    fast = int(np.argmax(moves))
    y, z = (b for b in range(3) if b != fast)
    return fast, y, z


MAX_SPREAD_PX = 1.5
"""Largest in-plane extent (pixels) of one reduced voxel: its long side, projected on the plane.
A voxel of the copy shows its maximum wherever a plane samples it, so that extent is how far a
bright voxel can move. The copy's factor is lowered (3, 2) to stay within it, and a slab whose
factor would fall below 2 samples the volume itself: thick-slice axes (3 mm x 3 = 9 mm blocks)
and steep tilts. Measured with random volumes and planes, 2026-11-29: with the factor fixed at 3,
the share of pixels where the voxel-step slab's maximum showed within one pixel fell to 85-93 %
for 3 mm axes."""


def reduced_slab_planes(geometry: Geometry, plane: PlaneSpec, slab_mm: float) -> tuple[int, float, float, int, int] | None:
    """(count, spacing mm, distance of the outermost planes from the centre mm, reduced voxel
    axis, reduction factor) of the planes an oblique MIP slab samples from a max-reduced copy;
    None when no copy fits (``MAX_SPREAD_PX``; ``slab_reduce.FACTOR`` below 2, as the bench and
    tests set it for the voxel-step slab) or the plane step would not be positive."""
    cos = np.abs(plane.normal_lps @ geometry.direction)
    axis = int(np.argmax(cos))
    spacing = float(geometry.spacing_mm[axis])
    sin = float(np.sqrt(max(0.0, 1.0 - float(cos[axis]) ** 2)))
    limit_mm = MAX_SPREAD_PX * min(plane.spacing_mm)
    factor = slab_reduce.FACTOR if sin * spacing * slab_reduce.FACTOR <= limit_mm else int(limit_mm / (sin * spacing))
    factor = min(factor, slab_reduce.FACTOR)
    if factor < 2:
        return None
    step = _plane_step_mm(geometry.spacing_mm, cos, axis, factor)
    if step <= 0:
        return None
    long_mm = factor * spacing * float(cos[axis])
    reach = max(slab_mm / 2.0 - _END_MARGIN * long_mm, 0.0)
    n = int(np.ceil(2.0 * reach / step - 1e-9)) + 1
    return n, (2.0 * reach / (n - 1) if n > 1 else step), reach, axis, factor


def _reduced_mip(array: np.ndarray, geometry: Geometry, plane: PlaneSpec, fill: float, slab_mm: float,
                 n_full: int, backend: str) -> np.ndarray | None:
    """An oblique MIP slab sampled from the max-reduced copy of the volume (app.viewer.slab_reduce)
    along the voxel axis nearest the normal, with fewer planes; None when that copy is not ready
    ("auto": it is being made on a background thread; the caller samples the volume itself) or
    would not save planes.

    Planes: evenly spaced, at most ``_plane_step_mm`` apart, the outermost ``_END_MARGIN`` of the
    reduced voxel's projected long side inside the slab's faces (the copy's voxels reach past
    their planes; with the planes on the faces, voxels up to 7 mm from a 10 mm slab's centre
    showed; measurements in ``_plane_step_mm``)."""
    planes = reduced_slab_planes(geometry, plane, slab_mm)
    if planes is None or planes[0] >= n_full:
        return None
    n, step, reach, axis, factor = planes
    reduced = slab_reduce.reduced_for(array, geometry, axis, _copy_layout(geometry, plane), factor,
                                      wait=backend != "auto")
    if reduced is None:
        return None
    first = plane.shifted(-reach)
    if reduced.image is not None and backend != "numpy":
        return sitk_bridge.resample_grid(reduced.image, first.origin_lps, _grid_axes(plane),
                                         (plane.spacing_mm[1], plane.spacing_mm[0], step),
                                         (plane.shape[1], plane.shape[0], n), 0, fill,
                                         reduce=lambda stack: _reduce_slab(stack, "mip"))
    if backend == "sitk":
        return None  # SimpleITK requested but missing: the caller's sitk path says so
    acc = _reslice_numpy(reduced.array, reduced.geometry, first, 0, fill).astype(np.float32)
    for m in range(1, n):
        np.maximum(acc, _reslice_numpy(reduced.array, reduced.geometry, first.shifted(m * step), 0, fill), out=acc)
    return acc


def _aligned_block_slab(a: np.ndarray, geometry: Geometry, first: PlaneSpec, step: float, n: int,
                        al: tuple[int, int, int, int], fill: float, mode: str) -> np.ndarray | None:
    """A slab of grid-aligned planes one voxel apart: reduce the block of voxel slices layer by
    layer (each a contiguous or row-strided view), then cut the reduced slice like a thin plane.
    None when the planes are not exactly on voxel slices."""
    ax_u, _s_u, ax_v, _s_v = al
    ax_n = 3 - ax_u - ax_v
    inv = np.linalg.inv(geometry.direction * geometry.spacing_mm[np.newaxis, :])
    p0 = inv @ (first.origin_lps - geometry.origin_lps)
    dn = inv @ (first.normal_lps * step)
    if abs(abs(dn[ax_n]) - 1.0) > 1e-6 or abs(p0[ax_n] - round(p0[ax_n])) > 1e-4:
        return None
    size_n = a.shape[2 - ax_n]
    idx = int(round(p0[ax_n])) + int(np.sign(dn[ax_n])) * np.arange(n)
    inside = (idx >= 0) & (idx < size_n)
    rows, cols = first.shape
    if not inside.any():
        return np.full((rows, cols), fill, dtype=np.float32)
    lo, hi = int(idx[inside].min()), int(idx[inside].max()) + 1
    axis = 2 - ax_n  # array axes are [k, j, i]
    block = a[(slice(None),) * axis + (slice(lo, hi),)]
    if axis == 2:  # slices along i are strided: copy the block once (runs of hi - lo voxels)
        block = np.ascontiguousarray(block)
    layers = [block[(slice(None),) * axis + (slice(m, m + 1),)] for m in range(hi - lo)]
    reduced = layers[0].astype(np.float32)
    combine = np.maximum if mode == "mip" else np.add
    for layer in layers[1:]:
        combine(reduced, layer, out=reduced)
    n_out = int(n - inside.sum())  # planes beyond the volume count as fill
    if mode == "mip":
        if n_out:
            np.maximum(reduced, np.float32(fill), out=reduced)
    else:
        reduced += np.float32(n_out * fill)
        reduced /= n
    p_thin = p0.copy()
    p_thin[ax_n] = 0.0
    sizes = (reduced.shape[2], reduced.shape[1], reduced.shape[0])
    return _reslice_aligned(reduced, sizes, p_thin, al, rows, cols, 0, fill).astype(np.float32, copy=False)


def _reslice_numpy(array: np.ndarray, geometry: Geometry, plane: PlaneSpec, order: int, fill: float) -> np.ndarray:
    a = np.ascontiguousarray(array)
    nk, nj, ni = a.shape
    sizes = (ni, nj, nk)
    rows, cols = plane.shape
    p0, du, dv = _plane_ijk(geometry, plane)
    al = _aligned_axes(p0, du, dv)
    if al is not None:
        return _reslice_aligned(a, sizes, p0, al, rows, cols, order, fill)
    if rows * cols < _SPLIT_MIN_PIXELS or rows < 2:
        return _gather_rows(a, sizes, p0, du, dv, 0, rows, cols, order, fill)
    # numpy releases the GIL in its gathers and arithmetic: the two halves run on two cores. Each
    # half computes its coordinates from the global row index, so the result is bit-identical.
    half = rows // 2
    other = _numpy_pool().submit(_gather_rows, a, sizes, p0, du, dv, half, rows, cols, order, fill)
    top = _gather_rows(a, sizes, p0, du, dv, 0, half, cols, order, fill)
    return np.concatenate([top, other.result()])


_SPLIT_MIN_PIXELS = 65536  # below this a second thread costs more than it saves
_pool_holder: list[ThreadPoolExecutor] = []


def _numpy_pool() -> ThreadPoolExecutor:
    if not _pool_holder:
        _pool_holder.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="mpr-numpy"))
    return _pool_holder[0]


def _gather_rows(a: np.ndarray, sizes: tuple[int, int, int], p0: np.ndarray, du: np.ndarray, dv: np.ndarray,
                 row0: int, row1: int, cols: int, order: int, fill: float) -> np.ndarray:
    """Rows [row0, row1) of a general (non-aligned) plane: trilinear or nearest gathers."""
    nk, nj, ni = a.shape
    c = np.arange(cols, dtype=np.float32)
    r = np.arange(row0, row1, dtype=np.float32)[:, None]
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
