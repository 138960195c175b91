"""Segment tool for flexion / extension views (measured instability).

Four clicks on one view: the upper vertebra's inferior endplate (posterior corner, anterior
corner), then the lower vertebra's superior endplate (posterior corner, anterior corner). The
tool is created for one view ("flexion" or "extension"); the segment's upper vertebra is the
level label (Level tool) nearest to the first endplate on the same image, else ``level``
(default L4). When a level has a complete flexion and a complete extension segment,
derive_findings stores their difference as ``LevelFinding.instability_measured``.
Maths: app.geometry.instability.
"""

from __future__ import annotations

import math

from app.annotations.model import LevelLabel
from app.annotations.spine import SEGMENT_POINT_NAMES, VIEWS, SegmentMotionLines
from app.annotations.store import AnnotationStore
from app.annotations.tools.base import ClickTool, ToolContext
from app.vocabulary import Level

_LUMBAR = {lv.value: lv for lv in Level if lv is not Level.S1}


class SegmentMotionTool(ClickTool):
    id = "segment-motion"
    title = "Segment on flexion / extension"
    shortcut = "D"
    annotation_class = SegmentMotionLines
    n_points = 4

    def __init__(self, store: AnnotationStore, context: ToolContext | None = None, view: str = "flexion",
                 level: Level = Level.L4):
        super().__init__(store, context)
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
        self.view = view
        self.level = Level(level)

    def _level_here(self) -> Level:
        """The level label nearest to the first endplate point on this image, else ``level``."""
        if not self._points:
            return self.level
        c, r = self._points[0]
        labels = [a for a in self.store.of_kind(LevelLabel)
                  if self.context.is_on_this_image(a) and a.level in _LUMBAR and a.points_px]
        if not labels:
            return self.level
        nearest = min(labels, key=lambda a: math.hypot(a.points_px[0][0] - c, a.points_px[0][1] - r))
        return _LUMBAR[nearest.level]

    def _fields(self) -> dict:
        return {"level": self._level_here(), "view": self.view}

    @property
    def prompt(self) -> str:
        i = len(self._points)
        if i >= self.n_points:
            return ""
        level = self._level_here()
        below = level.below
        name = SEGMENT_POINT_NAMES[i].format(upper=level.value, lower=below.value if below is not None else "?")
        return f"Segment ({self.view}): click the {name}"


def flexion_tool(store: AnnotationStore, context: ToolContext | None = None, **options) -> SegmentMotionTool:
    return SegmentMotionTool(store, context, view="flexion", **options)


def extension_tool(store: AnnotationStore, context: ToolContext | None = None, **options) -> SegmentMotionTool:
    return SegmentMotionTool(store, context, view="extension", **options)
