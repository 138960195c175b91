"""ViewerGrid: the viewports in a 1x1 / 1x2 / 2x2 / pars (2x3) grid, plus the linking between
them (crosshair jump, reference lines, synchronised scrolling)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from app.ui.viewer.slice_view import SliceView
from app.viewer.display import VolumeDisplay
from app.viewer.hanging import HangingLayout
from app.viewer.identity import distinct_patients
from app.viewer.state import ViewerState, link_to_point

MAX_VIEWS = 6


class ViewerGrid(QWidget):
    sig_active_changed = Signal(object)
    sig_files_dropped = Signal(object)  # paths dropped on any image

    def __init__(self, state: ViewerState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        # a row above the images (never over a cell's identity text)
        self.patient_banner = QLabel(self)
        self.patient_banner.setObjectName("MixedPatientBanner")
        self.patient_banner.setStyleSheet("background: #b00020; color: white; font-weight: bold; padding: 4px;")
        self.patient_banner.setWordWrap(True)
        self.patient_banner.hide()
        outer.addWidget(self.patient_banner)
        self._layout = QGridLayout()
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        outer.addLayout(self._layout, 1)
        self.setStyleSheet("background-color: #202226;")
        self.all_views: list[SliceView] = []
        for _ in range(MAX_VIEWS):
            v = SliceView(state, self)
            v.sig_activated.connect(self.set_active)
            v.sig_crosshair_requested.connect(self._on_crosshair)
            v.sig_slice_changed.connect(self._on_slice_changed)
            v.sig_maximize_requested.connect(self._on_maximize)
            v.sig_files_dropped.connect(self.sig_files_dropped)
            v.hide()
            self.all_views.append(v)
        self.rows, self.cols = 1, 1
        self.hanging: HangingLayout | None = None
        self._maximized: SliceView | None = None
        self.active: SliceView | None = None
        self.state.changed.connect(self._on_state)
        self.set_grid(1, 1)

    # ---- patient identity --------------------------------------------------------------------
    def update_patient_banner(self, anonymised: bool = False) -> None:
        """A red banner over the images while the cells show more than one patient."""
        patients = distinct_patients(v.identity for v in self.views() if v.cell is not None and v.cell.series_key)
        if len(patients) > 1:
            who = ", ".join(p.describe(anonymised) for p in patients)
            self.patient_banner.setText(f"\u26a0 THIS LAYOUT MIXES {len(patients)} PATIENTS: {who}")
        self.patient_banner.setVisible(len(patients) > 1)

    # ---- layout ----------------------------------------------------------------------------
    def views(self) -> list[SliceView]:
        return self.all_views[: self.rows * self.cols]

    def set_grid(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self._maximized = None
        self._relayout()

    def _relayout(self) -> None:
        for v in self.all_views:
            self._layout.removeWidget(v)
            v.hide()
        shown = [self._maximized] if self._maximized is not None else self.views()
        for v in self.views():
            if v not in shown:
                v.stop_cine()
        for idx, v in enumerate(shown):
            r, c = (0, 0) if self._maximized is not None else divmod(idx, self.cols)
            self._layout.addWidget(v, r, c)
            v.show()
        for r in range(3):
            self._layout.setRowStretch(r, 1 if r < (1 if self._maximized else self.rows) else 0)
        for c in range(3):
            self._layout.setColumnStretch(c, 1 if c < (1 if self._maximized else self.cols) else 0)
        if self.active not in shown and shown:
            self.set_active(shown[0])
        self.update_references()

    def apply_hanging(self, layout: HangingLayout) -> None:
        self.hanging = layout
        self.set_grid(layout.rows, layout.cols)
        for v, cell in zip(self.views(), layout.cells, strict=True):  # a layout has one cell per view
            v.clear()
            v.set_cell(cell)
            v.note = cell.note
            v.loading_text = ""

    def view_for_role(self, role: str) -> SliceView | None:
        for v in self.views():
            if v.cell is not None and v.cell.role == role:
                return v
        return None

    def _on_maximize(self, view: SliceView) -> None:
        self._maximized = None if self._maximized is view else view
        self._relayout()

    # ---- activity --------------------------------------------------------------------------
    def set_active(self, view: SliceView) -> None:
        if self.active is view:
            return
        if self.active is not None:
            self.active.set_active(False)
        self.active = view
        view.set_active(True)
        self.sig_active_changed.emit(view)

    # ---- linking ---------------------------------------------------------------------------
    def visible_views(self) -> list[SliceView]:
        return [self._maximized] if self._maximized is not None else self.views()

    def _on_crosshair(self, point_lps, for_uid) -> None:
        self.jump_to(point_lps, for_uid, source=self.sender())

    def jump_to(self, point_lps, for_uid, source=None) -> list[SliceView]:
        """Every view showing a volume of this frame of reference moves to contain the point."""
        self.state.set_crosshair(np.asarray(point_lps, dtype=np.float64), for_uid)
        views = [v for v in self.views() if v is not source and v.display is not None]
        moved_displays = link_to_point([v.display for v in views], point_lps, for_uid)
        moved = [v for v in views if any(v.display is d for d in moved_displays)]
        for v in moved:
            v.refresh()
        self.update_references()
        return moved

    def _on_slice_changed(self, view: SliceView) -> None:
        if self.state.sync_scroll and isinstance(view.display, VolumeDisplay):
            plane = view.display.plane
            centre = plane.pixel_to_lps((plane.shape[1] - 1) / 2, (plane.shape[0] - 1) / 2)
            for v in self.views():
                d = v.display
                if v is view or not isinstance(d, VolumeDisplay):
                    continue
                if d.frame_of_reference_uid != view.display.frame_of_reference_uid:
                    continue
                if abs(abs(d.plane.normal_lps @ plane.normal_lps) - 1) < 1e-3 and d.move_to_point(centre):
                    v.refresh()
        self.update_references()

    def update_references(self) -> None:
        views = [v for v in self.visible_views() if isinstance(v.display, VolumeDisplay)]
        for v in views:
            v.reference_planes = [o.display.plane for o in views
                                  if o is not v and o.display.frame_of_reference_uid is not None
                                  and o.display.frame_of_reference_uid == v.display.frame_of_reference_uid]
            v.viewport().update()

    def _on_state(self, name: str) -> None:
        if name in ("show_reference_lines", "crosshair_lps"):
            for v in self.views():
                v.viewport().update()

    def clear_study(self) -> None:
        """No study: every view empty (no cell, display, identity or corner text; its last frame
        let go), one empty view, no banner."""
        self.hanging = None
        for v in self.all_views:
            v.clear()
            v.set_cell(None)
            v.identity, v.context, v.loading_text = None, {}, ""
            v.reference_planes = []
            v.after_paint_hooks.clear()
            v.image_item.set_pixels(np.zeros((1, 1), np.uint8))
        self.patient_banner.clear()
        self.patient_banner.hide()
        self.set_grid(1, 1)

    def close_grid(self) -> None:
        self.state.changed.disconnect(self._on_state)
        for v in self.all_views:
            v.close_view()
