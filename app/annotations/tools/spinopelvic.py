"""Spino-pelvic tool (standing lateral radiograph): PI, PT, SS and LL, live.

Clicks, in order (``tool.prompt`` says which is next): 1-2 the two femoral head centres (click
the same point twice when the heads superimpose), 3 the S1 superior endplate posterior corner,
4 its anterior corner; then optionally 5-6 the L1 superior endplate posterior and anterior
corner for the lumbar lordosis. The annotation is added after point 4 when Return/Enter or a
double click ends the entry, or after point 6. While the mouse moves, ``tool.preview`` is a
``SpinoPelvicLines`` whose ``angles`` follow the pointer. Maths: app.geometry.spinopelvic.
"""

from __future__ import annotations

from app.annotations.events import KeyEvent
from app.annotations.spine import SPINOPELVIC_MIN_POINTS, SPINOPELVIC_POINT_NAMES, SpinoPelvicLines
from app.annotations.tools.base import FINISH_KEYS, ClickTool


class SpinoPelvicTool(ClickTool):
    id = "spinopelvic"
    title = "Spino-pelvic parameters"
    shortcut = "I"
    annotation_class = SpinoPelvicLines
    n_points = 6
    point_prompts = tuple(
        f"Spino-pelvic: click the {name}" + (" (Enter to finish without lordosis)" if i == SPINOPELVIC_MIN_POINTS else "")
        for i, name in enumerate(SPINOPELVIC_POINT_NAMES))

    def finish(self) -> SpinoPelvicLines | None:
        """Add the annotation with the points placed so far (at least four); else keep drawing."""
        if len(self._points) < SPINOPELVIC_MIN_POINTS:
            return None
        points = self._points[:SPINOPELVIC_MIN_POINTS] if len(self._points) == 5 else list(self._points)
        ann = self._build(points)
        self._reset()
        if not isinstance(ann, SpinoPelvicLines) or not ann.is_complete:
            self._set_preview(None)
            return None
        return self._commit_new(ann)

    def _on_double_click(self, p) -> bool:
        self.finish()
        return True

    def _key(self, ev: KeyEvent) -> bool:
        if ev.key.lower() in FINISH_KEYS and len(self._points) >= SPINOPELVIC_MIN_POINTS:
            self.finish()
            return True
        return False
