"""Max-reduced copies of a volume for oblique MIP slabs (app.viewer.mpr).

A thick MIP slab samples planes across the slab and keeps the maximum. Sampled from the volume
itself the planes must be about one voxel apart, or voxels between them are missed (a 10 mm slab
of a 0.7 mm CT: 15 planes). Sampled from a copy whose every voxel is the maximum of ``FACTOR``
voxels along the volume axis nearest the slab normal, each plane carries the voxels it skips and
the planes can be further apart (7 planes; the spacing rule and its measurements are in
``mpr._plane_step_mm``), at the cost of up to about one voxel of position along that axis.

Layout: the copy may keep its axes in another order than the source (``order_ijk``), so that the
axis a plane's rows cross fastest is contiguous; ``ReducedVolume.array`` and ``.geometry`` then
describe it as a volume of its own.

Memory: one copy is 1 / factor of the voxel bytes (factor 3, or 2 where 3 would move voxels too
far: ``mpr.MAX_SPREAD_PX``). At most ``MAX_COPIES_PER_VOLUME`` copies per volume are kept (the
most recently used axis, layout and factor): at most two thirds of the voxel bytes again with
factor 3, the whole with factor 2. Built on a background thread; dropped when the volume's array
is freed (``weakref.finalize`` on the array), or by ``drop``.
A volume above ``sitk_bridge.MAX_CACHED_BYTES`` (a 1,500-slice whole-spine CT) keeps one copy at
most, and only if the copy itself is within that budget (a third of 750 MB): its slab from the
volume itself cost 7.6x one plane, against the target of 3x (issue 16). Bigger volumes get none
(their slabs sample the volume itself).
When SimpleITK is installed the copy lives once, as a SimpleITK image, and the numpy array is a
view of it.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.dicom import sitk_bridge
from app.dicom.model import Geometry

FACTOR = 3
_CHUNK_SLICES = 8
MAX_COPIES_PER_VOLUME = 2


@dataclass(frozen=True)
class ReducedVolume:
    array: np.ndarray  # [k, j, i], read-only
    geometry: Geometry
    image: Any  # the same voxels as a SimpleITK image, or None without SimpleITK


def max_reduce(array: np.ndarray, axis_ijk: int, factor: int, out: np.ndarray | None = None) -> np.ndarray:
    """Maximum over consecutive blocks of ``factor`` voxels along volume axis ``axis_ijk``
    (0 = i, 1 = j, 2 = k); the last block takes what is left. ``out``: where to write it."""
    ax = 2 - axis_ijk  # array axes are [k, j, i]

    def part(r: int) -> np.ndarray:
        return array[(slice(None),) * ax + (slice(r, None, factor),)]

    if out is None:
        out = np.array(part(0))
    else:
        out[...] = part(0)
    for r in range(1, factor):
        p = part(r)
        head = out[(slice(None),) * ax + (slice(0, p.shape[ax]),)]
        np.maximum(head, p, out=head)
    return out


def reduced_geometry(geometry: Geometry, axis_ijk: int, factor: int) -> Geometry:
    """The geometry of ``max_reduce``'s result: voxel spacing ``factor`` times larger along the
    axis, each voxel centred on its block."""
    spacing = geometry.spacing_mm.copy()
    origin = geometry.origin_lps + (factor - 1) / 2 * spacing[axis_ijk] * geometry.direction[:, axis_ijk]
    spacing[axis_ijk] *= factor
    shape = list(geometry.shape_ijk)
    shape[axis_ijk] = -(-shape[axis_ijk] // factor)
    return Geometry(origin, spacing, geometry.direction, (shape[0], shape[1], shape[2]))


def permuted(geometry: Geometry, order_ijk: tuple[int, int, int]) -> Geometry:
    """The same voxels described with the source axes ``order_ijk`` as the new i, j, k: an array
    in that layout keeps the source's ``order_ijk[0]`` axis contiguous in memory."""
    order = list(order_ijk)
    return Geometry(geometry.origin_lps, geometry.spacing_mm[order], geometry.direction[:, order],
                    (geometry.shape_ijk[order[0]], geometry.shape_ijk[order[1]], geometry.shape_ijk[order[2]]))


def _build(array: np.ndarray, geometry: Geometry, axis_ijk: int, factor: int,
           order_ijk: tuple[int, int, int]) -> ReducedVolume:
    g = permuted(reduced_geometry(geometry, axis_ijk, factor), order_ijk)
    image = sitk_bridge.empty_image(g, array.dtype) if sitk_bridge.simpleitk_available(wait=True) else None
    # written straight into the SimpleITK image: the build holds one reduced copy, not a numpy
    # result plus its GetImageFromArray copy
    buffer = np.empty(g.shape_ijk[::-1], array.dtype) if image is None else sitk_bridge.array_of(image, writable=True)
    # the buffer's axes are (order[2], order[1], order[0]); view them in the source's (k, j, i)
    order = list(order_ijk)
    view = buffer.transpose([2 - order.index(b) for b in (2, 1, 0)])
    # a few of the buffer's slowest slices at a time, reduced in the source's order and then
    # copied across (bench volume, 150 MB, layout j-i-k, loaded machine, 2026-11-29: 150-200 ms
    # like the source's own layout; straight through one transposed view 1.5-1.8 s)
    slow = order[2]
    step = _CHUNK_SLICES * (factor if slow == axis_ijk else 1)
    src_ax, out_ax = 2 - slow, 2 - slow
    for start in range(0, array.shape[src_ax], step):
        src = array[(slice(None),) * src_ax + (slice(start, start + step),)]
        out_start = start // factor if slow == axis_ijk else start
        out = view[(slice(None),) * out_ax + (slice(out_start, out_start + _CHUNK_SLICES),)]
        if out.flags.c_contiguous:
            max_reduce(src, axis_ijk, factor, out=out)
        else:  # reduce in source order, then one transposing copy of the chunk
            out[...] = max_reduce(src, axis_ijk, factor)
    if image is None:
        buffer.flags.writeable = False
        return ReducedVolume(buffer, g, None)
    return ReducedVolume(sitk_bridge.array_of(image, writable=False), g, image)


_lock = threading.Lock()
_pool_holder: list[ThreadPoolExecutor] = []
_entries: dict[tuple, OrderedDict[tuple, Future]] = {}  # volume key -> (axis, order) -> future


def _pool() -> ThreadPoolExecutor:
    if not _pool_holder:
        _pool_holder.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="slab-reduce"))
    return _pool_holder[0]


def _volume_key(array: np.ndarray, geometry: Geometry) -> tuple:
    return (id(array), array.shape, array.dtype.str, geometry.origin_lps.tobytes(),
            geometry.spacing_mm.tobytes(), geometry.direction.tobytes())


def _forget(key: tuple) -> None:
    with _lock:
        _entries.pop(key, None)


def reduced_for(array: np.ndarray, geometry: Geometry, axis_ijk: int, order_ijk: tuple[int, int, int] = (0, 1, 2),
                factor: int = FACTOR, wait: bool = False) -> ReducedVolume | None:
    """The max-reduced copy of ``array`` along ``axis_ijk``, laid out with the source axes
    ``order_ijk`` as its i, j, k (``permuted``; its array and geometry describe it as a volume of
    its own): started on a background thread at the first call; None while it is being made
    (unless ``wait``), when the copy is above the budget or when the copy failed. ``factor``:
    voxels per block, 2 to ``FACTOR``."""
    if not 2 <= factor <= max(FACTOR, 2):
        raise ValueError(f"factor must be 2 to {max(FACTOR, 2)}, got {factor}")
    if array.ndim != 3 or array.nbytes // factor > sitk_bridge.MAX_CACHED_BYTES or array.shape[2 - axis_ijk] < factor:
        return None
    keep = 1 if array.nbytes > sitk_bridge.MAX_CACHED_BYTES else MAX_COPIES_PER_VOLUME
    if sorted(order_ijk) != [0, 1, 2]:
        raise ValueError(f"order_ijk must be a permutation of (0, 1, 2), got {order_ijk}")
    layout = (axis_ijk, tuple(order_ijk), factor)
    key = _volume_key(array, geometry)
    with _lock:
        axes = _entries.get(key)
        if axes is None:
            axes = _entries[key] = OrderedDict()
            weakref.finalize(array, _forget, key)
        future = axes.get(layout)
        if future is None:
            future = axes[layout] = _pool().submit(_build, array, geometry, axis_ijk, factor, layout[1])
            while len(axes) > keep:
                axes.popitem(last=False)
        else:
            axes.move_to_end(layout)
    if not (wait or future.done()):
        return None
    if future.exception() is not None:  # e.g. MemoryError: the slab samples the volume itself
        return None
    return future.result()


def drop(array: np.ndarray) -> None:
    """Drop every reduced copy of ``array`` now (they also go when the array is freed)."""
    with _lock:
        for key in [k for k in _entries if k[0] == id(array)]:
            del _entries[key]


def copy_count(array: np.ndarray) -> int:
    """How many reduced copies of ``array`` are held or being made."""
    with _lock:
        return sum(len(axes) for key, axes in _entries.items() if key[0] == id(array))


def cached_bytes() -> int:
    """Bytes held by finished reduced copies (for tests of the memory bound)."""
    with _lock:
        futures = [f for axes in _entries.values() for f in axes.values()]
    return sum(f.result().array.nbytes for f in futures if f.done() and f.exception() is None)
