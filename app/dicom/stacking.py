"""Order slices along the slice normal and derive the k axis, reporting irregularities.

Choice for gantry tilt: nothing is resampled. The k axis of the volume is the true
slice-to-slice vector (first to last slice position), so the voxel grid is sheared and
``Geometry.direction`` has a k column that is not perpendicular to the image plane. Every
voxel keeps its exact DICOM position; consumers must use the full direction matrix (as
``Geometry.ijk_to_lps`` and SimpleITK do), never assume an orthogonal grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from app.dicom.median import median

DUPLICATE_TOLERANCE_MM = 0.01
GAP_FACTOR = 1.5
TILT_MIN_DEG = 0.05


@dataclass
class StackPlan:
    order: list[int]  # input indices kept, in k order
    k_index: list[int]  # target k of each kept slice (gaps leave blank k's)
    n_k: int
    origin_lps: np.ndarray
    k_axis_lps: np.ndarray  # unit vector of the k axis (tilted when the gantry was tilted)
    spacing_k_mm: float
    tilt_deg: float = 0.0
    dropped: list[int] = field(default_factory=list)  # duplicates not kept
    warnings: list[str] = field(default_factory=list)


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def plan_stack(positions_lps: np.ndarray, normal: np.ndarray, labels: Sequence[str] = (),
               thickness_mm: float | None = None) -> StackPlan:
    """Plan the k order of slices at ``positions_lps`` (N, 3) with unit slice ``normal``.
    ``labels`` name slices in warnings (e.g. file names). Input order is irrelevant except to
    decide which of two duplicated positions is kept (the first)."""
    pos = np.asarray(positions_lps, dtype=np.float64).reshape(-1, 3)
    normal = np.asarray(normal, dtype=np.float64)
    labels = list(labels) or [f"slice {i + 1}" for i in range(len(pos))]
    d = pos @ normal
    d_list = d.tolist()  # Python floats: the same values, without a numpy scalar per slice (~1 us each)
    rounded = [round(x, 4) for x in d_list]
    order = sorted(range(len(pos)), key=rounded.__getitem__)  # stable: equal keys stay in input order
    warnings: list[str] = []

    kept: list[int] = []
    dropped: list[int] = []
    for i in order:
        if kept and abs(d_list[i] - d_list[kept[-1]]) < DUPLICATE_TOLERANCE_MM:
            dropped.append(i)
            continue
        kept.append(i)
    if dropped:
        names = ", ".join(labels[i] for i in dropped[:5]) + (" ..." if len(dropped) > 5 else "")
        warnings.append(f"{len(dropped)} duplicated slice position(s): kept one image per position, "
                        f"left out {names}")

    dk = d[kept]
    n = len(kept)
    if n == 1:
        spacing = float(thickness_mm) if thickness_mm and thickness_mm > 0 else 1.0
        return StackPlan(kept, [0], 1, pos[kept[0]].copy(), normal.copy(), spacing, 0.0, dropped, warnings)

    diffs = np.diff(dk)
    med = median(diffs)
    ratio = (dk - dk[0]) / med
    ks = np.rint(ratio).astype(int)
    # blank slices fill gaps only when that costs at most as many slices as there are real ones
    regular = bool(np.max(np.abs(ratio - ks)) < 0.2 and np.all(np.diff(ks) >= 1)
                   and ks[-1] + 1 - n <= max(4, n))

    gaps = np.nonzero(diffs > GAP_FACTOR * med)[0]
    for g in gaps[:10]:
        missing = max(1, int(round(diffs[g] / med)) - 1)
        warnings.append(
            f"missing slice(s): gap of {_fmt(diffs[g])} mm between slices at {_fmt(dk[g])} and "
            f"{_fmt(dk[g + 1])} mm along the normal (usual spacing {_fmt(med)} mm), about {missing} "
            f"slice(s) missing" + ("; blank slices keep the distances right" if regular else ""))
    if len(gaps) > 10:
        warnings.append(f"... and {len(gaps) - 10} more gaps")

    total = float(dk[-1] - dk[0])
    if regular:
        step = total / ks[-1]
        k_index = [int(k) for k in ks]
    else:
        step = total / (n - 1)
        k_index = list(range(n))
    deviation = float(np.max(np.abs(dk - (dk[0] + np.asarray(k_index) * step))))
    steps = diffs / np.maximum(np.diff(k_index), 1)
    if deviation > max(DUPLICATE_TOLERANCE_MM, 0.01 * step) or (
            float(np.max(steps) - np.min(steps)) > max(0.02, 0.02 * step) and not len(gaps)):
        warnings.append(
            f"non-uniform slice spacing ({_fmt(float(np.min(diffs)))} to {_fmt(float(np.max(diffs)))} mm): "
            f"the volume uses {_fmt(step)} mm, so slice positions are off by up to {_fmt(deviation)} mm")

    v = pos[kept[-1]] - pos[kept[0]]
    along = float(v @ normal)
    lateral = float(np.linalg.norm(v - along * normal))
    tilt = math.degrees(math.atan2(lateral, along)) if along > 0 else 0.0
    n_k = int(k_index[-1]) + 1
    if tilt > TILT_MIN_DEG:
        k_axis = v / np.linalg.norm(v)
        spacing = float(np.linalg.norm(v)) / k_index[-1]
        warnings.append(
            f"gantry tilt of {tilt:.1f} degrees: slices are shifted sideways from one to the next; the "
            f"volume keeps the true slice-to-slice step ({_fmt(spacing)} mm along a tilted axis), "
            f"nothing was resampled")
    else:
        tilt = 0.0
        k_axis = normal.copy()
        spacing = step
    return StackPlan(kept, k_index, n_k, pos[kept[0]].copy(), k_axis, spacing, tilt, dropped, warnings)
