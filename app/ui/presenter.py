"""StudyPresenter: puts what the StudyController loads into the viewer grid following the
current layout (pars hanging protocol or a plain grid).

One patient at a time (docs/viewer.md, "Patient identity"): the layouts draw only on the
*active* patient's series. Opening a series of another patient from the browser makes that
patient active (``sig_patient_changed``; the review work of the first is autosaved and parked).
Every cell's corner text is taken from the header of the series it shows, never from "the
current patient"; the grid shows a red banner whenever its cells show more than one patient."""

from __future__ import annotations

import logging
import time

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from app.ui.browser import StudyBrowser
from app.ui.study_controller import StudyController
from app.ui.viewer.grid import ViewerGrid
from app.viewer.cells import display_for_cell
from app.viewer.display import PreviewDisplay
from app.viewer.hanging import CellSpec, pars_protocol, simple_layout
from app.viewer.identity import StudyIdentity, identity_by_series, overlay_context, study_identity
from app.viewer.state import LAYOUTS, ViewerState

log = logging.getLogger(__name__)


class StudyPresenter(QObject):
    sig_first_image = Signal(float)  # perf_counter time of the first image shown
    sig_message = Signal(str)
    sig_patient_changed = Signal(object)  # StudyIdentity of the active study (None: no images)

    def __init__(self, controller: StudyController, grid: ViewerGrid, browser: StudyBrowser,
                 state: ViewerState, parent=None) -> None:
        super().__init__(parent)
        self.controller, self.grid, self.browser, self.state = controller, grid, browser, state
        self.study = None
        self.patient = None
        self.series: list = []
        self.identities: dict[str, StudyIdentity] = {}
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
        self.identities = identity_by_series(result)
        self.browser.populate(result, self.state.anonymise)
        self._first_shown = False
        self.study = self.patient = None
        self.series = []
        # a pars work-up often spans studies (radiographs one day, CT/MRI another): the protocol
        # draws on every series of the active patient, first the patient with the most series
        patients = [p for p in result.patients if p.studies]
        if not patients:
            n = len(result.skipped)
            self.sig_message.emit(f"No images found ({result.files_seen} files looked at, {n} skipped)")
            self.grid.apply_hanging(simple_layout([], 1, 1))
            self.grid.views()[0].loading_text = f"No DICOM images found ({n} file(s) skipped)."
            self.sig_patient_changed.emit(None)
            return
        self.set_patient(max(patients, key=lambda p: sum(len(s.series) for s in p.studies)))
        if len(patients) > 1:
            self.sig_message.emit(f"{len(patients)} patients in this folder: showing one at a time "
                                  "(double-click a series of another patient to switch)")
        self.controller.request_thumbnails()

    def set_patient(self, patient) -> None:
        """Make ``patient`` (a PatientEntry of the scan) the active one and lay out its series."""
        self.patient = patient
        self.study = max(patient.studies, key=lambda s: (s.study_date, len(s.series)))
        self.series = [s for st in patient.studies for s in st.series]
        self.browser.set_active_patient(patient.patient_id)
        self.apply_layout()
        self.sig_patient_changed.emit(self.study_identity)

    @property
    def first_image_shown(self) -> bool:
        """The current study's first image is on screen (False from its scan until then)."""
        return self._first_shown

    @property
    def study_identity(self) -> StudyIdentity | None:
        """Identity of the active study (the one the review session belongs to)."""
        if self.patient is None or self.study is None:
            return None
        return study_identity(self.patient, self.study)

    def _patient_of(self, key: str):
        result = self.controller.result
        for p in (result.patients if result is not None else ()):
            if any(s.key == key for st in p.studies for s in st.series):
                return p
        return None

    def _set_view_identity(self, v, key: str | None) -> None:
        ident = self.identities.get(key) if key else self.study_identity
        v.identity = ident
        v.context = overlay_context(ident, self.state.anonymise)

    def _refresh_identity(self) -> None:
        for v in self.grid.views():
            self._set_view_identity(v, v.cell.series_key if v.cell is not None else None)
            v.viewport().update()
        self.grid.update_patient_banner(self.state.anonymise)

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
        for v in self.grid.views():
            key = v.cell.series_key if v.cell is not None else None
            self._set_view_identity(v, key)
            if key:
                e = self.controller.entry(key)
                v.series_description = e.description if e is not None else ""
                v.modality = e.modality_code if e is not None else ""
                v.loading_text = f"Loading {v.series_description}..."
        self.grid.update_patient_banner(self.state.anonymise)
        self.controller.request_all([v.cell.series_key for v in self.grid.views() if v.cell and v.cell.series_key])

    def _views_for(self, key: str):
        return [v for v in self.grid.views() if v.cell is not None and v.cell.series_key == key]

    def _on_preview(self, key: str, pixels) -> None:
        for v in self._views_for(key):
            if v.display is None:
                e = self.controller.entry(key)
                v.set_display(PreviewDisplay(pixels, e.modality_code if e is not None else ""))
                self._shown(v)

    def _on_loaded(self, key: str, obj, prep) -> None:
        # one viewport per event-loop turn: the GUI thread never does several renders in a row
        for i, v in enumerate(self._views_for(key)):
            # the view is the timer's context: a view deleted meanwhile (study closed, layout
            # changed) cancels its timer instead of being drawn into after its C++ side is gone
            QTimer.singleShot(i * 25, v, lambda v=v, cell=v.cell: self._show(v, cell, key, obj, prep))

    def _show(self, v, cell, key, obj, prep) -> None:
        if v.cell is not cell or not shiboken6.isValid(v) or not shiboken6.isValid(v.image_item):
            return  # the layout changed meanwhile, or the view is being deleted
        try:
            display, note = display_for_cell(v.cell, obj, prep)
        except (TypeError, ValueError) as exc:
            v.set_display(None)
            v.loading_text = f"Cannot show this series: {exc}"
            return
        v.note = note
        v.set_display(display)
        self._shown(v)
        self.grid.update_references()

    def _shown(self, view) -> None:
        if not self._first_shown:
            self._first_shown = True
            self.sig_first_image.emit(time.perf_counter())
            # the full loads start once this image has been painted (study_controller)
            view.after_paint_hooks.append(self.controller.release_loads)
            QTimer.singleShot(1000, self.controller, self.controller.release_loads)  # if that view is never painted

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
        """Browser double-click: the series goes into the active viewport. A series of another
        patient makes that patient active first (one patient at a time)."""
        e = self.controller.entry(key)
        if e is None:
            return
        other = self._patient_of(key)
        if other is not None and other is not self.patient:
            self.set_patient(other)
            self.sig_message.emit("Switched patient: the previous patient's work is autosaved")
        v = self.grid.active or self.grid.views()[0]
        orient = "native"
        if e.kind == "volume":
            orient = e.plane.value if e.plane is not None and e.plane.value in ("axial", "sagittal", "coronal") else "axial"
        v.clear()
        v.set_cell(CellSpec(v.cell.role if v.cell else "custom", e.description or e.modality_code, key, orient))
        v.series_description, v.modality = e.description, e.modality_code
        self._set_view_identity(v, key)
        self.grid.update_patient_banner(self.state.anonymise)
        v.loading_text = f"Loading {e.description}..."
        self.controller.request(key)

    def _on_state(self, name: str) -> None:
        if name == "layout":
            self.apply_layout()
        elif name == "anonymise":
            self._refresh_identity()
            self.browser.set_anonymised(self.state.anonymise)

    def clear(self) -> None:
        """The study was closed (File > Close study): no active patient, study or series; the
        grid and the browser are emptied, ``sig_patient_changed(None)`` tells the window."""
        self.study = self.patient = None
        self.series = []
        self.identities = {}
        self._first_shown = False
        self.grid.clear_study()
        self.browser.clear_study()
        self.sig_patient_changed.emit(None)

    def close(self) -> None:
        self.state.changed.disconnect(self._on_state)
