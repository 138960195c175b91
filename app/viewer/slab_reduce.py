"""Max-reduced copies of a volume for oblique MIP slabs (app.viewer.mpr).

A thick MIP slab samples planes across the slab and keeps the maximum. Sampled from the volume
itself the planes must be about one voxel apart, or voxels between them are missed (a 10 mm slab
of a 0.7 mm CT: 15 planes). Sampled from a copy whose every voxel is the maximum of
``FACTOR`` voxels along the volume axis nearest the slab normal, each plane carries the voxels
it skips and the planes can be ``FACTOR`` times further apart (5 planes): the slab keeps every
voxel, at the cost of up to (FACTOR - 1) / 2 voxels of position along that axis.

Memory: one copy is a 1 / FACTOR of the voxel bytes. At most ``MAX_AXES_PER_VOLUME`` copies per
volume are kept (the most recently used axes), built on a background thread and dropped when the
volume's array is freed (``weakref.finalize`` on the array), or by ``drop``. Volumes above
``sitk_bridge.MAX_CACHED_BYTES`` get none (their slabs sample the volume itself). When SimpleITK is
installed the copy lives once, as a SimpleITK image, and the numpy array is a view of it.
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
MAX_AXES_PER_VOLUME = 2


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


def _build(array: np.ndarray, geometry: Geometry, axis_ijk: int, factor: int) -> ReducedVolume:
    g = reduced_geometry(geometry, axis_ijk, factor)
    image = sitk_bridge.empty_image(g, array.dtype) if sitk_bridge.simpleitk_available(wait=True) else None
    if image is None:
        reduced = max_reduce(array, axis_ijk, factor)
        reduced.flags.writeable = False
        return ReducedVolume(reduced, g, None)
    # written straight into the SimpleITK image: the build holds one reduced copy, not a numpy
    # result plus its GetImageFromArray copy (time about the same: best of 5 for the 150 MB bench
    # volume, 2026-11-29, loaded machine: 182 vs 175 ms along i, 76 vs 110 ms along k)
    max_reduce(array, axis_ijk, factor, out=sitk_bridge.array_of(image, writable=True))
    return ReducedVolume(sitk_bridge.array_of(image, writable=False), g, image)


_lock = threading.Lock()
_pool_holder: list[ThreadPoolExecutor] = []
_entries: dict[tuple, OrderedDict[int, Future]] = {}  # volume key -> axis -> future


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


def reduced_for(array: np.ndarray, geometry: Geometry, axis_ijk: int, wait: bool = False) -> ReducedVolume | None:
    """The max-reduced copy of ``array`` along ``axis_ijk``: started on a background thread at
    the first call; None while it is being made (unless ``wait``), when the volume is above the
    budget or when the copy failed."""
    if array.ndim != 3 or array.nbytes > sitk_bridge.MAX_CACHED_BYTES or array.shape[2 - axis_ijk] < FACTOR:
        return None
    key = _volume_key(array, geometry)
    with _lock:
        axes = _entries.get(key)
        if axes is None:
            axes = _entries[key] = OrderedDict()
            weakref.finalize(array, _forget, key)
        future = axes.get(axis_ijk)
        if future is None:
            future = axes[axis_ijk] = _pool().submit(_build, array, geometry, axis_ijk, FACTOR)
            while len(axes) > MAX_AXES_PER_VOLUME:
                axes.popitem(last=False)
        else:
            axes.move_to_end(axis_ijk)
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


def cached_bytes() -> int:
    """Bytes held by finished reduced copies (for tests of the memory bound)."""
    with _lock:
        futures = [f for axes in _entries.values() for f in axes.values()]
    return sum(f.result().array.nbytes for f in futures if f.done() and f.exception() is None)
