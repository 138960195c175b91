"""Ellipse ROI tool: press at one corner of the bounding box, drag, release at the opposite
corner. Pixel statistics are measured on ``context.image``. ``tool.role`` ("edema" |
"reference" | "generic"), ``tool.level`` and ``tool.side`` are stamped on the new ROI (an edema
ROI with a level/side feeds that pars finding's signal ratio)."""

from __future__ import annotations

from app.annotations.events import PointerEvent
from app.annotations.model import EllipseROI
from app.annotations.tools.base import Tool
from app.vocabulary import Level, Side


class RoiToolMixin:
    role: str = "generic"
    level: Level | None = None
    side: Side | None = None

    def _roi_fields(self) -> dict:
        return {"role": self.role, "level": self.level, "side": self.side}


class EllipseRoiTool(RoiToolMixin, Tool):
    id = "ellipse"
    title = "Ellipse ROI"
    shortcut = "E"
    min_size_px = 1.0

    def __init__(self, store, context=None):
        super().__init__(store, context)
        self._start: tuple[float, float] | None = None

    @property
    def busy(self) -> bool:
        return self._start is not None

    @property
    def prompt(self) -> str:
        return "Ellipse ROI: drag from corner to corner" if self._start is None else "Ellipse ROI: release to finish"

    def _reset(self) -> None:
        self._start = None

    def _build(self, p0, p1) -> EllipseROI:
        return self.context.make(EllipseROI, [p0, p1], **self._roi_fields())

    def _pointer(self, ev: PointerEvent) -> bool:
        if ev.type == "press":
            if ev.button == "right" and self.busy:
                self.cancel()
                return True
            if ev.button != "left":
                return False
            self._start = ev.point_px
            return True
        if self._start is None:
            return False
        if ev.type == "move":
            self._set_preview(self._build(self._start, ev.point_px).with_stats(self.context.get_image()))
            return True
        if ev.type == "release" and ev.button == "left":
            start, self._start = self._start, None
            p = ev.point_px
            if abs(p[0] - start[0]) < self.min_size_px or abs(p[1] - start[1]) < self.min_size_px:
                self._set_preview(None)  # a click, not a drag: no ROI
                return True
            self._commit_new(self._build(start, p).with_stats(self.context.get_image()))
            return True
        return False
