"""Tool base classes: a tool turns ``PointerEvent``/``KeyEvent`` sequences into store commands.

Contract for the UI adapter (one active tool per image view):

* ``tool.context`` (``ToolContext``): which image is shown (series/SOP UID, 1-based frame or
  None), its ``PixelSpace``, the 2D pixel array for ROI statistics, the reader's name and the
  hit tolerance in *image* pixels (screen tolerance / zoom). Assign a new context when the view
  changes slice or image (``tool.set_context``); an unfinished drawing is cancelled.
* ``tool.on_pointer(PointerEvent)`` and ``tool.on_key(KeyEvent)`` return True when the tool
  used the event (the view should then not pan/zoom with it).
* ``tool.preview`` is the annotation being drawn (including the point under the mouse) or
  None; ``tool.preview_changed`` fires whenever it changes; ``tool.prompt`` says what to click
  next (status bar text).
* ``tool.created`` fires (annotation) after a new annotation was added to the store (e.g. to
  open the pars-marker popup); ``tool.cancel()`` drops an unfinished drawing;
  ``tool.deactivate()`` finishes/cancels before switching tools.

Click semantics: a point is placed on the *release* of the left button (press-drag-release
places it where the button is released); right press cancels the drawing; Escape cancels;
Return/Enter finishes tools with optional points. A ``double_click`` event ends optional
point entry (its trailing release is ignored).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from app.annotations.events import KeyEvent, PointerEvent
from app.annotations.model import Annotation
from app.annotations.space import PixelSpace
from app.annotations.store import AnnotationStore, AnnT
from app.core.events import Event

__all__ = ["ClickTool", "Tool", "ToolContext"]

FINISH_KEYS = frozenset({"return", "enter"})
CANCEL_KEYS = frozenset({"escape"})


@dataclass
class ToolContext:
    series_instance_uid: str = ""
    sop_instance_uid: str = ""
    frame: int | None = None
    space: PixelSpace = field(default_factory=PixelSpace)
    image: Any = None  # 2D array [row, column], or a zero-argument callable returning one
    creator: str = ""
    hit_tolerance_px: float = 6.0

    def get_image(self) -> np.ndarray | None:
        img = self.image() if callable(self.image) else self.image
        return None if img is None else np.asarray(img)

    def make(self, cls: type[AnnT], points_px: Sequence[Sequence[float]], **fields: Any) -> AnnT:
        """A new annotation of ``cls`` on this image with these pixel points."""
        pts = tuple((float(p[0]), float(p[1])) for p in points_px)
        return cls(series_instance_uid=self.series_instance_uid, sop_instance_uid=self.sop_instance_uid,
                   frame=self.frame, points_px=pts, points_lps=self.space.points_lps(pts),
                   creator=self.creator, pixel_spacing_mm=self.space.spacing_mm,
                   calibration=self.space.display_label(), **fields)

    def is_on_this_image(self, annotation: Annotation) -> bool:
        return annotation.image_key == (self.series_instance_uid, self.sop_instance_uid, self.frame)


class Tool:
    """Base class. Subclasses implement ``_pointer``/``_key`` and set the class attributes."""

    id: ClassVar[str] = "tool"
    title: ClassVar[str] = "Tool"
    shortcut: ClassVar[str] = ""

    def __init__(self, store: AnnotationStore, context: ToolContext | None = None):
        self.store = store
        self.context = context or ToolContext()
        self.preview_changed = Event("preview_changed")
        self.created = Event("created")
        self._preview: Annotation | None = None
        self.last_created: Annotation | None = None

    # ------------------------------------------------------------------ public API
    @property
    def preview(self) -> Annotation | None:
        return self._preview

    @property
    def prompt(self) -> str:
        return ""

    @property
    def busy(self) -> bool:
        """True while a drawing or drag is in progress."""
        return False

    def on_pointer(self, event: PointerEvent) -> bool:
        return bool(self._pointer(event))

    def on_key(self, event: KeyEvent) -> bool:
        key = event.key.lower()
        if key in CANCEL_KEYS and self.busy:
            self.cancel()
            return True
        return bool(self._key(event))

    def _right_press_cancels(self, ev: PointerEvent) -> bool:
        """A right press cancels a drawing in progress (used) and is ignored otherwise."""
        if self.busy:
            self.cancel()
            return True
        return False

    def cancel(self) -> None:
        self._reset()
        self._set_preview(None)

    def deactivate(self) -> None:
        self.cancel()

    def set_context(self, context: ToolContext) -> None:
        self.deactivate()
        self.context = context

    # ------------------------------------------------------------------ for subclasses
    def _pointer(self, event: PointerEvent) -> bool:
        return False

    def _key(self, event: KeyEvent) -> bool:
        return False

    def _reset(self) -> None:
        pass

    def _set_preview(self, annotation: Annotation | None) -> None:
        if annotation is None and self._preview is None:
            return
        self._preview = annotation
        self.preview_changed.emit(annotation)

    def _commit_new(self, annotation: AnnT) -> AnnT:
        self.store.add(annotation)
        self.last_created = annotation
        self._set_preview(None)
        self.created.emit(annotation)
        return annotation


def _dist(a: Sequence[float], b: Sequence[float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


class ClickTool(Tool):
    """Places ``n_points`` points by clicks, then adds ``annotation_class`` to the store.

    With ``drag_adds_segment`` a press-drag-release while the number of placed points is even
    places two points (press and release position): e.g. a Length in one drag."""

    annotation_class: ClassVar[type] = Annotation
    n_points: ClassVar[int] = 2
    drag_adds_segment: ClassVar[bool] = False
    point_prompts: ClassVar[tuple[str, ...]] = ()

    def __init__(self, store: AnnotationStore, context: ToolContext | None = None):
        super().__init__(store, context)
        self._points: list[tuple[float, float]] = []
        self._press: tuple[float, float] | None = None
        self._ignore_release = False

    @property
    def busy(self) -> bool:
        return bool(self._points) or self._press is not None

    @property
    def points_placed(self) -> tuple[tuple[float, float], ...]:
        return tuple(self._points)

    @property
    def prompt(self) -> str:
        i = len(self._points)
        if i < len(self.point_prompts):
            return self.point_prompts[i]
        return f"{self.title}: click point {i + 1} of {self.n_points}"

    def _reset(self) -> None:
        self._points = []
        self._press = None
        self._ignore_release = False

    def _fields(self) -> dict:
        """Extra constructor fields of the annotation (subclasses)."""
        return {}

    def _build(self, points: Sequence[tuple[float, float]]) -> Annotation | None:
        if not points:
            return None
        try:
            return self.context.make(self.annotation_class, points, **self._fields())
        except ValueError:
            return None

    def _pointer(self, ev: PointerEvent) -> bool:
        p = ev.point_px
        if ev.type == "press":
            if ev.button == "right":
                return self._right_press_cancels(ev)
            if ev.button != "left":
                return False
            self._press = p
            self._set_preview(self._build([*self._points, p]))
            return True
        if ev.type == "double_click":
            self._ignore_release = True
            return self._on_double_click(p)
        if ev.type == "move":
            if self._press is not None and self.drag_adds_segment and len(self._points) % 2 == 0 \
                    and _dist(self._press, p) > self.context.hit_tolerance_px:
                self._set_preview(self._build([*self._points, self._press, p]))
            else:
                self._set_preview(self._build([*self._points, p]) if (self._points or self._press) else None)
            return self.busy
        if ev.type == "release":
            if ev.button != "left":
                return False
            if self._ignore_release:
                self._ignore_release = False
                self._press = None
                return True
            if self._press is None:
                return False
            press, self._press = self._press, None
            if self.drag_adds_segment and len(self._points) % 2 == 0 and _dist(press, p) > self.context.hit_tolerance_px:
                self._add_point(press)
                if self._points:  # not committed yet
                    self._add_point(p)
            else:
                self._add_point(p)
            return True
        return False

    def _on_double_click(self, p: tuple[float, float]) -> bool:
        return True

    def _add_point(self, p: tuple[float, float]) -> None:
        self._points.append(p)
        if len(self._points) >= self.n_points:
            ann = self._build(self._points)
            self._reset()
            if ann is not None:
                self._commit_new(ann)
            else:
                self._set_preview(None)
        else:
            self._set_preview(self._build(self._points))
