"""Freehand ROI tool: press, move (points are added every ``min_step_px``), release closes the
polygon. Needs at least three points; statistics are measured on ``context.image``."""

from __future__ import annotations

import math

from app.annotations.events import PointerEvent
from app.annotations.model import FreehandROI
from app.annotations.tools.base import Tool
from app.annotations.tools.ellipse import RoiToolMixin


class FreehandRoiTool(RoiToolMixin, Tool):
    id = "freehand"
    title = "Freehand ROI"
    shortcut = "F"
    min_step_px = 1.0

    def __init__(self, store, context=None):
        super().__init__(store, context)
        self._points: list[tuple[float, float]] = []
        self._drawing = False

    @property
    def busy(self) -> bool:
        return self._drawing

    @property
    def prompt(self) -> str:
        return "Freehand ROI: hold the button and draw the outline; release to close"

    def _reset(self) -> None:
        self._points = []
        self._drawing = False

    def _build(self) -> FreehandROI:
        return self.context.make(FreehandROI, self._points, **self._roi_fields())

    def _pointer(self, ev: PointerEvent) -> bool:
        if ev.type == "press":
            if ev.button == "right" and self.busy:
                self.cancel()
                return True
            if ev.button != "left":
                return False
            self._points = [ev.point_px]
            self._drawing = True
            self._set_preview(self._build())
            return True
        if not self._drawing:
            return False
        if ev.type == "move":
            last = self._points[-1]
            if math.dist(last, ev.point_px) >= self.min_step_px:
                self._points.append(ev.point_px)
                self._set_preview(self._build())
            return True
        if ev.type == "release" and ev.button == "left":
            if math.dist(self._points[-1], ev.point_px) > 1e-9:
                self._points.append(ev.point_px)
            ann = self._build()
            self._reset()
            if ann.is_complete and (ann.area or 0) > 0:
                self._commit_new(ann.with_stats(self.context.get_image()))
            else:
                self._set_preview(None)
            return True
        return False
