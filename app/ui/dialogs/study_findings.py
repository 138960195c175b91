"""Open findings from the study: when an opened study holds Isthmus SRs, offer to load them.

``StudyFindingsDialog`` shows the Isthmus findings reports (author, date/time, contents; a version
picker, newest first) and, below, the structured reports Isthmus cannot load with the reason.
When an autosave was restored too, the reader chooses which to use (the autosave is kept as a
copy either way). ``StudyFindingsOffer`` runs the discovery in a worker after a study opens and
shows the dialog; loading goes through ``StudySession.open_sr`` (one undoable step, refused for
another patient's SR).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.dicom.model import ScanResult
from app.findings.sr_discovery import FoundSR, SRDiscovery, discover_in_scan, summary
from app.ui.workers import Worker, start_worker


def _table(name: str, headers: list[str], rows: Sequence[Sequence[str]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    for r, row in enumerate(rows):
        for col, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(r, col, item)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _unknown(text: str) -> str:
    return text or "unknown"


class StudyFindingsDialog(QDialog):
    """The version picker for the study's Isthmus SRs and the list of SRs Isthmus cannot load."""

    def __init__(self, discovery: SRDiscovery, autosave_restored: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Findings in this study")
        self.discovery = discovery
        layout = QVBoxLayout(self)
        n = len(discovery.isthmus)
        self.versions: QTableWidget | None = None
        self.use_autosave: QRadioButton | None = None
        self.use_sr: QRadioButton | None = None
        if n:
            head = ("This study holds Isthmus findings (DICOM SR)." if n == 1 else
                    f"This study holds {n} versions of Isthmus findings (DICOM SR), newest first. Pick one.")
            layout.addWidget(QLabel(head))
            versions = [(_unknown(f.date_time), _unknown(f.author), summary(f.findings) if f.findings else "",
                         f.path.name) for f in discovery.isthmus]
            self.versions = _table("srVersions", ["Date/time", "Author", "Contents", "File"], versions)
            self.versions.selectRow(0)
            layout.addWidget(self.versions)
            if autosave_restored:
                layout.addWidget(QLabel("Your autosaved work on this study was restored as well. Which do you want?"))
                self.use_autosave = QRadioButton("Keep working on the autosaved findings")
                self.use_sr = QRadioButton("Load the selected findings from the SR "
                                           "(the autosave is kept as a copy, and Edit > Undo brings it back)")
                self.use_autosave.setChecked(True)  # the reader's latest work stays unless they choose
                layout.addWidget(self.use_autosave)
                layout.addWidget(self.use_sr)
        if discovery.foreign:
            layout.addWidget(QLabel(f"{len(discovery.foreign)} structured report(s) of this study cannot be loaded "
                                    "by Isthmus:"))
            rows = [(f.title or "untitled SR", _unknown(f.author), _unknown(f.date_time), f.path.name, f.problem)
                    for f in discovery.foreign]
            self.foreign = _table("srForeign", ["Title", "Author", "Date/time", "File", "Why not loaded"], rows)
            self.foreign.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
            self.foreign.setWordWrap(True)
            self.foreign.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
            self.foreign.resizeRowsToContents()
            layout.addWidget(self.foreign)
        if n:
            buttons = QDialogButtonBox()
            label = "Continue" if self.use_sr is not None else "Load findings"
            self.load_button = buttons.addButton(label, QDialogButtonBox.ButtonRole.AcceptRole)
            self.load_button.setObjectName("loadFindings")
            buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        else:
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(900, 420 if discovery.foreign and n else 280)

    def selected(self) -> FoundSR | None:
        """The version picked in the table (None without Isthmus SRs)."""
        if self.versions is None:
            return None
        rows = self.versions.selectionModel().selectedRows()
        return self.discovery.isthmus[rows[0].row() if rows else 0]

    def chosen(self) -> FoundSR | None:
        """The SR to load once the dialog was accepted; None to keep the session as it is."""
        if self.result() != QDialog.DialogCode.Accepted:
            return None
        if self.use_sr is not None and not self.use_sr.isChecked():
            return None
        return self.selected()


class StudyFindingsOffer(QObject):
    """After a study opens: find its SRs in a worker, then offer them (non-blocking dialog)."""

    dialog_shown = Signal(object)  # the StudyFindingsDialog
    loaded = Signal(object)  # the FoundSR whose findings were loaded

    def __init__(self, parent_widget: QWidget, current_session: Callable[[], Any]) -> None:
        super().__init__(parent_widget)
        self.parent_widget = parent_widget
        self.current_session = current_session
        self.workers: list[Worker] = []  # kept until the next study: a runnable is never freed while it runs
        self.dialog: StudyFindingsDialog | None = None
        self.message: QMessageBox | None = None

    def start(self, session: Any, scan: ScanResult | None, autosave_restored: bool) -> None:
        """Look for SRs of ``session``'s study in ``scan`` (the viewer's scan) off the GUI thread."""
        for old in self.workers:
            old.cancel()
        self.workers = self.workers[-4:]
        if scan is None or not scan.skipped:
            return
        # the session weakly: the pool keeps every runnable it ran (app.ui.workers), and a closed
        # study's session must not live on through it
        worker = Worker(discover_in_scan, scan, session.study_uid, tag=(weakref.ref(session), autosave_restored))
        worker.signals.finished.connect(self._found)
        self.workers.append(worker)
        start_worker(QThreadPool.globalInstance(), worker)

    def _found(self, tag: Any, discovery: SRDiscovery) -> None:
        session_ref, autosave_restored = tag
        session = session_ref()
        if session is None or session is not self.current_session() or not discovery.anything:
            return  # another study was opened meanwhile, or there is nothing to offer
        if any(f.findings == session.findings for f in discovery.isthmus):
            discovery = SRDiscovery((), discovery.foreign, discovery.other_studies)  # already what is shown
            if not discovery.foreign:
                return
        self.show_dialog(session, discovery, autosave_restored)

    def show_dialog(self, session: Any, discovery: SRDiscovery, autosave_restored: bool) -> StudyFindingsDialog:
        dialog = StudyFindingsDialog(discovery, autosave_restored, self.parent_widget)
        dialog.finished.connect(lambda _code: self._closed(session, dialog))
        self.dialog = dialog
        dialog.open()
        self.dialog_shown.emit(dialog)
        return dialog

    def _closed(self, session: Any, dialog: StudyFindingsDialog) -> None:
        found = dialog.chosen()
        if found is None or session is not self.current_session():
            return
        from app.session import SessionError

        try:
            session.open_sr(found)
        except (SessionError, OSError) as exc:
            self._warn("Findings not loaded", str(exc))
            return
        self.loaded.emit(found)
        if session.autosave.notice:
            self._warn("Autosave kept", session.autosave.notice, QMessageBox.Icon.Information)

    def _warn(self, title: str, text: str, icon: QMessageBox.Icon = QMessageBox.Icon.Warning) -> None:
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self.parent_widget)
        box.setModal(False)
        box.show()
        self.message = box
