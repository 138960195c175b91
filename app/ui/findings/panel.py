"""FindingsPanel: the structured findings table, impression and reader of one StudySession.

Two table views (pars per level/side; per-level slip, disc and arch findings) over
``FindingsTableModel``; the reader name and the impression; Save / Open findings and
Export SR (through the session: it refuses images of another patient). The panel never keeps its own copy
of the findings: it calls session intents and redraws on ``session.findings_changed``.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.findings import io as findings_io
from app.ui.findings.delegates import FindingsDelegate
from app.ui.findings.table_model import ALL_LEVELS, DEFAULT_LEVELS, FindingsTableModel
from app.ui.workers import Worker, start_worker

log = logging.getLogger(__name__)

FINDINGS_FILTER = "Isthmus findings (*.json);;All files (*)"
SR_FILTER = "DICOM Structured Report (*.dcm);;All files (*)"
_RUNNING: set[Worker] = set()  # workers reading a findings file (kept alive until they report)


class _FindingsTable(QTableView):
    def __init__(self, model: FindingsTableModel, parent: QWidget) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setItemDelegate(FindingsDelegate(self))
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        self.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)


class FindingsPanel(QWidget):
    """Structured findings editor bound to a StudySession."""

    sig_message = Signal(str)  # status text for the host window (saved, opened, refused edit ...)

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FindingsPanel")
        self.session = session
        self.pars_model = FindingsTableModel(session, "pars", self)
        self.level_model = FindingsTableModel(session, "levels", self)
        self.anonymised = False  # exports made while "anonymised display" is on hide identity
        self._open_worker: Worker | None = None
        self._detached = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)

        # reader + file actions -------------------------------------------------
        top = QHBoxLayout()
        top.addWidget(QLabel("Reader:"))
        self.reader_edit = QLineEdit(self)
        self.reader_edit.setPlaceholderText("name of the reading clinician")
        self.reader_edit.editingFinished.connect(self._reader_edited)
        top.addWidget(self.reader_edit, 1)
        lay.addLayout(top)  # undo/redo: Edit > Undo (Ctrl+Z), the study's one history

        files = QHBoxLayout()
        self.save_button = QPushButton("Save findings…", self)
        self.save_button.clicked.connect(self.save_dialog)
        self.open_button = QPushButton("Open findings…", self)
        self.open_button.clicked.connect(self.open_dialog)
        self.sr_button = QPushButton("Export SR…", self)
        self.sr_button.setToolTip("Write the findings as a DICOM Structured Report (TID 1500)")
        self.sr_button.clicked.connect(self.export_sr_dialog)
        for b in (self.save_button, self.open_button, self.sr_button):
            files.addWidget(b)
        files.addStretch(1)
        lay.addLayout(files)

        # tables ---------------------------------------------------------------
        pars_box = QGroupBox("Pars interarticularis — per level and side", self)
        pl = QVBoxLayout(pars_box)
        pl.setContentsMargins(4, 4, 4, 4)

        self.pars_view = _FindingsTable(self.pars_model, pars_box)
        pl.addWidget(self.pars_view)
        lay.addWidget(pars_box)

        level_box = QGroupBox("Per level — slip of the level on the one below; disc below", self)
        ll = QVBoxLayout(level_box)
        ll.setContentsMargins(4, 4, 4, 4)
        self.level_view = _FindingsTable(self.level_model, level_box)
        ll.addWidget(self.level_view)
        lay.addWidget(level_box)

        self.all_levels_box = QCheckBox("Show L1–L2 too", self)
        self.all_levels_box.setToolTip("List every lumbar level; levels with an entry are always listed")
        self.all_levels_box.toggled.connect(self._show_all_levels)
        lay.addWidget(self.all_levels_box)

        hint = QLabel("Double-click a cell to edit. Blue = derived, amber = reader override, "
                      "⚠ = slip within ±3 % of a Meyerding boundary. Empty / ? = not assessed.", self)
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        lay.addWidget(hint)

        # impression -------------------------------------------------------------
        lay.addWidget(QLabel("Impression:", self))
        self.impression_edit = QPlainTextEdit(self)
        self.impression_edit.setPlaceholderText("Free-text impression for the report")
        self.impression_edit.setMaximumHeight(90)
        self._impression_timer = QTimer(self)
        self._impression_timer.setSingleShot(True)
        self._impression_timer.setInterval(600)
        self._impression_timer.timeout.connect(self._impression_edited)
        self.impression_edit.textChanged.connect(self._impression_timer.start)
        lay.addWidget(self.impression_edit)

        self.message_label = QLabel("", self)
        self.message_label.setObjectName("message")
        self.message_label.setWordWrap(True)
        lay.addWidget(self.message_label)
        lay.addStretch(1)

        for model in (self.pars_model, self.level_model):
            model.sig_edit_failed.connect(self._show_error)
        session.findings_changed.connect(self._on_findings_changed)
        self._on_findings_changed()

    # ------------------------------------------------------------------ session -> widgets
    def _on_findings_changed(self, *_: Any) -> None:
        f = self.session.findings
        # never overwrite text the reader is still typing (not yet committed)
        if not self.reader_edit.isModified() and self.reader_edit.text() != f.reader:
            self.reader_edit.setText(f.reader)
        if not self._impression_timer.isActive() and self.impression_edit.toPlainText() != f.impression:
            self.impression_edit.blockSignals(True)
            self.impression_edit.setPlainText(f.impression)
            self.impression_edit.blockSignals(False)

    # ------------------------------------------------------------------ widgets -> session
    def _reader_edited(self) -> None:
        self.reader_edit.setModified(False)
        self.session.set_reader(self.reader_edit.text().strip())

    def _impression_edited(self) -> None:
        self.session.set_impression(self.impression_edit.toPlainText())

    def commit_pending(self) -> None:
        """Push a half-typed impression/reader now (before saving or closing)."""
        if self.reader_edit.isModified():
            self._reader_edited()
        if self._impression_timer.isActive():
            self._impression_timer.stop()
            self._impression_edited()

    def _show_all_levels(self, on: bool) -> None:
        for model in (self.pars_model, self.level_model):
            model.set_levels(ALL_LEVELS if on else DEFAULT_LEVELS)

    def _show_error(self, text: str) -> None:
        self._show(f"Not changed: {text}", error=True)

    def _show(self, text: str, error: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setProperty("error", error)
        self.message_label.setStyleSheet("color: #ff8a80;" if error else "color: #a5d6a7;")
        self.sig_message.emit(text)

    # ------------------------------------------------------------------ files
    def save_to(self, path: str | Path) -> bool:
        self.commit_pending()
        try:
            p = self.session.save(path)
        except OSError as exc:
            self._show(f"Could not save {path}: {exc}", error=True)
            return False
        self._show(f"Saved findings to {p}")
        return True

    def open_from(self, path: str | Path, loaded: Any = None) -> bool:
        """Open a findings file now (``loaded``: its findings, already read by a worker)."""
        try:
            self.session.open(path, loaded=loaded)
        except findings_io.FindingsFileError as exc:
            self._show(str(exc), error=True)
            return False
        self._show(f"Opened findings {path}")
        return True

    def open_in_background(self, path: str | Path) -> None:
        """Read and validate the file in a worker thread (a 10 MB file takes about half a
        second), then open it here on the GUI thread; the Open button is off meanwhile."""
        self.open_button.setEnabled(False)
        self._show(f"Opening findings {path}…")
        worker = Worker(findings_io.load_findings, Path(path), pass_progress=False, tag=str(path))
        worker.signals.finished.connect(self._opened_in_background)
        worker.signals.failed.connect(self._open_failed)
        _RUNNING.add(worker)
        self._open_worker = worker
        start_worker(QThreadPool.globalInstance(), worker)

    @property
    def opening(self) -> bool:
        return not self.open_button.isEnabled()

    def _opened_in_background(self, path: str, findings: Any) -> None:
        if self._end_open():
            self.open_from(path, loaded=findings)

    def _open_failed(self, path: str, message: str) -> None:
        if self._end_open():
            self._show(message if path in message else f"{path}: {message}", error=True)

    def _end_open(self) -> bool:
        """Forget the worker; False when the panel no longer shows a study (switched meanwhile)."""
        if self._open_worker is not None:
            _RUNNING.discard(self._open_worker)
            self._open_worker = None
        self.open_button.setEnabled(True)
        return not self._detached

    def _default_dir(self) -> str:
        p = getattr(self.session, "path", None)
        return str(p.parent) if p else ""

    def save_dialog(self) -> None:
        default = str(self.session.path) if self.session.path else str(
            Path(self._default_dir()) / f"findings-{self.session.study_uid[-12:] or 'study'}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save findings", default, FINDINGS_FILTER)
        if path:
            self.save_to(path)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open findings", self._default_dir(), FINDINGS_FILTER)
        if path:
            self.open_in_background(path)

    def export_sr_to(self, path: str | Path, study_source: Any = None) -> bool:
        """Write the DICOM SR. ``study_source`` (folder / files / datasets of the study) defaults
        to ``session.study_source``; the SR references those images as evidence."""
        self.commit_pending()
        if study_source is not None:
            self.session.study_source = study_source
        try:
            out = self.session.export_sr(path, anonymised=self.anonymised)
        except Exception as exc:
            self._show(f"SR export failed: {exc}", error=True)
            return False
        self._show(f"Exported DICOM SR to {out}" + (" (identity anonymised)" if self.anonymised else ""))
        return True

    def export_sr_dialog(self) -> None:
        source = getattr(self.session, "study_source", None)
        if source is None:
            folder = QFileDialog.getExistingDirectory(self, "Folder with the study's images (SR evidence)",
                                                      self._default_dir())
            if not folder:
                return
            source = folder
        path, _ = QFileDialog.getSaveFileName(self, "Export DICOM SR", self._default_dir(), SR_FILTER)
        if path:
            self.export_sr_to(path, source)

    # ------------------------------------------------------------------ cleanup
    def cleanup(self) -> None:
        """Drop every subscription to the session (also called from closeEvent)."""
        self._detached = True
        self.commit_pending()
        for model in (self.pars_model, self.level_model):
            model.detach()
        with contextlib.suppress(Exception):
            self.session.findings_changed.disconnect(self._on_findings_changed)

    def closeEvent(self, event: Any) -> None:
        self.cleanup()
        super().closeEvent(event)
