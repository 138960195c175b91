"""The study list of the start page: the local study database, searchable, with Import folder...,
Remove and Re-index. Database work that reads files (import, re-index, rebuild) runs in a worker
with a progress bar and Cancel; searches run on the GUI thread (they take milliseconds).

Identity is shown as the headers have it; with anonymised display on, names and IDs are hidden
(the search still works on them)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.studydb.database import StudyDatabase
from app.studydb.rows import StudyDbError, StudyRow, display_date
from app.ui.workers import Worker, start_worker
from app.viewer.identity import ANONYMISED, PatientIdentity

COLUMNS = ("Patient", "ID", "Date", "Modalities", "Description", "Series", "Source", "Findings SR")
UID_ROLE = Qt.ItemDataRole.UserRole + 3
HIDDEN = "(hidden)"


def row_texts(row: StudyRow, anonymised: bool) -> list[str]:
    """The cells of one study row (names and IDs hidden while anonymised)."""
    name = ANONYMISED if anonymised else PatientIdentity(row.patient_id, row.patient_name).display_name
    return [name, HIDDEN if anonymised else (row.patient_id or "(no ID)"), display_date(row.study_date),
            " ".join(row.modalities) or "-", row.description or "-", str(row.n_series), row.source,
            str(row.isthmus_sr_count) if row.isthmus_sr_count else "-"]


class StudyListPanel(QWidget):
    sig_open_requested = Signal(list)  # the study's files
    sig_add_to_clinic = Signal(list, str)  # ([the study's folder], study UID)
    sig_browse_requested = Signal()

    def __init__(self, db: StudyDatabase | None, parent: QWidget | None = None, anonymised: bool = False) -> None:
        super().__init__(parent)
        self.db = db
        self.anonymised = anonymised
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._worker: Worker | None = None
        self._on_done: Callable[[Any], None] | None = None
        self.rows: list[StudyRow] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("Studies"))
        self.search_box = QLineEdit()
        self.search_box.setObjectName("StudySearch")
        self.search_box.setPlaceholderText("Search patient name, ID, description, accession...")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.textChanged.connect(lambda *_: self.refresh())
        head.addWidget(self.search_box, 1)
        self.modality = QComboBox()
        self.modality.addItems(["All", "CT", "MR", "DX", "CR", "SR"])
        self.modality.currentIndexChanged.connect(lambda *_: self.refresh())
        head.addWidget(self.modality)
        lay.addLayout(head)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("StudyTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(lambda r, _c: self.open_row(r))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_menu)
        lay.addWidget(self.table, 1)
        self.empty_hint = QLabel("")  # what to do when the list is empty (shown instead of a blank table)
        self.empty_hint.setObjectName("StudyListEmpty")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setVisible(False)
        lay.addWidget(self.empty_hint)
        self.message = QLabel("")
        self.message.setObjectName("StudyListMessage")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        lay.addWidget(self.message)
        busy = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        lay.addLayout(busy)
        buttons = QHBoxLayout()
        self.import_button = QPushButton("Import folder...")
        self.import_button.clicked.connect(self._ask_import)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._ask_remove)
        self.reindex_button = QPushButton("Re-index")
        self.reindex_button.clicked.connect(self.reindex)
        self.browse_button = QPushButton("Open folder...")
        self.browse_button.clicked.connect(self.sig_browse_requested.emit)
        for b in (self.import_button, self.remove_button, self.reindex_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.browse_button)
        lay.addLayout(buttons)
        if db is None:
            self._tell("The study database is not available; studies can still be opened from folders.")
            for b in (self.import_button, self.remove_button, self.reindex_button):
                b.setEnabled(False)
        elif db.recovery_message:
            self._tell(db.recovery_message)
        self.refresh()
        if db is not None and db.needs_rebuild:
            self._run(db.rebuild, "Rebuilding the study database", lambda r: self._tell(db.recovery_message or ""))

    # ---- list ------------------------------------------------------------------------------
    def refresh(self) -> None:
        modality = self.modality.currentText()
        try:
            self.rows = [] if self.db is None else self.db.search(
                self.search_box.text(), modality="" if modality == "All" else modality)
        except StudyDbError as exc:
            self.rows = []
            self._tell(str(exc))
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            for c, text in enumerate(row_texts(row, self.anonymised)):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setData(UID_ROLE, row.study_uid)
                if c in (5, 7):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, c, item)
        self.remove_button.setEnabled(self.db is not None and bool(self.rows))
        self.empty_hint.setText(self._empty_text())
        self.empty_hint.setVisible(not self.rows and self.db is not None)

    def _empty_text(self) -> str:
        if self.rows:
            return ""
        if self.search_box.text().strip() or self.modality.currentText() != "All":
            return "No study matches this search."
        return ("No studies yet. Add a folder with Import folder... (or open one with Open folder...), retrieve "
                "one with File > Query PACS..., or double-click a sample case on the left.")

    def set_anonymised(self, on: bool) -> None:
        self.anonymised = bool(on)
        self.refresh()

    def selected_uid(self) -> str:
        r = self.table.currentRow()
        return self.rows[r].study_uid if 0 <= r < len(self.rows) else ""

    def open_row(self, r: int) -> None:
        files = self._files(self.rows[r].study_uid) if 0 <= r < len(self.rows) else []
        if files:
            self.sig_open_requested.emit(files)

    def _files(self, uid: str) -> list[str]:
        try:
            return [str(p) for p in self.db.study_files(uid)] if self.db is not None else []
        except StudyDbError as exc:
            self._tell(str(exc))
            return []

    def study_menu(self, r: int) -> QMenu | None:
        """The row's menu: Open, Add to clinic list..., Remove from the list (None off the rows)."""
        if not 0 <= r < len(self.rows):
            return None
        uid = self.rows[r].study_uid
        menu = QMenu(self)
        menu.addAction("Open").triggered.connect(lambda *_: self.open_row(r))
        add = menu.addAction("Add to clinic list...")
        add.setObjectName("start.add_to_clinic")
        add.triggered.connect(lambda *_: self._add_to_clinic(uid))
        menu.addAction("Remove from the list...").triggered.connect(lambda *_: self._ask_remove(uid))
        return menu

    def _add_to_clinic(self, uid: str) -> None:
        files = self._files(uid)
        if files:  # the folder holding the study (the UID picks it out of a shared folder)
            self.sig_add_to_clinic.emit([os.path.commonpath([os.path.dirname(f) for f in files])], uid)

    def _show_menu(self, pos: Any) -> None:
        menu = self.study_menu(self.table.rowAt(pos.y()))
        if menu is not None:
            menu.exec(self.table.viewport().mapToGlobal(pos))

    def _tell(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ---- actions ---------------------------------------------------------------------------
    def _ask_import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import DICOM folder into the study list")
        if folder:
            self.import_paths([folder])

    def import_paths(self, paths: list[str], mode: str = "link") -> None:
        if self.db is not None:
            db = self.db
            self._run(lambda progress, cancel: db.import_paths(paths, mode=mode, progress=progress, cancel=cancel),
                      "Importing", lambda report: self._tell(f"Imported {report.summary()}."))

    def reindex(self) -> None:
        if self.db is not None:
            self._run(self.db.reindex, "Re-indexing", lambda report: self._tell(f"Re-indexed: {report.summary()}."))

    def _ask_remove(self, uid: str = "") -> None:
        uid = uid or self.selected_uid()
        if not uid or self.db is None:
            return
        row = next(r for r in self.rows if r.study_uid == uid)
        who = ANONYMISED if self.anonymised else PatientIdentity(row.patient_id, row.patient_name).display_name
        what = f"{display_date(row.study_date)}, {row.description or 'no description'}"
        answer = QMessageBox.question(self, "Remove study", f"Remove the study of {who} ({what}) from the study list?"
                                      "\n\nFiles in your folders are not deleted.")
        if answer == QMessageBox.StandardButton.Yes:
            self.remove(uid)

    def remove(self, uid: str, delete_files: bool = False) -> None:
        if self.db is None:
            return
        try:
            self.db.remove_study(uid, delete_files=delete_files)
        except StudyDbError as exc:
            self._tell(str(exc))
        self.refresh()

    # ---- worker ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._worker is not None

    def _run(self, fn: Callable[..., Any], label: str, on_done: Callable[[Any], None]) -> None:
        if self._worker is not None:
            self._tell("Still busy with the previous task; wait for it or cancel it.")
            return
        worker = Worker(fn, tag=label)
        worker.signals.progress.connect(self._on_progress)
        worker.signals.finished.connect(self._on_finished)
        worker.signals.failed.connect(self._on_failed)
        worker.signals.cancelled.connect(self._on_cancelled)
        self._worker, self._on_done = worker, on_done
        self.progress.setFormat(f"{label}: %v of %m files")
        self.progress.setRange(0, 0)
        for w in (self.progress, self.cancel_button):
            w.setVisible(True)
        for b in (self.import_button, self.reindex_button, self.remove_button):
            b.setEnabled(False)
        start_worker(self.pool, worker)

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def _on_progress(self, _tag: object, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))

    def _finish(self) -> None:
        self._worker, self._on_done = None, None
        for w in (self.progress, self.cancel_button):
            w.setVisible(False)
        for b in (self.import_button, self.reindex_button):
            b.setEnabled(self.db is not None)
        self.refresh()

    def _on_finished(self, _tag: object, result: object) -> None:
        on_done = self._on_done
        self._finish()
        if on_done is not None:
            on_done(result)

    def _on_failed(self, tag: object, message: str) -> None:
        self._finish()
        self._tell(f"{tag} failed: {message}")

    def _on_cancelled(self, tag: object) -> None:
        self._finish()
        self._tell(f"{tag}: cancelled.")

    def shutdown(self) -> None:
        self.cancel()
        self.pool.waitForDone(5000)

