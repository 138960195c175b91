"""Split a single-frame stack whose slices form far-apart clusters (slabs) into separate stacks.

One regular grid through two slabs either needs more blank slices than real ones or forces the
slices off their true positions; a separate stack per slab keeps every slice where it was
acquired. A gap counts as far when it is more than CLUSTER_GAP_FACTOR times the usual spacing
and the spacing next to it on either side (shorter gaps stay in one stack: missing slices or
variable spacing, reported by the stacking)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from app.dicom import classify
from app.dicom.median import median

Record = tuple[Any, Any]  # (InstanceHeader, header dataset)
Part = tuple[list[Record], str]

CLUSTER_GAP_FACTOR = 5.0
_SAME_MM = 1e-3


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _far_gaps(diffs: np.ndarray, usual: float) -> np.ndarray:
    """Per gap: it separates slabs, being far beyond the usual spacing and the spacing on both
    sides of it (a helical series that changes from 1 mm to 7 mm spacing is one stack, not one
    per slice). All gaps in one array step (one at a time it was ~1 us of numpy scalars each)."""
    left = np.concatenate(([usual], diffs[:-1]))
    right = np.concatenate((diffs[1:], [usual]))
    local = np.maximum(np.maximum(left, right), usual)
    return diffs > CLUSTER_GAP_FACTOR * local


def split_unknown_positions(members: list[Record]) -> list[Part]:
    """Images without a usable ImagePositionPatient (absent, non-finite, absurd) apart from the
    images of the same stack that have one, so one damaged header cannot void the geometry of all."""
    unknown = [r for r in members if r[0].image_position_lps is None and r[0].number_of_frames <= 1]
    if not unknown or len(unknown) == len(members):
        return [(members, "")]
    known = [r for r in members if not (r[0].image_position_lps is None and r[0].number_of_frames <= 1)]
    return [(known, "position known"), (unknown, "position unknown (no usable ImagePositionPatient)")]


def split_clusters(members: list[Record]) -> list[Part]:
    """Parts of ``members``, one per slab, labelled with its extent and the gap to the next;
    ``[(members, "")]`` when the slices are not in far-apart clusters (or have no geometry)."""
    headers = [r[0] for r in members]
    if len(members) < 3 or any(h.number_of_frames > 1 or h.image_position_lps is None for h in headers):
        return [(members, "")]
    iop = headers[0].image_orientation
    normal = classify.orientation_normal(iop) if iop is not None else None
    if normal is None:
        return [(members, "")]
    d = np.asarray([h.image_position_lps for h in headers], dtype=np.float64) @ normal
    order = np.argsort(d, kind="stable")
    ds = d[order]
    diffs = np.diff(ds)
    steps = diffs[diffs > _SAME_MM]
    if steps.size < 2:
        return [(members, "")]
    usual = median(steps)
    cuts = (np.flatnonzero(_far_gaps(diffs, usual)) + 1).tolist()
    if not cuts:
        return [(members, "")]
    bounds = [0, *cuts, len(order)]
    parts: list[Part] = []
    for n, (a, b) in enumerate(itertools.pairwise(bounds), start=1):
        group = [members[i] for i in order[a:b]]
        label = (f"position slab {n} of {len(bounds) - 1}: {b - a} slice(s) from {_fmt(ds[a])} to "
                 f"{_fmt(ds[b - 1])} mm along the normal")
        if b < len(order):
            label += f", {_fmt(ds[b] - ds[b - 1])} mm gap to the next slab (usual spacing {_fmt(usual)} mm)"
        parts.append((group, label))
    return parts
