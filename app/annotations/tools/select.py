"""Select / move-handle / delete tool, and the hit-testing it uses.

* press on a handle (a control point within ``context.hit_tolerance_px`` image pixels) of an
  annotation on the current image selects it and starts dragging that handle; press on the
  body (a line within tolerance, or inside an ROI) selects it and starts moving all of its
  points; press on nothing clears the selection. Shift/Control add to / toggle the selection.
* move while dragging shows the change live (``store.preview_update``: ``changed`` fires, no
  undo entry); release commits one undoable ``UpdateAnnotation``; Escape during a drag reverts.
* Delete / Backspace removes the selection (one undo step); Escape clears the selection.

Moved points get new LPS coordinates from ``context.space``; ROI statistics are re-measured on
``context.image``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from app.annotations.events import KeyEvent, PointerEvent
from app.annotations.model import (
    L5_EP_1,
    L5_EP_2,
    L5_PI,
    L5_WALL_TOP,
    S1_AS,
    S1_PS,
    S1_WALL,
    Angle,
    Annotation,
    ArrowText,
    CobbAngle,
    EllipseROI,
    FreehandROI,
    Length,
    MeyerdingSlip,
)
from app.annotations.tools.base import Tool

__all__ = ["SelectTool", "hit_body", "hit_handle", "segments_px"]

Point = tuple[float, float]


def segments_px(ann: Annotation) -> list[tuple[Point, Point]]:
    """The line segments an annotation is drawn with (for body hit-testing)."""
    p = ann.points_px
    if isinstance(ann, (Length, ArrowText)) and len(p) == 2:
        return [(p[0], p[1])]
    if isinstance(ann, Angle) and len(p) == 3:
        return [(p[0], p[1]), (p[1], p[2])]
    if isinstance(ann, CobbAngle) and len(p) == 4:
        return [(p[0], p[1]), (p[2], p[3])]
    if isinstance(ann, FreehandROI) and len(p) >= 2:
        return [(p[i], p[(i + 1) % len(p)]) for i in range(len(p))]
    if isinstance(ann, MeyerdingSlip):
        pos = dict(zip(ann.roles, p, strict=True))
        pairs = [(S1_PS, S1_AS), (L5_EP_1, L5_EP_2), (S1_PS, S1_WALL), (L5_PI, L5_WALL_TOP)]
        return [(pos[a], pos[b]) for a, b in pairs if a in pos and b in pos]
    return []


def _point_segment_distance(q: Sequence[float], a: Sequence[float], b: Sequence[float]) -> float:
    qa = np.subtract(q, a)
    ab = np.subtract(b, a)
    denom = float(ab @ ab)
    t = 0.0 if denom == 0 else min(1.0, max(0.0, float(qa @ ab) / denom))
    return float(np.linalg.norm(qa - t * ab))


def hit_handle(annotations: Sequence[Annotation], point_px: Sequence[float], tolerance_px: float
               ) -> tuple[Annotation, int] | None:
    """The (annotation, point index) whose control point is nearest to ``point_px`` within
    the tolerance; later (top-most) annotations win ties."""
    best = None
    best_d = tolerance_px
    for ann in annotations:
        for i, q in enumerate(ann.points_px):
            d = math.dist(q, point_px)
            if d <= best_d:
                best, best_d = (ann, i), d
    return best


def hit_body(ann: Annotation, point_px: Sequence[float], tolerance_px: float) -> bool:
    """True when ``point_px`` is on the annotation: near one of its segments or points, or
    inside an ROI."""
    if any(math.dist(q, point_px) <= tolerance_px for q in ann.points_px):
        return True
    if any(_point_segment_distance(point_px, a, b) <= tolerance_px for a, b in segments_px(ann)):
        return True
    if isinstance(ann, EllipseROI) and len(ann.points_px) == 2:
        (cx, cy), (rx, ry) = ann.center_px, ann.radii_px
        rx, ry = rx + tolerance_px, ry + tolerance_px
        return ((point_px[0] - cx) / rx) ** 2 + ((point_px[1] - cy) / ry) ** 2 <= 1.0
    if isinstance(ann, FreehandROI) and len(ann.points_px) >= 3:
        return _inside_polygon(point_px, ann.points_px)
    return False


def _inside_polygon(q: Sequence[float], poly: Sequence[Point]) -> bool:
    x, y = q
    inside = False
    xj, yj = poly[-1]
    for xi, yi in poly:
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        xj, yj = xi, yi
    return inside


class SelectTool(Tool):
    id = "select"
    title = "Select / edit"
    shortcut = "S"

    def __init__(self, store, context=None):
        super().__init__(store, context)
        self._drag_id: str | None = None
        self._drag_handle: int | None = None  # None = move the whole annotation
        self._drag_start: Point | None = None
        self._drag_original: Annotation | None = None

    @property
    def busy(self) -> bool:
        return self._drag_id is not None

    @property
    def prompt(self) -> str:
        return "Select: click an annotation; drag a handle to move it; Delete removes the selection"

    def _visible(self) -> list[Annotation]:
        return [a for a in self.store if self.context.is_on_this_image(a)]

    def _reset(self) -> None:
        if self._drag_id is not None:
            self.store.revert_preview(self._drag_id)
        self._drag_id = self._drag_handle = self._drag_start = self._drag_original = None

    def _moved(self, p: Point) -> Annotation:
        orig, start = self._drag_original, self._drag_start
        if orig is None or start is None:
            raise RuntimeError("select: no drag in progress")
        pts = list(orig.points_px)
        if self._drag_handle is None:
            dx, dy = p[0] - start[0], p[1] - start[1]
            pts = [(q[0] + dx, q[1] + dy) for q in pts]
        else:
            pts[self._drag_handle] = p
        ann = orig.with_points(pts, self.context.space)
        if isinstance(ann, (EllipseROI, FreehandROI)):
            ann = ann.with_stats(self.context.get_image())  # no image: stale stats are cleared
        return ann

    def _pointer(self, ev: PointerEvent) -> bool:
        p = ev.point_px
        tol = self.context.hit_tolerance_px
        if ev.type == "press" and ev.button == "left":
            visible = self._visible()
            hit = hit_handle(visible, p, tol)
            target, handle = (hit if hit else (None, None))
            if target is None:
                for ann in reversed(visible):
                    if hit_body(ann, p, tol):
                        target = ann
                        break
            additive = bool(ev.modifiers & {"shift", "control", "meta"})
            if target is None:
                if not additive:
                    self.store.clear_selection()
                return False
            if additive:
                self.store.toggle_selection(target.id)
            elif target.id not in self.store.selection:
                self.store.select([target.id])
            self._drag_id = target.id
            self._drag_handle = handle
            self._drag_start = p
            self._drag_original = target
            return True
        if self._drag_id is None:
            return False
        if ev.type == "move":
            if self.store.get(self._drag_id) is None:
                self._drag_id = None
                return False
            self.store.preview_update(self._moved(p))
            return True
        if ev.type == "release" and ev.button == "left":
            aid, start = self._drag_id, self._drag_start
            if self.store.get(aid) is None:
                self._drag_id = None
                return True
            final = self._moved(p) if start is not None and math.dist(p, start) > 0 else None
            self._drag_id = self._drag_handle = self._drag_start = self._drag_original = None
            if final is None:
                self.store.revert_preview(aid)
            else:
                self.store.update(final)
            return True
        return False

    def _key(self, ev: KeyEvent) -> bool:
        key = ev.key.lower()
        if key in ("delete", "backspace") and self.store.selection:
            self.store.remove_many(sorted(self.store.selection))
            return True
        if key == "escape" and self.store.selection:
            self.store.clear_selection()
            return True
        return False
