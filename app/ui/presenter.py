"""StudyPresenter: puts what the StudyController loads into the viewer grid following the
current layout (pars hanging protocol or a plain grid)."""

from __future__ import annotations

import logging
import time
from typing import Optional

from PySide6.QtCore import QObject, QTimer, Signal

from app.viewer.cells import display_for_cell
from app.viewer.display import PreviewDisplay
from app.viewer.hanging import CellSpec, pars_protocol, simple_layout
from app.viewer.state import LAYOUTS, ViewerState
from app.ui.browser import StudyBrowser
from app.ui.study_controller import StudyController
from app.ui.viewer.grid import ViewerGrid

log = logging.getLogger(__name__)


class StudyPresenter(QObject):
    sig_first_image = Signal(float)  # perf_counter time of the first image shown
    sig_message = Signal(str)

    def __init__(self, controller: StudyController, grid: ViewerGrid, browser: StudyBrowser,
                 state: ViewerState, parent=None) -> None:
        super().__init__(parent)
        self.controller, self.grid, self.browser, self.state = controller, grid, browser, state
        self.study = None
        self.patient = None
        self.series: list = []
        self._first_shown = False
        c = controller
        c.sig_scanned.connect(self._on_scanned)
        c.sig_preview.connect(self._on_preview)
        c.sig_loaded.connect(self._on_loaded)
        c.sig_failed.connect(self._on_failed)
        c.sig_thumbnail.connect(browser.set_thumbnail)
        browser.sig_series_activated.connect(self.show_in_active)
        state.changed.connect(self._on_state)

    # ---- study -----------------------------------------------------------------------------
    def _on_scanned(self, result) -> None:
        self.browser.populate(result)
        self._first_shown = False
        self.study = self.patient = None
        self.series = []
        # a pars work-up often spans studies (radiographs one day, CT/MRI another): the protocol
        # draws on every series of the patient with the most series
        patients = [p for p in result.patients if p.studies]
        if patients:
            self.patient = max(patients, key=lambda p: sum(len(s.series) for s in p.studies))
            self.study = max(self.patient.studies, key=lambda s: (s.study_date, len(s.series)))
            self.series = [s for st in self.patient.studies for s in st.series]
        if self.study is None:
            n = len(result.skipped)
            self.sig_message.emit(f"No images found ({result.files_seen} files looked at, {n} skipped)")
            self.grid.apply_hanging(simple_layout([], 1, 1))
            self.grid.views()[0].loading_text = f"No DICOM images found ({n} file(s) skipped)."
            return
        self.apply_layout()
        self.controller.request_thumbnails()

    def _context(self) -> dict[str, str]:
        p, s = self.patient, self.study
        if p is None or s is None:
            return {}
        date = s.study_date
        if len(date) == 8 and date.isdigit():
            date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
        return {"patient_name": p.patient_name.replace("^", " ").strip(), "patient_id": p.patient_id,
                "study_date": date, "study_description": s.description}

    def apply_layout(self) -> None:
        if self.study is None:
            rows, cols = LAYOUTS.get(self.state.layout, (1, 1))
            if self.state.layout == "pars":
                rows, cols = 1, 1
            self.grid.set_grid(rows, cols)
            return
        series = list(self.series)
        if self.state.layout == "pars":
            layout = pars_protocol(series)
        else:
            rows, cols = LAYOUTS[self.state.layout]
            layout = simple_layout(series, rows, cols)
        self.grid.apply_hanging(layout)
        ctx = self._context()
        for v in self.grid.views():
            v.context = ctx
            key = v.cell.series_key if v.cell is not None else None
            if key:
                e = self.controller.entry(key)
                v.series_description = e.description if e is not None else ""
                v.modality = e.modality_code if e is not None else ""
                v.loading_text = f"Loading {v.series_description}..."
        for key in dict.fromkeys(v.cell.series_key for v in self.grid.views() if v.cell and v.cell.series_key):
            self.controller.request(key)

    def _views_for(self, key: str):
        return [v for v in self.grid.views() if v.cell is not None and v.cell.series_key == key]

    def _on_preview(self, key: str, pixels) -> None:
        for v in self._views_for(key):
            if v.display is None:
                e = self.controller.entry(key)
                v.set_display(PreviewDisplay(pixels, e.modality_code if e is not None else ""))
                self._shown()

    def _on_loaded(self, key: str, obj, prep) -> None:
        # one viewport per event-loop turn: the GUI thread never does several renders in a row
        for i, v in enumerate(self._views_for(key)):
            QTimer.singleShot(i * 25, lambda v=v, cell=v.cell: self._show(v, cell, key, obj, prep))

    def _show(self, v, cell, key, obj, prep) -> None:
        if v.cell is not cell:  # the layout changed meanwhile
            return
        try:
            display, note = display_for_cell(v.cell, obj, prep)
        except (TypeError, ValueError) as exc:
            v.set_display(None)
            v.loading_text = f"Cannot show this series: {exc}"
            return
        v.note = note
        v.set_display(display)
        self._shown()
        self.grid.update_references()

    def _shown(self) -> None:
        if not self._first_shown:
            self._first_shown = True
            self.sig_first_image.emit(time.perf_counter())

    def _on_failed(self, key: str, message: str) -> None:
        if not key:
            self.sig_message.emit(f"Could not open: {message}")
            return
        for v in self._views_for(key):
            v.set_display(None)
            v.loading_text = f"Could not load this series:\n{message}"
            v.viewport().update()
        self.sig_message.emit(message)

    def show_in_active(self, key: str) -> None:
        """Browser double-click: the series goes into the active viewport."""
        v = self.grid.active or self.grid.views()[0]
        e = self.controller.entry(key)
        if e is None:
            return
        orient = "native"
        if e.kind == "volume":
            orient = e.plane.value if e.plane is not None and e.plane.value in ("axial", "sagittal", "coronal") else "axial"
        v.clear()
        v.set_cell(CellSpec(v.cell.role if v.cell else "custom", e.description or e.modality_code, key, orient))
        v.series_description, v.modality = e.description, e.modality_code
        v.context = self._context()
        v.loading_text = f"Loading {e.description}..."
        self.controller.request(key)

    def _on_state(self, name: str) -> None:
        if name == "layout":
            self.apply_layout()

    def close(self) -> None:
        self.state.changed.disconnect(self._on_state)
