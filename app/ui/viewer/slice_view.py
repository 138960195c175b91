"""SliceView: one viewport (QGraphicsView) showing a display from app.viewer.display.

Scene units are millimetres along the screen axes (pixels when uncalibrated); the image item
maps pixel (col, row) into the scene with the pixel spacing and the rotation/flip. Items added
to ``annotation_layer`` are in image pixel coordinates and sit above the image. In "tool" mode,
mouse events go to the pluggable tool driver as app.annotations.events.PointerEvent (pixel + LPS).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsItem, QGraphicsRectItem, QGraphicsScene, QGraphicsView

from app.annotations.events import PointerEvent
from app.ui.viewer import overlay
from app.ui.viewer.image_item import ImageItem
from app.viewer.display import Display, VolumeDisplay
from app.viewer.hanging import CellSpec
from app.viewer.orientation import display_transform
from app.viewer.render import display_step
from app.viewer.state import ViewerState

_BUTTONS = {Qt.MouseButton.LeftButton: "left", Qt.MouseButton.MiddleButton: "middle",
            Qt.MouseButton.RightButton: "right"}


class ToolHook(Protocol):
    """What a view hands its mouse events to in "tool" mode (app.ui.annotations.ToolDriver)."""

    def handle(self, event: PointerEvent, view: SliceView) -> bool: ...


TILT_PIVOT_MAX_MM = 3.0  # the crosshair is the tilt pivot when it lies this close to the shown plane


class SliceView(QGraphicsView):
    sig_activated = Signal(object)
    sig_slice_changed = Signal(object)
    sig_window_changed = Signal(object)
    sig_view_changed = Signal(object)
    sig_crosshair_requested = Signal(object, object)  # point_lps (ndarray), frame_of_reference_uid
    sig_maximize_requested = Signal(object)
    sig_files_dropped = Signal(object)  # list of local paths dropped on the image

    def __init__(self, state: ViewerState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.display: Display | None = None
        self.cell: CellSpec | None = None
        self.context: dict[str, str] = {}  # corner identity text of the series shown (presenter)
        self.identity: Any = None  # StudyIdentity of the series shown (app.viewer.identity)
        self.pre_paint_hooks: list = []  # called before the scene's items paint (label layout reset)
        self.after_paint_hooks: list = []  # called once, in the turn after the next paint of an image
        self.series_description = ""
        self.modality = ""
        self.loading_text = ""
        self.note = ""
        self.active = False
        self.reference_planes: list = []  # PlaneSpecs of linked views (drawn as lines)
        self.zoom = 1.0
        self._center: QPointF | None = None
        self.cursor_pixel: tuple[float, float] | None = None
        self._drag: dict | None = None
        self._tool_driver = None
        self._scene = QGraphicsScene(self)
        self._scene.setSceneRect(-1e6, -1e6, 2e6, 2e6)
        self.setScene(self._scene)
        self.image_item = ImageItem()
        self.image_item.setVisible(False)
        self._scene.addItem(self.image_item)
        self.annotation_layer = QGraphicsRectItem(self.image_item)
        self.annotation_layer.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
        self.annotation_layer.setZValue(10)
        self.setBackgroundBrush(QColor(0, 0, 0))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(120, 120)
        self._cine = QTimer(self)
        self._cine.setInterval(100)
        self._cine.timeout.connect(self._cine_step)
        self.state.changed.connect(self._on_state_changed)

    # ---- content ---------------------------------------------------------------------------
    def set_cell(self, cell: CellSpec | None) -> None:
        self.cell = cell
        self.viewport().update()

    def set_display(self, display: Any, reset: bool = True) -> None:
        self.display = display
        self.loading_text = ""
        self.image_item.setVisible(display is not None)
        if reset:  # the first frame is rendered for the fitted view it will be shown in
            self.zoom, self._center = 1.0, None
        if display is not None:
            self.refresh()
        if reset:
            self.reset_view()
        self.viewport().update()

    def clear(self) -> None:
        self.stop_cine()
        self.set_display(None)
        self.series_description = self.modality = self.note = ""

    def refresh(self) -> None:
        """Re-render the current frame (after a slice, window or plane change)."""
        if self.display is None:
            return
        step = self._render_step()
        frame = self.display.frame(max_step=step) if step > 1 else self.display.frame()
        self.image_item.set_pixels(frame.pixels, frame.step, frame.source_shape)
        t = self._item_transform(frame.spacing_mm)
        if t != self.image_item.transform():
            self.image_item.setTransform(t)
        self.viewport().update()

    def _item_transform(self, spacing_mm: tuple[float, float]) -> QTransform:
        """Full-resolution image pixels -> scene mm, with the display's rotation and flips."""
        o = self.display.options
        m = display_transform(o.rotation_deg, o.flip_h, o.flip_v)
        sy, sx = spacing_mm
        return QTransform(m[0, 0] * sx, m[1, 0] * sx, m[0, 1] * sy, m[1, 1] * sy, 0.0, 0.0)

    def rendered_pixels(self) -> np.ndarray:
        return self.image_item.pixels

    # ---- geometry --------------------------------------------------------------------------
    def _fit_scale(self) -> float:
        return self._fit_scale_of(self.image_item.sceneBoundingRect())

    def _fit_scale_of(self, r: QRectF) -> float:
        vw, vh = max(1, self.viewport().width()), max(1, self.viewport().height())
        if r.width() <= 0 or r.height() <= 0:
            return 1.0
        return 0.94 * min(vw / r.width(), vh / r.height())

    def _render_step(self) -> int:
        """Full-resolution pixels per rendered pixel for the current zoom: > 1 only for displays
        that render at display resolution (radiographs, ``source_shape``) shown smaller than 1:1.
        Computed from the display's own extent, so a new image is rendered once, at its size."""
        shape = getattr(self.display, "source_shape", None)
        if shape is None:
            return 1
        sy, sx = self.display.spacing_mm
        rect = self._item_transform((sy, sx)).mapRect(QRectF(-0.5, -0.5, shape[1], shape[0]))
        screen_px_per_mm = self._fit_scale_of(rect) * self.zoom * self.devicePixelRatioF()
        return display_step(screen_px_per_mm * max(sx, sy))

    def scale_factor(self) -> float:
        """Screen pixels per scene unit (mm)."""
        return self._fit_scale() * self.zoom

    def _apply_view(self) -> None:
        s = self.scale_factor()
        c = self._center if self._center is not None else self.image_item.sceneBoundingRect().center()
        self.setTransform(QTransform.fromScale(s, s))
        self.centerOn(c)
        if self.display is not None and self._render_step() != self.image_item.step:
            self.refresh()  # zoomed across 1:1 or a step boundary: render at the new resolution
        self.viewport().update()

    def reset_view(self) -> None:
        self.zoom = 1.0
        self._center = None
        if self.display is not None and hasattr(self.display, "options"):
            pass
        self._apply_view()
        self.sig_view_changed.emit(self)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom; the scene point under ``anchor`` (viewport px, e.g. the cursor) stays put."""
        inv, _ok = self.viewportTransform().inverted()
        fixed = inv.map(QPointF(anchor)) if anchor is not None else None
        self.zoom = float(np.clip(self.zoom * factor, 0.05, 40.0))
        self._apply_view()
        if fixed is not None:
            inv, _ok = self.viewportTransform().inverted()
            moved = inv.map(QPointF(anchor))
            c = self._center if self._center is not None else self.image_item.sceneBoundingRect().center()
            self._center = QPointF(c.x() + fixed.x() - moved.x(), c.y() + fixed.y() - moved.y())
            self._apply_view()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._apply_view()

    def pixel_at(self, pos) -> tuple[float, float]:
        """Image pixel (col, row), sub-pixel, under a viewport position."""
        inv, _ok = self.viewportTransform().inverted()
        p = self.image_item.mapFromScene(inv.map(QPointF(pos)))
        return p.x(), p.y()

    def viewport_point_of_pixel(self, col: float, row: float) -> QPointF:
        return self.viewportTransform().map(self.image_item.mapToScene(QPointF(col, row)))

    def lps_at(self, pos: QPointF):
        if self.display is None:
            return None
        col, row = self.pixel_at(pos)
        return self.display.pixel_to_lps(col, row)

    # ---- slices ----------------------------------------------------------------------------
    def set_slice(self, index: int) -> None:
        if self.display is not None and self.display.set_index(index):
            self.refresh()
            self.sig_slice_changed.emit(self)

    def scroll(self, delta: int) -> None:
        if self.display is not None:
            self.set_slice(self.display.index + delta)

    def toggle_cine(self) -> bool:
        if self._cine.isActive():
            self._cine.stop()
        elif self.display is not None and self.display.n_slices > 1:
            self._cine.start()
        return self._cine.isActive()

    def stop_cine(self) -> None:
        self._cine.stop()

    def _cine_step(self) -> None:
        if self.display is None or self.display.n_slices <= 1:
            self._cine.stop()
            return
        self.set_slice((self.display.index + 1) % self.display.n_slices)

    # ---- tools -----------------------------------------------------------------------------
    def set_tool_driver(self, driver: ToolHook | None) -> None:
        """Anything with ``handle(event: PointerEvent, view) -> bool`` (True = consumed)."""
        self._tool_driver = driver

    def _pointer_event(self, kind: str, event) -> PointerEvent:
        """The mouse event as the annotation tools' PointerEvent (image pixel + LPS; no Qt)."""
        col, row = self.pixel_at(event.position())
        m = event.modifiers()
        mods = {name for flag, name in ((Qt.KeyboardModifier.ShiftModifier, "shift"),
                                        (Qt.KeyboardModifier.ControlModifier, "control"),
                                        (Qt.KeyboardModifier.AltModifier, "alt")) if m & flag}
        d = self.display
        lps = d.pixel_to_lps(col, row) if d is not None else None
        return PointerEvent(kind, (col, row), None if lps is None else tuple(lps), _BUTTONS.get(event.button(), "none"),
                            frozenset(mods))

    def _forward_to_tool(self, kind: str, event) -> bool:
        if self.state.mode != "tool" or self._tool_driver is None or self.display is None:
            return False
        return bool(self._tool_driver.handle(self._pointer_event(kind, event), self))

    # ---- mouse -----------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        self.sig_activated.emit(self)
        self.setFocus()
        if self._forward_to_tool("press", event):
            return
        b = event.button()
        mode = self.state.mode
        if b == Qt.MouseButton.MiddleButton or (b == Qt.MouseButton.LeftButton and mode == "pan"):
            action = "pan"
        elif b == Qt.MouseButton.RightButton or (b == Qt.MouseButton.LeftButton and mode == "wl"):
            action = "wl"
        elif b == Qt.MouseButton.LeftButton and mode in ("zoom", "crosshair", "oblique"):
            action = mode
        else:
            return
        wl = None
        if self.display is not None:
            wl = self.display.options.wl or getattr(self.display, "effective_wl", None)
        self._drag = {"action": action, "start": event.position(), "last": event.position(), "wl": wl,
                      "center": self._center or self.image_item.sceneBoundingRect().center()}
        if action == "oblique":
            self._drag["pivot"] = self._tilt_pivot(event.position())
        elif action == "zoom":
            self._drag["anchor"] = event.position()
        if action == "crosshair":
            self._pick(event.position())

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        if self.display is not None:
            self.cursor_pixel = self.pixel_at(pos)
            self.viewport().update()
        if self._forward_to_tool("move", event):
            return
        d = self._drag
        if d is None:
            return
        dx, dy = pos.x() - d["start"].x(), pos.y() - d["start"].y()
        step_x, step_y = pos.x() - d["last"].x(), pos.y() - d["last"].y()
        d["last"] = pos
        if d["action"] == "wl" and self.display is not None and d["wl"] is not None:
            self.display.options.wl = d["wl"].dragged(dx, dy)
            self.display.options.wl_source = "manual"
            self.refresh()
            self.sig_window_changed.emit(self)
        elif d["action"] == "pan":
            s = self.scale_factor()
            self._center = QPointF(d["center"].x() - dx / s, d["center"].y() - dy / s)
            self._apply_view()
        elif d["action"] == "zoom":
            self.zoom_by(math.exp(-step_y / 150.0), anchor=d["anchor"])
        elif d["action"] == "crosshair":
            self._pick(pos)
        elif d["action"] == "oblique" and isinstance(self.display, VolumeDisplay):
            if step_x:
                self.display.tilt("vertical", step_x * 0.4, d["pivot"])
            if step_y:
                self.display.tilt("horizontal", -step_y * 0.4, d["pivot"])
            self.refresh()
            self.sig_slice_changed.emit(self)

    def mouseReleaseEvent(self, event) -> None:
        if self._forward_to_tool("release", event):
            return
        self._drag = None

    def mouseDoubleClickEvent(self, event) -> None:
        if self._forward_to_tool("double_click", event):
            return
        self.sig_maximize_requested.emit(self)

    # ---- drag and drop: files or folders dropped on an image open them ----------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.sig_files_dropped.emit(paths)
        else:
            super().dropEvent(event)

    def leaveEvent(self, event) -> None:
        self.cursor_pixel = None
        self.viewport().update()
        super().leaveEvent(event)

    def _tilt_pivot(self, pos: QPointF):
        """The crosshair when it lies on this view's volume, else the point under the cursor."""
        d = self.display
        ch = self.state.crosshair_lps
        if ch is not None and self.state.crosshair_for_uid == getattr(d, "frame_of_reference_uid", None):
            col, row, dist = d.plane.lps_to_pixel(np.asarray(ch))
            rows, cols = d.plane.shape
            if abs(dist) <= TILT_PIVOT_MAX_MM and 0 <= col < cols and 0 <= row < rows:
                return np.asarray(ch, dtype=np.float64)
        return self.lps_at(pos)

    def _pick(self, pos: QPointF) -> None:
        point = self.lps_at(pos)
        if point is not None:
            self.sig_crosshair_requested.emit(np.asarray(point), self.display.frame_of_reference_uid)

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if not steps:
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(1.15 ** steps, anchor=event.position())
        else:
            self.scroll(-int(math.copysign(max(1, round(abs(steps))), steps)))

    def keyPressEvent(self, event) -> None:
        k = event.key()
        n = self.display.n_slices if self.display is not None else 1
        moves = {Qt.Key.Key_Up: -1, Qt.Key.Key_Left: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_Right: 1,
                 Qt.Key.Key_PageUp: -10, Qt.Key.Key_PageDown: 10}
        if k in moves:
            self.scroll(moves[k])
        elif k == Qt.Key.Key_Home:
            self.set_slice(0)
        elif k == Qt.Key.Key_End:
            self.set_slice(n - 1)
        else:
            super().keyPressEvent(event)

    # ---- state -----------------------------------------------------------------------------
    def _on_state_changed(self, name: str) -> None:
        self.viewport().update()

    def set_active(self, active: bool) -> None:
        self.active = active
        self.viewport().update()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawBackground(painter, rect)
        for hook in self.pre_paint_hooks:
            hook()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        painter.save()
        painter.resetTransform()
        overlay.paint(painter, self)
        painter.restore()
        if self.after_paint_hooks and self.display is not None:
            hooks, self.after_paint_hooks = self.after_paint_hooks, []
            for hook in hooks:
                QTimer.singleShot(0, self, hook)  # not run if this view is deleted first

    def close_view(self) -> None:
        """Disconnect from the shared state (called when the view is discarded)."""
        self._cine.stop()
        self.state.changed.disconnect(self._on_state_changed)

    def closeEvent(self, event) -> None:
        self.close_view()
        super().closeEvent(event)
