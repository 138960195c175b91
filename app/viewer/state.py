"""ViewerState: what the workstation shows, independent of widgets (layout, interaction mode,
crosshair point, linking and overlay options). Widgets bind to it; it emits past-tense
``changed(name)`` events.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from app.core.events import Event
from app.viewer.display import VolumeDisplay

LAYOUTS = {"1x1": (1, 1), "1x2": (1, 2), "2x2": (2, 2), "pars": (2, 3)}
MODES = ("wl", "pan", "zoom", "crosshair", "oblique", "tool")
MODE_TITLES = {
    "wl": "Window/level (drag)",
    "pan": "Pan (drag)",
    "zoom": "Zoom (drag)",
    "crosshair": "Crosshair (click to link views)",
    "oblique": "Tilt plane (drag to lay the plane along the pars)",
    "tool": "Annotation tool",
}


class ViewerState:
    def __init__(self) -> None:
        self.changed = Event("changed")  # emits the attribute name
        self.layout = "pars"
        self.mode = "wl"
        self.crosshair_lps: np.ndarray | None = None
        self.crosshair_for_uid: str | None = None
        self.sync_scroll = False
        self.show_overlays = True
        self.anonymise = False
        self.show_reference_lines = True
        self.active_cell = 0

    def set(self, name: str, value) -> None:
        old = getattr(self, name)
        if isinstance(old, np.ndarray) or isinstance(value, np.ndarray):
            same = old is not None and value is not None and np.array_equal(old, value)
        else:
            same = old == value
        if same:
            return
        setattr(self, name, value)
        self.changed.emit(name)

    def set_layout(self, layout: str) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
        self.set("layout", layout)

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.set("mode", mode)

    def set_crosshair(self, point_lps, frame_of_reference_uid: str | None) -> None:
        self.crosshair_for_uid = frame_of_reference_uid
        self.crosshair_lps = None  # force an event even for the same point
        self.set("crosshair_lps", np.asarray(point_lps, dtype=np.float64))


def link_to_point(displays: Iterable, point_lps, frame_of_reference_uid: str | None,
                  exclude=None) -> list:
    """Move every volume display of the same frame of reference to the slice containing the
    point; returns the displays that changed slice."""
    moved = []
    for d in displays:
        if d is None or d is exclude or not isinstance(d, VolumeDisplay):
            continue
        if frame_of_reference_uid is None or d.frame_of_reference_uid != frame_of_reference_uid:
            continue
        if d.move_to_point(point_lps):
            moved.append(d)
    return moved


def reference_line(plane_a, plane_b) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where plane_b cuts plane_a, as two (col, row) points of plane_a spanning its extent, or
    None when parallel."""
    na, nb = plane_a.normal_lps, plane_b.normal_lps
    d = np.cross(na, nb)
    if np.linalg.norm(d) < 1e-6:
        return None
    # a point on both planes: solve [na; nb; d] x = [na.pa; nb.pb; 0]
    m = np.stack([na, nb, d])
    rhs = np.array([na @ plane_a.origin_lps, nb @ plane_b.origin_lps, 0.0])
    p = np.linalg.solve(m, rhs)
    c0, r0, _ = plane_a.lps_to_pixel(p)
    c1, r1, _ = plane_a.lps_to_pixel(p + d / np.linalg.norm(d) * 1000.0)
    return (c0, r0), (c1, r1)
