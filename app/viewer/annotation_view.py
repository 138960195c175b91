"""Where an annotation appears in a view, in that view's image pixels (no Qt, no drawing here).

* Radiograph views: only annotations drawn on that very image (series, SOP instance, frame).
* Volume views (CT/MR, any plane): annotations with LPS points whose series shares the view's
  FrameOfReferenceUID (or is the same series), when every point lies within half a slice
  thickness of the displayed plane (level labels: within ``LEVEL_LABEL_REACH_MM``, so the name
  shows on every slice through the vertebral body); the points are projected onto the plane.

``editable`` is stricter: the annotation was drawn in this view's pixel frame (same image key
and its LPS points map back onto its own pixel points), so a tool may move its handles.

Pixel coordinates are (column, row) with pixel centres at integers, the convention of both
``app.annotations`` and ``ImageItem`` (so no half-pixel shift is needed here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from app.annotations.model import Annotation
from app.annotations.space import PixelSpace
from app.viewer.display import Display, RadiographDisplay, VolumeDisplay

Point = tuple[float, float]
IN_PLANE_TOLERANCE_PX = 0.5
LEVEL_LABEL_REACH_MM = 12.0  # level labels show on planes this close to their point
ImageKey = tuple[str, str, int | None]  # (series UID, SOP instance UID or "" for an MPR plane, frame)


class ShowsDisplay(Protocol):
    """A view (app.ui.viewer.SliceView) as seen from here: what it shows now, if anything."""

    @property
    def display(self) -> Display | None: ...


def view_image_key(view: ShowsDisplay) -> ImageKey:
    """(series UID, SOP instance UID or "" for an MPR plane, frame) of what ``view`` shows."""
    return display_image_key(view.display)


def display_image_key(d: Display | None) -> ImageKey:
    if isinstance(d, RadiographDisplay):
        r = d.radiograph
        return (r.series_instance_uid, r.sop_instance_uid, None)
    if isinstance(d, VolumeDisplay):
        vol = d.volume
        sop = ""
        k = d.native_k()
        if k is not None and k < len(vol.sop_instance_uids):
            sop = vol.sop_instance_uids[k]
        return (vol.series_instance_uid, sop, None)
    return ("", "", None)


def half_thickness_mm(display: VolumeDisplay) -> float:
    """Half the displayed slice thickness (never less than half the stack step, so every point
    shows on at least one slice)."""
    step = float(display.stack.step_mm or 0.0)
    return max(float(display.thickness_mm() or 0.0), step * 1.02, 1e-3) / 2.0


class ViewMapper:
    """Maps annotations into one view. ``frame_of_reference`` looks up a series' FoR UID."""

    def __init__(self, view: ShowsDisplay, frame_of_reference: Callable[[str], str | None] = lambda uid: None) -> None:
        self.view = view
        self.frame_of_reference = frame_of_reference

    @property
    def display(self) -> Display | None:
        return self.view.display

    def image_key(self) -> ImageKey:
        return view_image_key(self.view)

    def _same_frame(self, ann: Annotation, d: VolumeDisplay) -> bool:
        if ann.series_instance_uid and ann.series_instance_uid == d.volume.series_instance_uid:
            return True
        for_uid = d.frame_of_reference_uid
        return bool(for_uid) and self.frame_of_reference(ann.series_instance_uid) == for_uid

    def points(self, ann: Annotation) -> list[Point] | None:
        """The annotation's points in this view's pixels, or None when it does not show here."""
        d = self.display
        if not ann.points_px:
            return None
        if isinstance(d, RadiographDisplay):
            if ann.image_key == self.image_key() and not ann.points_lps:
                return [(float(p[0]), float(p[1])) for p in ann.points_px]
            return None
        if not isinstance(d, VolumeDisplay) or not ann.points_lps or not self._same_frame(ann, d):
            return None
        plane = d.plane
        tol = half_thickness_mm(d)
        if ann.kind == "level-label":  # a vertebra is ~40 mm wide and ~27 mm high: label its slices too
            tol = max(tol, LEVEL_LABEL_REACH_MM)
        out: list[Point] = []
        for p in ann.points_lps:
            col, row, dist = plane.lps_to_pixel(np.asarray(p, dtype=np.float64))
            if abs(dist) > tol:
                return None
            out.append((float(col), float(row)))
        return out

    def editable(self, ann: Annotation, points: Sequence[Point] | None = None) -> bool:
        """True when ``ann`` was drawn in this view's pixel frame (its handles can be moved here)."""
        if ann.image_key != self.image_key():
            return False
        pts = self.points(ann) if points is None else points
        if pts is None:
            return False
        if isinstance(self.display, RadiographDisplay):
            return True
        return len(pts) == len(ann.points_px) and all(
            abs(a[0] - b[0]) <= IN_PLANE_TOLERANCE_PX and abs(a[1] - b[1]) <= IN_PLANE_TOLERANCE_PX
            for a, b in zip(pts, ann.points_px, strict=True))


def pixel_space_for(display: Display | None) -> PixelSpace:
    """PixelSpace of what a display shows: a radiograph carries its calibration basis label and
    spacing (``PixelSpace.for_radiograph``); a volume plane maps pixels to LPS."""
    if isinstance(display, RadiographDisplay):
        return PixelSpace.for_radiograph(display.radiograph.calibration)
    if isinstance(display, VolumeDisplay) and not display.calibrated():
        return PixelSpace()  # unreliable geometry (plain grid fallback): lengths in px, never in mm
    if isinstance(display, VolumeDisplay):
        return PixelSpace.for_plane(display.plane)
    return PixelSpace()
