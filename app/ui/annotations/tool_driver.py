"""ToolDriver: the SliceView interaction hook that drives the Qt-free annotation tools.

``SliceView.set_tool_driver(driver)`` makes every view hand its mouse events (as
``app.annotations.events.PointerEvent``, image pixel + LPS) to ``handle(event, view)`` while the
viewer is in "tool" mode. The driver passes them to the active tool, keeps the tool's
``ToolContext`` in step with the view (image, plane, pixel spacing / calibration, zoom -> hit
tolerance), shows the tool's live preview as an item on
that view, and opens the completion popups (pars marker, arrow text, level label).
Key presses reach it through an event filter installed on each view (``install_on(view)``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal

from app.annotations.events import KeyEvent, PointerEvent
from app.annotations.model import Annotation, ArrowText, EllipseROI, FreehandROI, LevelLabel, ParsMarker
from app.annotations.spine import SegmentMotionLines
from app.annotations.tools import (
    ToolContext,
    ToolRegistry,
    cancel_pending_marker,
    complete_pars_marker,
    set_annotation_text,
    set_level_label,
)
from app.ui.annotations.items import AnnotationItem, make_item
from app.ui.annotations.popups import SEGMENT_UPPER_CHOICES, LevelLabelPopup, ParsMarkerPopup, TextPopup
from app.viewer.annotation_view import ViewMapper, pixel_space_for, view_image_key
from app.viewer.display import RadiographDisplay, VolumeDisplay

HIT_TOLERANCE_SCREEN_PX = 6.0
_KEYS = {Qt.Key.Key_Delete: "Delete", Qt.Key.Key_Backspace: "Backspace", Qt.Key.Key_Escape: "Escape",
         Qt.Key.Key_Return: "Return", Qt.Key.Key_Enter: "Enter"}


@dataclasses.dataclass
class ViewToolContext(ToolContext):
    """A ToolContext that knows its view: annotations are "on this image" when they were drawn
    in the view's pixel frame and lie on the displayed plane (``ViewMapper.editable``)."""

    mapper: ViewMapper | None = None

    def is_on_this_image(self, annotation: Annotation) -> bool:
        if self.mapper is None:
            return super().is_on_this_image(annotation)
        return self.mapper.editable(annotation)


def screen_px_per_image_px(view: Any) -> float:
    a = view.viewport_point_of_pixel(0.0, 0.0)
    b = view.viewport_point_of_pixel(1.0, 0.0)
    c = view.viewport_point_of_pixel(0.0, 1.0)
    return max(1e-6, min(math.hypot(b.x() - a.x(), b.y() - a.y()), math.hypot(c.x() - a.x(), c.y() - a.y())))


def context_key(view: Any) -> tuple:
    d = view.display
    key = (id(view), view_image_key(view), type(d).__name__)
    if isinstance(d, VolumeDisplay):
        p = d.plane
        key += (d.orientation, d.index, tuple(np.round(p.origin_lps, 4)), tuple(np.round(p.normal_lps, 6)),
                float(d.slab_mm))
    return key


def build_context(view: Any, creator: str = "", frame_of_reference: Callable[[str], str | None] = lambda u: None
                  ) -> ViewToolContext | None:
    """The ToolContext for what ``view`` shows now (None for an empty or preview-only view)."""
    d = view.display
    if not isinstance(d, (RadiographDisplay, VolumeDisplay)):
        return None
    series, sop, frame = view_image_key(view)
    cache: dict[str, np.ndarray] = {}

    def image(d: RadiographDisplay | VolumeDisplay = d) -> np.ndarray:
        if "img" not in cache:
            cache["img"] = d.radiograph.array if isinstance(d, RadiographDisplay) else d.raw()
        return cache["img"]

    return ViewToolContext(series_instance_uid=series, sop_instance_uid=sop, frame=frame,
                           space=pixel_space_for(d), image=image, creator=creator,
                           hit_tolerance_px=HIT_TOLERANCE_SCREEN_PX / screen_px_per_image_px(view),
                           mapper=ViewMapper(view, frame_of_reference))


def segment_level_popup(parent: Any, ann: SegmentMotionLines) -> LevelLabelPopup:
    """Which segment a flexion/extension measurement is of: its upper vertebra, L1-L5."""
    return LevelLabelPopup(parent, ann.level.value, choices=SEGMENT_UPPER_CHOICES,
                           title=f"<b>Segment ({ann.view})</b>: upper vertebra (L4 = L4-L5)")


def default_pars_side(view: Any):
    """A sensible preset for the popup: the side a pars sagittal / oblique radiograph shows."""
    from app.findings.model import Side

    cell = getattr(view, "cell", None)
    ps = getattr(cell, "pars_side", None) if cell is not None else None
    if ps in ("left", "right"):
        return Side(ps)
    d = view.display
    if isinstance(d, RadiographDisplay):
        v = getattr(getattr(d.radiograph, "view", None), "value", "")
        if v == "left oblique":
            return Side.LEFT
        if v == "right oblique":
            return Side.RIGHT
    return None


class ToolDriver(QObject):
    """The active annotation tool, fed by every view (see module docstring)."""

    sig_prompt = Signal(str)
    sig_tool_changed = Signal(str)  # tool id, "" when none
    sig_popup = Signal(object)  # a popup was opened (tests complete it)

    def __init__(self, store_getter: Callable[[], Any], registry: ToolRegistry | None = None,
                 frame_of_reference: Callable[[str], str | None] = lambda uid: None,
                 creator: Callable[[], str] = lambda: "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.registry = registry or ToolRegistry.default()
        self._store_getter = store_getter
        self.frame_of_reference = frame_of_reference
        self.creator = creator
        self.tool = None
        self.tool_id = ""
        self.view = None  # the view the tool's context belongs to
        self._ctx_key: tuple | None = None
        self._preview_item: AnnotationItem | None = None
        self.popup = None
        self._last_pos: QPoint | None = None
        self.enabled = True
        self.pars_defaults: dict = {}
        self.roi_role = "generic"  # role stamped on new ellipse / freehand ROIs

    @property
    def store(self):
        return self._store_getter()

    # ---- tools -----------------------------------------------------------------------------
    def activate(self, tool_id: str) -> None:
        if tool_id == self.tool_id and self.tool is not None:
            return
        self.deactivate()
        if self.store is None:
            return
        self.tool = self.registry.create(tool_id, self.store, None)
        self.tool_id = tool_id
        if hasattr(self.tool, "role"):
            self.tool.role = self.roi_role
        self.tool.preview_changed.connect(self._on_preview)
        self.tool.created.connect(self._on_created)
        self._ctx_key = None
        self.view = None
        self.sig_tool_changed.emit(tool_id)
        self.sig_prompt.emit(self.tool.prompt or self.tool.title)

    def deactivate(self) -> None:
        if self.tool is not None:
            try:
                self.tool.deactivate()
            finally:
                self.tool.preview_changed.disconnect(self._on_preview)
                self.tool.created.disconnect(self._on_created)
        self.tool = None
        self._clear_preview()
        if self.tool_id:
            self.tool_id = ""
            self.sig_tool_changed.emit("")
        self.sig_prompt.emit("")

    def set_roi_role(self, role: str) -> None:
        """"generic", "edema" (asks level and side after drawing: feeds that pars finding's signal
        ratio) or "reference" (normal marrow)."""
        self.roi_role = role
        if self.tool is not None and hasattr(self.tool, "role"):
            self.tool.role = role

    def store_replaced(self) -> None:
        """The session (and its store) changed: recreate the active tool on the new store."""
        tid = self.tool_id
        self._close_popup()
        self.deactivate()
        if tid:
            self.activate(tid)

    # ---- context ---------------------------------------------------------------------------
    def _ensure_context(self, view: Any) -> bool:
        key = context_key(view)
        if key != self._ctx_key or self.view is not view:
            ctx = build_context(view, self.creator(), self.frame_of_reference)
            if ctx is None:
                return False
            self.tool.set_context(ctx)
            self._ctx_key = key
            self.view = view
        else:  # zoom may have changed
            self.tool.context.hit_tolerance_px = HIT_TOLERANCE_SCREEN_PX / screen_px_per_image_px(view)
        return True

    # ---- SliceView hook --------------------------------------------------------------------
    def handle(self, ev: PointerEvent, view: Any) -> bool:
        """``SliceView`` tool hook (True = consumed)."""
        if self.tool is None or not self.enabled or self.popup is not None:
            return False
        if not self._ensure_context(view):
            return False
        col, row = ev.point_px
        vp = view.viewport_point_of_pixel(col, row)
        self._last_pos = view.viewport().mapToGlobal(vp.toPoint())
        if ev.type == "double_click" and self.tool_id == "select" and self.edit_at(view, (col, row)):
            return True
        used = self.tool.on_pointer(ev)
        self.sig_prompt.emit(self.tool.prompt if self.tool is not None else "")
        view.viewport().update()
        return bool(used)

    def send_pointer(self, view: Any, etype: str, col: float, row: float, button: str = "left",
                     modifiers: frozenset[str] = frozenset()) -> bool:
        """Drive the active tool programmatically at an image pixel of ``view`` (scripts, demos)."""
        d = view.display
        lps = d.pixel_to_lps(col, row) if d is not None else None
        return self.handle(PointerEvent(etype, (col, row), None if lps is None else tuple(lps), button, modifiers), view)

    def key(self, view: Any, key_name: str, modifiers: frozenset = frozenset()) -> bool:
        if self.tool is None or not self.enabled or self.popup is not None:
            return False
        if self.view is not view and not self._ensure_context(view):
            return False
        used = self.tool.on_key(KeyEvent(key_name, modifiers))
        self.sig_prompt.emit(self.tool.prompt if self.tool is not None else "")
        view.viewport().update()
        return bool(used)

    def install_on(self, view: Any) -> None:
        view.installEventFilter(self)

    def detach(self, views) -> None:
        """Drop every link to the views and the store (window closing)."""
        self._close_popup()
        self.deactivate()
        for v in views:
            v.removeEventFilter(self)
            v.set_tool_driver(None)
        self._store_getter = lambda: None
        self.frame_of_reference = lambda uid: None
        self.view = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and self.tool is not None:
            name = _KEYS.get(event.key())
            if name is not None and getattr(getattr(obj, "state", None), "mode", "") == "tool":
                mods = set()
                m = event.modifiers()
                if m & Qt.KeyboardModifier.ShiftModifier:
                    mods.add("shift")
                if m & Qt.KeyboardModifier.ControlModifier:
                    mods.add("control")
                return self.key(obj, name, frozenset(mods))
        return False

    # ---- preview ---------------------------------------------------------------------------
    def _clear_preview(self) -> None:
        item = self._preview_item
        self._preview_item = None
        if item is not None:
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)
            if self.view is not None:
                self.view.viewport().update()

    def _on_preview(self, ann: Annotation | None) -> None:
        view = self.view
        if ann is None or view is None:
            self._clear_preview()
            return
        item = self._preview_item
        if item is not None and item.kind == ann.kind and item.parentItem() is view.annotation_layer:
            item.set_annotation(ann)
        else:
            self._clear_preview()
            self._preview_item = make_item(ann, ViewMapper(view, self.frame_of_reference), view.annotation_layer,
                                           preview=True)
        view.viewport().update()

    @property
    def preview_item(self) -> AnnotationItem | None:
        return self._preview_item

    # ---- editing an existing annotation (select tool, double click) ------------------------
    def edit_at(self, view: Any, point_px: tuple[float, float]) -> bool:
        """Open the popup of the pars marker / level label / arrow under ``point_px`` (image
        pixels of ``view``): change a marker's level, side or status, rename a vertebra (the
        inferred names follow), edit an arrow's text. Each edit is one undo step."""
        from app.annotations.tools import hit_body

        store = self.store
        ctx = self.tool.context if self.tool is not None else None
        if store is None or ctx is None:
            return False
        tol = ctx.hit_tolerance_px
        hits = [a for a in store if isinstance(a, (ParsMarker, LevelLabel, ArrowText, SegmentMotionLines))
                and ctx.is_on_this_image(a) and hit_body(a, point_px, tol * 1.5)]
        if not hits:
            return False
        ann = hits[-1]
        if isinstance(ann, ParsMarker):
            popup = ParsMarkerPopup(self._popup_parent(), ann.level, ann.side, ann.status)
            def edit_marker(lv, sd, st, aid=ann.id) -> None:
                if store.get(aid) is not None:
                    complete_pars_marker(store, aid, lv, sd, st)

            popup.accepted.connect(edit_marker)
        elif isinstance(ann, LevelLabel):
            popup = LevelLabelPopup(self._popup_parent(), ann.level)
            popup.accepted.connect(self._level_setter(store, ann.id))
        elif isinstance(ann, SegmentMotionLines):
            popup = segment_level_popup(self._popup_parent(), ann)
            popup.accepted.connect(self._segment_level_setter(store, ann.id))
        else:
            popup = TextPopup(self._popup_parent(), text=ann.label)
            def edit_text(text, aid=ann.id) -> None:
                if store.get(aid) is not None:
                    set_annotation_text(store, aid, text.strip())

            popup.accepted.connect(edit_text)
        self.tool.cancel()
        self._open(popup)
        return True

    # ---- popups after creation -------------------------------------------------------------
    def _level_setter(self, store: Any, aid: str) -> Callable[[Any], None]:
        """What a level-label popup's choice does: name the label (if it still exists); a level
        the rules refuse is told on the prompt line."""
        def set_level(level: Any) -> None:
            if store.get(aid) is not None:
                try:
                    set_level_label(store, aid, level)
                except ValueError as exc:
                    self.sig_prompt.emit(f"Level label: {exc}")

        return set_level

    def _segment_level_setter(self, store: Any, aid: str) -> Callable[[Any], None]:
        """A segment popup's choice: the segment's upper vertebra (one undo step with the segment
        when it was just drawn)."""
        def set_level(level: Any) -> None:
            cur = store.get(aid)
            if cur is not None and cur.level.value != level:
                new = cur.touched(level=level)
                if not store.replace_last_add(new):
                    store.update(new)

        return set_level

    def _popup_parent(self):
        return self.view.window() if self.view is not None else None

    def _open(self, popup) -> None:
        self.popup = popup
        # bound methods, not closures over the popup: no Python cycle keeps a dead popup around
        popup.accepted.connect(self._popup_closed)
        popup.cancelled.connect(self._popup_closed)
        pos = self._last_pos or (self.view.viewport().mapToGlobal(QPoint(20, 20)) if self.view else QPoint(0, 0))
        popup.show_at(pos)
        self.sig_popup.emit(popup)

    def _popup_closed(self, *_args) -> None:
        self._popup_gone(self.popup)

    def _popup_gone(self, popup) -> None:
        if popup is not None and self.popup is popup:
            self.popup = None
            if self.view is not None:
                self.view.setFocus()
                self.view.viewport().update()

    def _close_popup(self) -> None:
        p = self.popup
        if p is not None:
            self.popup = None
            with contextlib.suppress(RuntimeError):
                p.cancel()

    def _on_created(self, ann: Annotation) -> None:
        store = self.store
        if isinstance(ann, ParsMarker) and ann.pending:
            d = self.pars_defaults
            popup = ParsMarkerPopup(self._popup_parent(), level=ann.level or d.get("level"),
                                    side=ann.side or default_pars_side(self.view) or d.get("side"),
                                    status=ann.status or d.get("status"))

            def done(level, side, status, aid=ann.id, store=store):
                self.pars_defaults = {"level": level, "status": status}
                if store.get(aid) is not None:
                    complete_pars_marker(store, aid, level, side, status)

            popup.accepted.connect(done)

            def cancel(aid=ann.id, store=store) -> None:
                if store.get(aid) is not None:
                    cancel_pending_marker(store, aid)

            popup.cancelled.connect(cancel)
            self._open(popup)
        elif isinstance(ann, (EllipseROI, FreehandROI)) and ann.role == "edema" and (ann.level is None or ann.side is None):
            d = self.pars_defaults
            popup = ParsMarkerPopup(self._popup_parent(), level=d.get("level"), side=default_pars_side(self.view),
                                    title="Edema ROI: which pars?", with_status=False)

            def place(level, side, _status, aid=ann.id, store=store):
                cur = store.get(aid)
                if cur is not None:
                    new = cur.touched(level=level, side=side)
                    if not store.replace_last_add(new):
                        store.update(new)

            popup.accepted.connect(place)
            self._open(popup)  # cancelled: the ROI stays, without a level (no signal ratio)
        elif isinstance(ann, ArrowText) and not ann.label:
            popup = TextPopup(self._popup_parent())

            def set_text(text, aid=ann.id, store=store):
                if store.get(aid) is None:
                    return
                if text.strip():
                    set_annotation_text(store, aid, text.strip())

            popup.accepted.connect(set_text)
            def drop_arrow(aid=ann.id, store=store) -> None:
                if store.get(aid) is not None and not store.discard_last_add(aid):
                    store.remove(aid)

            popup.cancelled.connect(drop_arrow)
            self._open(popup)
        elif isinstance(ann, LevelLabel) and ann.level is None:
            popup = LevelLabelPopup(self._popup_parent())
            popup.accepted.connect(self._level_setter(store, ann.id))
            # cancelled: the unnamed label stays; naming another label names it
            self._open(popup)
        elif isinstance(ann, SegmentMotionLines):
            # the segment's level decides which LevelFinding gets the measured instability: the
            # reader confirms it (preselected from the nearest level label, else the tool's default)
            popup = segment_level_popup(self._popup_parent(), ann)
            popup.accepted.connect(self._segment_level_setter(store, ann.id))

            def drop_segment(aid=ann.id, store=store) -> None:
                if store.get(aid) is not None and not store.discard_last_add(aid):
                    store.remove(aid)

            popup.cancelled.connect(drop_segment)  # no segment without a confirmed level
            self._open(popup)
